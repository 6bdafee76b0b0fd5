"""Chinese prompt templates, shipped in the wheel as `assistant.prompts` (pyproject maps this folder there).

`load_prompt(name)` lives here rather than in an `assistant/prompts.py` module: a module of that name would
shadow this package in a source checkout (and be shadowed by it in the wheel), so the templates and their
loader share one import path, `assistant.prompts`, in both layouts.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

__all__ = ["load_prompt", "prompt_names", "render_prompt"]

_FIELD = re.compile(r"\{(\w+)\}")


@cache
def load_prompt(name: str) -> str:
    """The template `prompts/<name>.txt` (UTF-8, trailing newline stripped)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name or ""):
        raise KeyError(f"invalid prompt name: {name!r}")
    resource = resources.files(__name__).joinpath(f"{name}.txt")
    if not resource.is_file():
        raise KeyError(f"no prompt named {name!r}; known: {', '.join(prompt_names())}")
    return resource.read_text(encoding="utf-8").rstrip("\n")


def prompt_names() -> list[str]:
    return sorted(p.name[:-4] for p in resources.files(__name__).iterdir() if p.name.endswith(".txt"))


def render_prompt(name: str, **values: str) -> str:
    """Fill `{field}` slots; values are inserted verbatim (braces inside passages are safe)."""
    template = load_prompt(name)
    missing = set(_FIELD.findall(template)) - set(values)
    if missing:
        raise KeyError(f"prompt {name!r} needs {', '.join(sorted(missing))}")
    return _FIELD.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)
