"""The exception tree drawn in `assistant/errors.py`'s docstring is the real one: every `AssistantError` subclass
anywhere in the package is drawn under its real parent with its real HTTP status, and nothing else is."""

from __future__ import annotations

import ast
import importlib
import re
import warnings

import pytest
from conftest import ROOT

from assistant import errors
from assistant.errors import AssistantError

ENTRY = re.compile(r"^(?P<indent>[│ ]*)[├└]── (?P<name>[\w.]+)(?: \((?P<status>\d+)\))?")


def drawn_tree() -> dict[type, tuple[type, int | None]]:
    """class → (parent drawn above it, status written beside it) from the docstring."""
    tree: dict[type, tuple[type, int | None]] = {}
    parents: list[type] = [AssistantError]
    for line in errors.__doc__.splitlines():
        m = ENTRY.match(line)
        if not m:
            continue
        depth = len(m["indent"]) // 4 + 1
        module, _, name = m["name"].rpartition(".")
        cls = getattr(importlib.import_module(f"assistant.{module or 'errors'}"), name)
        del parents[depth:]
        tree[cls] = (parents[-1], int(m["status"]) if m["status"] else None)
        parents.append(cls)
    return tree


def all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | all_subclasses(sub)
    return found


def test_the_docstring_draws_the_real_tree():
    for path in (ROOT / "assistant").rglob("*.py"):
        importlib.import_module(
            ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        )
    tree = drawn_tree()
    real = {cls for cls in all_subclasses(AssistantError) if cls.__module__.startswith("assistant.")}
    missing = sorted(f"{c.__module__}.{c.__name__}" for c in real - set(tree))
    assert not missing, f"add these to the tree in assistant/errors.py's docstring: {missing}"
    for cls, (parent, status) in tree.items():
        assert cls.__bases__ == (parent,), f"{cls.__name__} is drawn under {parent.__name__}"
        assert status is None or cls.status == status, f"{cls.__name__} is {cls.status}, drawn as {status}"
    assert "AssistantError (400)" in errors.__doc__ and AssistantError.status == 400


def test_every_class_of_the_tree_is_raised_somewhere():
    """A class nobody constructs is a status the surfaces claim to send and never do."""
    called: set[str] = set()
    for path in (ROOT / "assistant").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                called.add(func.id if isinstance(func, ast.Name) else getattr(func, "attr", ""))
    never = sorted(cls.__name__ for cls in drawn_tree() if cls.__name__ not in called)
    assert not never, f"never raised: {never} — raise them or take them out of the tree"


def test_our_own_warnings_fail_the_tests():
    """pyproject's filterwarnings: a warning attributed to a module of assistant/ is an error; a library's own
    deprecation noise is not."""
    with pytest.raises(DeprecationWarning):
        warnings.warn_explicit("deprecated call", DeprecationWarning, "ui.py", 1, module="assistant.ui")
    with pytest.raises(UserWarning):
        warnings.warn_explicit("ours", UserWarning, "service.py", 1, module="assistant.service")
    warnings.warn_explicit("library noise", DeprecationWarning, "blocks.py", 1, module="gradio.blocks")
