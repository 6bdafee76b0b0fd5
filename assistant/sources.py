"""Readable names for documents: title, place and date — never an internal hash file name.

Shared by the course pack (references, group headings), the chat UI (参考资料, the source panel, the copied
answer), the /v1 answer's 参考资料 and `assistant ask`. A document is a `StoredDocument` or a partial dict of the
same fields (`title`, `region`, `date`, `file`, `source`: what the chat keeps of a citation); a missing field
counts as empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import PurePath

from .answer.citations import neutralize_links

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


_NAME_FIELDS = ("title", "source", "file", "region", "date")


def cited_document(citation, documents: Mapping) -> dict:
    """What names a citation's document: the fields of `documents[citation.doc_id]` (doc_id → `StoredDocument`,
    e.g. `Snapshot.documents`), each missing one (the document deleted since the answer) the citation's own."""
    doc = documents.get(_field(citation, "doc_id")) or {}
    return {k: _field(doc, k) or _field(citation, k) for k in _NAME_FIELDS}


def references_block(citations: Sequence, documents: Mapping) -> str:
    """参考资料 as text — the /v1 answer's tail, `assistant ask`, the chat's copied answer: `参考资料：`, then per
    citation `[n] 《标题》（地区，日期）：“引文”`. Link syntax is neutralised (a chat client renders this text; the
    quote in `citations` stays verbatim). A citation is a `Citation` or its dict."""
    if not citations:
        return ""
    lines = [
        neutralize_links(
            f"[{_field(c, 'n')}] {source_label(cited_document(c, documents))}：“{_field(c, 'quote')}”"
        )
        for c in citations
    ]
    return "\n".join(["参考资料：", *lines])


def with_references(answer: str, citations: Sequence, documents: Mapping) -> str:
    """The answer, a blank line, then its 参考资料 (`references_block`); the answer alone when nothing is cited."""
    block = references_block(citations, documents)
    return f"{answer}\n\n{block}" if block else answer
