"""Sentence spans of the stored text, packed into overlapping chunks.

Offsets are computed once, here; chunk text is always `text[start:end]`, never searched for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .corpus import Document
from .punctuation import SENTENCE_END

_SOFT_CUT = re.compile(r"[；;，,]")
HEADING_MAX = 40


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str


def split_sentences(text: str, max_sentence_chars: int = 200) -> list[tuple[int, int]]:
    """Ordered, disjoint (start, end) spans covering all non-space text.

    A sentence ends after 。！？!?… plus closing quotes/brackets, and at every line break; `.` never ends one
    (3.5%). A sentence longer than `max_sentence_chars` is cut after its last ；，;, before the limit.
    """
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        pos, line_end = line.start(), line.end()
        for m in SENTENCE_END.finditer(text, pos, line_end):
            _add_span(text, pos, m.end(), spans, max_sentence_chars)
            pos = m.end()
        _add_span(text, pos, line_end, spans, max_sentence_chars)
    return spans


def _add_span(text: str, start: int, end: int, spans: list, limit: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    while end - start > limit:
        cut = None
        for m in _SOFT_CUT.finditer(text, start, start + limit):
            cut = m.end()
        if cut is None or cut - start < limit // 4:
            cut = start + limit
        spans.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        spans.append((start, end))


def is_heading(text: str, span: tuple[int, int]) -> bool:
    """A short line with no end punctuation: a heading, caption or byline, which starts a chunk."""
    s, e = span
    line_start = text.rfind("\n", 0, s) + 1
    line_end = text.find("\n", e)
    line_end = len(text) if line_end < 0 else line_end
    whole_line = text[line_start:line_end].strip() == text[s:e]
    return whole_line and e - s <= HEADING_MAX and not SENTENCE_END.search(text[s:e][-3:])


def chunk_document(
    doc: Document, target_chars: int = 300, max_chars: int = 500, max_sentence_chars: int = 200
) -> list[Chunk]:
    """Whole sentences up to ~target_chars, one sentence of overlap; a heading after body text starts a chunk."""
    text = doc.text
    sentences = split_sentences(text, max_sentence_chars)
    groups: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    current_has_body = False
    for span in sentences:
        heading = is_heading(text, span)
        if current:
            size = span[1] - current[0][0]
            if heading and current_has_body:
                groups.append(current)
                current, current_has_body = [], False
            elif size > target_chars and current_has_body:
                groups.append(current)
                last = current[-1]
                keep = not is_heading(text, last) and len(current) > 1 and span[1] - last[0] <= max_chars
                current = [last] if keep else []
                current_has_body = keep
        current.append(span)
        current_has_body = current_has_body or not heading
    if current:
        if groups and not current_has_body and groups[-1][-1][1] - groups[-1][0][0] + 50 <= max_chars:
            groups[-1].extend(current)  # a trailing caption joins the chunk before it
        else:
            groups.append(current)
    chunks = []
    for ordinal, group in enumerate(groups):
        start, end = group[0][0], group[-1][1]
        chunks.append(Chunk(f"{doc.doc_id}-{ordinal:04d}", doc.doc_id, ordinal, start, end, text[start:end]))
    return chunks
