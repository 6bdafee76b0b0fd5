"""Readable names for documents: title, place and date — never an internal hash file name.

Shared by the course pack (references, group headings) and the chat UI (参考资料). A document record is the
dict the store keeps (`title`, `region`, `date`, `file`, `source`); every function accepts a partial one.
"""

from __future__ import annotations

import re
from pathlib import PurePath

# `002_e3e3c721f5a2a88d.txt`, `e3e3c721f5a2a88d.pdf`, `upload-1f2e…`: machine names that tell a reader nothing
_MACHINE_NAME = re.compile(r"^(?:\d{1,4}[_-])?(?:upload[_-])?[0-9a-f]{12,64}$", re.I)


def is_machine_name(name: str) -> bool:
    stem = PurePath(name or "").stem
    return not stem or bool(_MACHINE_NAME.match(stem))


def readable_file(doc: dict) -> str:
    """The original file name if a person gave it (`source`, else the corpus file name); '' if both are hashes."""
    for key in ("source", "file"):
        name = PurePath(str(doc.get(key) or "")).name
        if name and not is_machine_name(name):
            return name
    return ""


def source_place_date(doc: dict) -> str:
    """`贵州省安顺市，2022-02-11`: the place and date of a document, when known."""
    return "，".join(
        p for p in (str(doc.get("region") or "").strip(), str(doc.get("date") or "").strip()) if p
    )


def source_title(doc: dict) -> str:
    """The title; without one, the readable file name; as a last resort 未命名文档."""
    title = str(doc.get("title") or "").strip()
    if title and not is_machine_name(title):
        return title
    return readable_file(doc) or "未命名文档"


def source_label(doc: dict) -> str:
    """One line for a reference list: `《标题》（地区，日期）`, the file name only when there is no title."""
    meta = source_place_date(doc)
    title = str(doc.get("title") or "").strip()
    if title and not is_machine_name(title):
        head = f"《{title}》"
    else:
        head = readable_file(doc) or "未命名文档"
    return head + (f"（{meta}）" if meta else "")
