"""Snapshots built in memory from texts, from rows as the index builds them: for tests of single pieces."""

from __future__ import annotations

import hashlib

from assistant.lexical import tokenize
from assistant.retrieval import Snapshot
from assistant.store import Rows


def doc_id_of(text: str) -> str:
    """As in the index, a document's id follows its text (cached sentence views are keyed by it)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def snapshot_of(
    texts: list[str], titles: list[str] | None = None, cuts: list[list[int]] | None = None
) -> Snapshot:
    """One document per text, titled `titles[i]` (else 文档i), its chunks ending at the offsets `cuts[i]` (else one
    chunk holding it whole)."""
    documents, chunks = {}, []
    for i, text in enumerate(texts):
        doc_id = doc_id_of(text)
        ends = cuts[i] if cuts else [len(text)]
        documents[doc_id] = {
            "doc_id": doc_id,
            "text": text,
            "file": f"{i}.txt",
            "source": f"{i}.txt",
            "title": titles[i] if titles else f"文档{i}",
            "region": "",
            "date": "",
            "chars": len(text),
            "added_at": f"2024-01-01T00:00:{i % 60:02d}",
            "parser": "text",
            "chunks": len(ends),
        }
        for n, (start, end) in enumerate(zip([0, *ends[:-1]], ends)):
            chunks.append(
                {
                    "chunk_id": f"{doc_id}-{n}",
                    "doc_id": doc_id,
                    "ordinal": n,
                    "start": start,
                    "end": end,
                    "tokens": tokenize(text[start:end]),
                }
            )
    return Snapshot.from_rows(Rows(1, documents, chunks))
