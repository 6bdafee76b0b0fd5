"""Module hygiene: every module of `assistant/` imports on its own in a fresh interpreter, and the modules'
imports of each other form no cycle (module-level and function-level imports alike; `if TYPE_CHECKING:` blocks
are not imports at run time)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, cli_env

PACKAGE = ROOT / "assistant"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of every node inside an `if TYPE_CHECKING:` block."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    skipped.update(id(n) for n in ast.walk(child))
    return skipped


def imported_modules(name: str, path: Path) -> set[str]:
    """The modules of the package that `name` imports (`from . import x` counts as module x when x is one)."""
    tree = ast.parse(path.read_text("utf-8"))
    skipped = _type_checking_nodes(tree)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                found.add(full if full in MODULES else target)
    return {m for m in found if m in MODULES and m != name}


def import_graph() -> dict[str, set[str]]:
    return {name: imported_modules(name, path) for name, path in MODULES.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_relative_imports_are_resolved():
    graph = import_graph()
    assert "assistant.http.deps" in graph["assistant.http.routes.openai"]
    assert "assistant.answer.citations" in graph["assistant.service"]
    assert "assistant.errors" in graph["assistant.corpus"]


def test_no_import_cycle_inside_the_package():
    graph = import_graph()
    assert find_cycles(graph) == [], (
        "import cycle(s) inside assistant/ — move the shared names to a lower module"
    )


def test_the_readme_maps_every_module():
    """The developer section's table names every module of the package (path under assistant/)."""
    readme = (ROOT / "README.md").read_text("utf-8")
    table = readme[readme.index("| module | owns |") :].split("\n\n", 1)[0]
    named = set(re.findall(r"^\| `([^`]+)`", table, re.M))
    modules = {
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py" or p.parent == PACKAGE
    }
    missing = sorted(modules - named)
    assert not missing, f"add these modules to the README's module table (Developer notes): {missing}"


def third_party_imports() -> set[str]:
    """Modules outside assistant/ that its modules import (at module level or in functions), submodules too."""
    found: set[str] = set()
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)  # maybe a submodule
    return {m for m in found if m.split(".")[0] not in ("assistant", "__future__")}


# A parent interpreter preloads the third-party packages (gradio alone takes ~5 s to import), then forks one
# child per module of ours: each child starts with none of assistant/ loaded, so a module that only imports after
# another of ours (a cycle, a missing import of ours) still fails, at a fraction of a fresh interpreter's cost.
_FORKING_CHECKER = """
import importlib, json, os, sys, traceback
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except BaseException:
        pass  # not a module (a name imported from one), or an optional extra not installed: the child imports it itself (and fails if it must)
results = {}
for module in json.loads(sys.argv[2]):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(module)
            message, code = b"", 0
        except BaseException:
            message, code = traceback.format_exc().encode(), 1
        os.write(write, message[-3000:])
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        error = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    results[module] = "" if os.waitstatus_to_exitcode(status) == 0 else error or f"exit status {status}"
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def import_results() -> dict[str, str]:
    """Module → the error its import raised in a child with nothing of assistant/ loaded ("" = imported)."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _FORKING_CHECKER,
            json.dumps(sorted(third_party_imports())),
            json.dumps(sorted(MODULES)),
        ],
        cwd=ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_checker_catches_a_module_that_needs_another_imported_first(tmp_path):
    """The forking checker itself: a module whose import only works after another one fails alone."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helper.py").write_text("import sys\nsys.modules['pkg'].ready = True\n")
    (package / "needs.py").write_text("import pkg\nassert pkg.ready, 'helper not imported'\n")
    result = subprocess.run(
        [sys.executable, "-c", _FORKING_CHECKER, "[]", json.dumps(["pkg.helper", "pkg.needs", "pkg.helper"])],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    results = json.loads(result.stdout)
    assert results["pkg.helper"] == ""
    assert "helper not imported" in results["pkg.needs"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_on_its_own(module, import_results):
    assert import_results[module] == "", import_results[module]
