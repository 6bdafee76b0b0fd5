"""Readable names for documents: title, place and date — never an internal hash file name.

Shared by the course pack (references, group headings) and the chat UI (参考资料, the source panel). A document
is a `StoredDocument` or a partial dict of the same fields (`title`, `region`, `date`, `file`, `source`: what the
chat keeps of a citation); a missing field counts as empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePath

# `002_e3e3c721f5a2a88d.txt`, `e3e3c721f5a2a88d.pdf`, `upload-1f2e…`: machine names that tell a reader nothing
_MACHINE_NAME = re.compile(r"^(?:\d{1,4}[_-])?(?:upload[_-])?[0-9a-f]{12,64}$", re.I)


def _field(doc, name: str) -> str:
    value = doc.get(name) if isinstance(doc, Mapping) else getattr(doc, name, "")
    return str(value or "")


def is_machine_name(name: str) -> bool:
    stem = PurePath(name or "").stem
    return not stem or bool(_MACHINE_NAME.match(stem))


def readable_file(doc) -> str:
    """The original file name if a person gave it (`source`, else the corpus file name); '' if both are hashes."""
    for key in ("source", "file"):
        name = PurePath(_field(doc, key)).name
        if name and not is_machine_name(name):
            return name
    return ""


def source_place_date(doc) -> str:
    """`贵州省安顺市，2022-02-11`: the place and date of a document, when known."""
    return "，".join(p for p in (_field(doc, "region").strip(), _field(doc, "date").strip()) if p)


def source_title(doc) -> str:
    """The title; without one, the readable file name; as a last resort 未命名文档."""
    title = _field(doc, "title").strip()
    if title and not is_machine_name(title):
        return title
    return readable_file(doc) or "未命名文档"


def source_label(doc) -> str:
    """One line for a reference list: `《标题》（地区，日期）`, the file name only when there is no title."""
    meta = source_place_date(doc)
    title = _field(doc, "title").strip()
    if title and not is_machine_name(title):
        head = f"《{title}》"
    else:
        head = readable_file(doc) or "未命名文档"
    return head + (f"（{meta}）" if meta else "")
