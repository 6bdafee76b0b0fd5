"""Hybrid search: dense (Chroma) and BM25 candidates fused by weighted reciprocal rank.

Readers work on an immutable `Snapshot` of one committed generation; the service swaps in a new one after
each commit, so a reader never sees half a write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .chunking import split_sentences
from .lexical import BM25Index, normalise, quoted_phrases, tokenize
from .store import IndexStore, Rows


@dataclass(frozen=True)
class ChunkRow:
    chunk_id: str
    doc_id: str
    ordinal: int
    start: int
    end: int


@dataclass
class Hit:
    chunk: ChunkRow
    doc: dict
    text: str
    score: float
    cosine: float = 0.0
    bm25: float = 0.0
    dense_rank: int | None = None
    bm25_rank: int | None = None

    def to_dict(self) -> dict:
        return {
            "doc_id": self.chunk.doc_id,
            "title": self.doc["title"],
            "source": self.doc["source"],
            "chunk_id": self.chunk.chunk_id,
            "text": self.text,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "score": round(self.score, 4),
        }


@dataclass
class Snapshot:
    generation: int
    documents: dict[str, dict]
    chunks: list[ChunkRow]
    bm25: BM25Index
    sentence_spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Rows, max_sentence_chars: int = 200) -> Snapshot:
        chunks = [
            ChunkRow(c["chunk_id"], c["doc_id"], c["ordinal"], c["start"], c["end"]) for c in rows.chunks
        ]
        bm25 = BM25Index([c["tokens"] for c in rows.chunks])
        spans = {
            doc_id: split_sentences(d["text"], max_sentence_chars) for doc_id, d in rows.documents.items()
        }
        return cls(rows.generation, rows.documents, chunks, bm25, spans)

    @cached_property
    def normalised_texts(self) -> list[str]:
        return [normalise(d["text"]) for d in self.documents.values()]

    @cached_property
    def spelling(self):
        """Typo correction against the words this corpus uses (built on first use)."""
        from .spelling import SpellingIndex

        return SpellingIndex(self.normalised_texts)

    def mentions(self, term: str) -> bool:
        """Does any document contain `term` (normalised)? Cached per term."""
        cache = self.__dict__.setdefault("_mentions", {})
        if term not in cache:
            if len(cache) > 10_000:
                cache.clear()
            cache[term] = any(term in t for t in self.normalised_texts)
        return cache[term]

    @cached_property
    def normalised_chunks(self) -> list[str]:
        return [normalise(self.text_of(c)) for c in self.chunks]

    @cached_property
    def phrases(self) -> frozenset[str]:
        """Quoted phrases of the corpus (“碧·有服务”), recognised in questions even when typed without quotes."""
        return frozenset(p for d in self.documents.values() for p in quoted_phrases(d["text"]) if len(p) >= 3)

    def phrases_in(self, query: str) -> list[str]:
        norm = re.sub(r"\s+", "", normalise(query))
        found = set(quoted_phrases(query)) | {p for p in self.phrases if p in norm}
        return sorted(p for p in found if not any(p != q and p in q for q in found))

    @cached_property
    def position(self) -> dict[str, int]:
        return {c.chunk_id: i for i, c in enumerate(self.chunks)}

    def text_of(self, chunk: ChunkRow) -> str:
        return self.documents[chunk.doc_id]["text"][chunk.start : chunk.end]

    def sentences_in(self, chunk: ChunkRow) -> list[tuple[int, int]]:
        return [s for s in self.sentence_spans[chunk.doc_id] if s[0] >= chunk.start and s[1] <= chunk.end]


def rrf(rank: int | None, k: int) -> float:
    return 0.0 if rank is None else 1.0 / (k + rank + 1)


def search(
    snapshot: Snapshot,
    store: IndexStore,
    query: str,
    question_vector: np.ndarray,
    top_k: int,
    candidates: int = 30,
    rrf_k: int = 60,
    dense_weight: float = 1.0,
    bm25_weight: float = 1.0,
    phrase_weight: float = 1.0,
) -> list[Hit]:
    """Top-k chunks by fused rank; `score` is 1.0 for a chunk ranked first by both retrievers."""
    if not snapshot.chunks:
        return []
    known = snapshot.position
    dense = [(cid, cos) for cid, cos in store.dense_query(question_vector, candidates) if cid in known]
    dense_rank = {cid: r for r, (cid, _) in enumerate(dense)}
    cosine = dict(dense)

    phrases = snapshot.phrases_in(query)
    tokens = tokenize(query) + [p for p in phrases if p not in quoted_phrases(query)]
    scores = snapshot.bm25.scores(tokens)
    order = [i for i in np.argsort(-scores, kind="stable")[:candidates] if scores[i] > 0]
    bm25_rank = {snapshot.chunks[i].chunk_id: r for r, i in enumerate(order)}

    # chunks holding a domain phrase of the query verbatim form a third ranked list
    phrase_rank = {
        snapshot.chunks[i].chunk_id: r for r, i in enumerate(_phrase_order(snapshot, phrases, scores))
    }
    phrase_weight = phrase_weight if phrase_rank else 0.0
    best = (dense_weight + bm25_weight + phrase_weight) * rrf(0, rrf_k)
    fused = []
    for cid in set(dense_rank) | set(bm25_rank) | set(phrase_rank):
        s = (
            dense_weight * rrf(dense_rank.get(cid), rrf_k)
            + bm25_weight * rrf(bm25_rank.get(cid), rrf_k)
            + phrase_weight * rrf(phrase_rank.get(cid), rrf_k)
        )
        fused.append((s / best, cid))
    fused.sort(key=lambda x: (-x[0], x[1]))
    missing = [cid for _, cid in fused[:top_k] if cid not in cosine]
    if missing:
        cosine.update(store.cosines(missing, question_vector))
    hits = []
    for score, cid in fused[:top_k]:
        chunk = snapshot.chunks[known[cid]]
        hits.append(
            Hit(
                chunk,
                snapshot.documents[chunk.doc_id],
                snapshot.text_of(chunk),
                score,
                cosine.get(cid, 0.0),
                float(scores[known[cid]]),
                dense_rank.get(cid),
                bm25_rank.get(cid),
            )
        )
    return hits


def _phrase_order(snapshot: Snapshot, phrases: list[str], scores: np.ndarray) -> list[int]:
    """Chunks containing the query's domain phrases verbatim (jieba splits “碧·有服务”), most phrases first."""
    if not phrases:
        return []
    matches = []
    for i, chunk in enumerate(snapshot.chunks):
        text = re.sub(r"\s+", "", normalise(snapshot.text_of(chunk)))
        n = sum(1 for p in phrases if p in text)
        if n:
            matches.append((-n, -float(scores[i]), i))
    return [i for *_, i in sorted(matches)]
