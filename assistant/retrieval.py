"""Hybrid search: dense (Chroma) and BM25 candidates fused by weighted reciprocal rank.

Readers work on an immutable `Snapshot` of one committed generation; the service swaps in a new one after
each commit, so a reader never sees half a write. A commit costs O(the documents it changed): `updated`
derives the next snapshot from the previous one and the store's `changes_since`, sharing everything else
(BM25 term statistics, the character index, the phrase counts); removed chunks leave dead slots until
`needs_rebuild` asks for a full load. Document texts are read from the store on demand (`DocumentTexts`).
"""

from __future__ import annotations

import heapq
import logging
import os
import pickle
import threading
from bisect import bisect_left, bisect_right
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np

from . import PIPELINE_VERSION
from .chunking import split_sentences
from .lexical import BM25Index, asks_yes_no, normalise, quoted_phrases, tokenize
from .store import DOCUMENT_FIELDS, Changes, IndexStore, Rows
from .textindex import ChunkTexts, matching_text, without_space

log = logging.getLogger(__name__)

SNAPSHOT_FORMAT = 1  # bump when what `Snapshot.save` writes changes
MIN_PHRASE_CHARS = 3  # shorter quoted words (“两新”) are too common to single out chunks
REBUILD_DEAD_SHARE = 0.25  # dead slots (removed chunks) beyond this share of all: load everything afresh
REBUILD_DEAD_MIN = 2000


@dataclass(frozen=True, slots=True)
class ChunkRow:
    chunk_id: str
    doc_id: str
    ordinal: int
    start: int
    end: int


class DocumentTexts:
    """Document texts and their sentence spans, read on demand and kept for the most recently used documents.

    A doc_id is the hash of its text, so a kept text never goes stale; processes hold only what questions
    are reading now, not the corpus."""

    def __init__(self, read: Callable[[str], str | None], keep: int = 64):
        self._read = read
        self._keep = keep
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._spans: OrderedDict[tuple[str, int], list[tuple[int, int]]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def held(cls, texts: dict[str, str]) -> DocumentTexts:
        """Texts already in memory (tests, and readers without a store)."""
        return cls(texts.get, keep=0)

    def _remember(self, cache: OrderedDict, key, value) -> None:
        with self._lock:
            cache[key] = value
            cache.move_to_end(key)
            while len(cache) > self._keep:
                cache.popitem(last=False)

    def __call__(self, doc_id: str) -> str:
        text = self._texts.get(doc_id)
        if text is None:
            text = self._read(doc_id) or ""  # "" only for a document removed since this reader's snapshot
            self._remember(self._texts, doc_id, text)
        return text

    def prime(self, doc_id: str, text: str) -> None:
        """A text just loaded anyway (an added document): the first question about it need not read it."""
        self._remember(self._texts, doc_id, text)

    def spans(self, doc_id: str, max_sentence_chars: int) -> list[tuple[int, int]]:
        key = (doc_id, max_sentence_chars)
        spans = self._spans.get(key)
        if spans is None:
            spans = split_sentences(self(doc_id), max_sentence_chars)
            self._remember(self._spans, key, spans)
        return spans


@dataclass(frozen=True)
class StoredDocument:
    """A committed document's metadata; `text` is read on demand."""

    doc_id: str  # the fields of store.DOCUMENT_FIELDS, in that order (`Snapshot.load` builds it by position)
    file: str
    source: str
    title: str
    region: str
    date: str
    chars: int
    added_at: str
    parser: str
    chunks: int
    texts: DocumentTexts = field(repr=False, compare=False, hash=False)

    @classmethod
    def from_row(cls, row: dict, texts: DocumentTexts) -> StoredDocument:
        return cls(**{k: row[k] for k in DOCUMENT_FIELDS}, texts=texts)

    @property
    def text(self) -> str:
        return self.texts(self.doc_id)

    @property
    def key(self) -> tuple[str, str]:
        """What tells this commit of the document from another of the same text (see `store.changes_since`)."""
        return (self.file, self.added_at)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in DOCUMENT_FIELDS} | {"text": self.text}


class SentenceSpans(Mapping):
    """doc_id → sentence spans of that document, split on demand (`DocumentTexts.spans`)."""

    def __init__(
        self, documents: Mapping[str, StoredDocument], texts: DocumentTexts, max_sentence_chars: int
    ):
        self._documents = documents
        self._texts = texts
        self._max = max_sentence_chars

    def __getitem__(self, doc_id: str) -> list[tuple[int, int]]:
        if doc_id not in self._documents:
            raise KeyError(doc_id)
        return self._texts.spans(doc_id, self._max)

    def __iter__(self) -> Iterator[str]:
        return iter(self._documents)

    def __len__(self) -> int:
        return len(self._documents)


@dataclass(kw_only=True)
class Hit:
    chunk: ChunkRow
    doc: StoredDocument
    text: str
    score: float
    cosine: float = 0.0
    bm25: float = 0.0
    dense_rank: int | None = None
    bm25_rank: int | None = None

    def to_dict(self) -> dict:
        return {
            "doc_id": self.chunk.doc_id,
            "title": self.doc.title,
            "source": self.doc.source,
            "chunk_id": self.chunk.chunk_id,
            "text": self.text,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "score": round(self.score, 4),
        }


class Hits(list):
    """Retrieved hits, best first. `degraded` when the dense retriever could not take part (Chroma or embedding
    down); `similarity`, when dense retrieval worked, gives the question's cosine to each of some texts (their
    passage vectors come from the embedding cache: each text is embedded once ever), or None if it cannot."""

    degraded: bool = False
    similarity: Callable[[list[str]], np.ndarray | None] | None = None


_CHUNK_ORDER = attrgetter("doc_id", "ordinal")


@dataclass
class Snapshot:
    """One committed generation as readers see it. Chunks live in slots (the order they were added; a
    removed chunk's slot is None); `chunks` lists the live ones in (doc_id, ordinal) order."""

    generation: int
    documents: dict[str, StoredDocument]
    chunks: list[ChunkRow]
    bm25: BM25Index
    texts: DocumentTexts
    max_sentence_chars: int = 200
    slot_chunks: list[ChunkRow | None] = field(default_factory=list)
    slot_of: dict[str, int] = field(default_factory=dict)
    chunk_texts: ChunkTexts = field(default_factory=ChunkTexts)
    doc_phrases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    phrase_docs: dict[str, int] = field(default_factory=dict)  # quoted phrase → documents quoting it

    @classmethod
    def empty(cls, texts: DocumentTexts, max_sentence_chars: int = 200) -> Snapshot:
        return cls(0, {}, [], BM25Index(), texts, max_sentence_chars)

    @classmethod
    def from_rows(
        cls, rows: Rows, max_sentence_chars: int = 200, texts: DocumentTexts | None = None
    ) -> Snapshot:
        """A full load (start-up, or after many removals): the same path as a commit adding everything."""
        texts = texts or DocumentTexts.held({d: r["text"] for d, r in rows.documents.items()})
        return cls.empty(texts, max_sentence_chars).updated(Changes(rows.generation, [], rows))

    def save(self, path: Path) -> None:
        """Write this snapshot (spelling index included) for the next process to start from, atomically: a
        start-up then reads one file and catches up with `updated` instead of indexing every chunk again.
        The file lives in the index directory and is trusted like the database next to it."""
        state = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("texts", "slot_of")}
        state["documents"] = [tuple(getattr(d, f) for f in DOCUMENT_FIELDS) for d in self.documents.values()]
        state["spelling"] = self.spelling
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(((SNAPSHOT_FORMAT, PIPELINE_VERSION), state), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, texts: DocumentTexts, max_sentence_chars: int = 200) -> Snapshot | None:
        """The snapshot `save` wrote, or None when there is none usable (missing, another format, damaged)."""
        try:
            with open(path, "rb") as fh:
                header, state = pickle.load(fh)
        except FileNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001 - a damaged cache is rebuilt, never fatal
            log.warning("ignoring the saved snapshot %s: %s", path, exc)
            return None
        if (
            header != (SNAPSHOT_FORMAT, PIPELINE_VERSION)
            or state.get("max_sentence_chars") != max_sentence_chars
        ):
            return None
        spelling = state.pop("spelling", None)
        state["documents"] = {row[0]: StoredDocument(*row, texts=texts) for row in state["documents"]}
        state["slot_of"] = {c.chunk_id: s for s, c in enumerate(state["slot_chunks"]) if c is not None}
        snap = cls(texts=texts, **state)
        if spelling is not None:
            snap.__dict__["spelling"] = spelling
        return snap

    def document_keys(self) -> dict[str, tuple[str, str]]:
        return {doc_id: d.key for doc_id, d in self.documents.items()}

    @property
    def needs_rebuild(self) -> bool:
        """Enough dead slots that a full load is cheaper to read from than to carry them."""
        dead = self.bm25.dead
        return dead > REBUILD_DEAD_MIN and dead > REBUILD_DEAD_SHARE * self.bm25.slots

    def updated(self, changes: Changes) -> Snapshot:
        """The next snapshot: `changes.removed` documents dropped and `changes.rows` added, in O(those)."""
        removed = [d for d in changes.removed if d in self.documents]
        gone_slots = [self.slot_of[c.chunk_id] for d in removed for c in self.chunks_of(d)]
        added_docs = changes.rows.documents
        added = [
            ChunkRow(c["chunk_id"], c["doc_id"], c["ordinal"], c["start"], c["end"])
            for c in changes.rows.chunks
        ]
        for doc_id, row in added_docs.items():
            self.texts.prime(doc_id, row["text"])
        matching = [matching_text(added_docs[c.doc_id]["text"][c.start : c.end]) for c in added]

        documents = {d: doc for d, doc in self.documents.items() if d not in set(removed)}
        documents.update((d, StoredDocument.from_row(row, self.texts)) for d, row in added_docs.items())
        if added_docs:
            documents = dict(sorted(documents.items(), key=lambda item: (item[1].added_at, item[1].file)))
        removed_set = set(removed)
        kept = [c for c in self.chunks if c.doc_id not in removed_set] if removed else self.chunks
        chunks = list(heapq.merge(kept, sorted(added, key=_CHUNK_ORDER), key=_CHUNK_ORDER))

        slot_chunks = list(self.slot_chunks)
        slot_of = dict(self.slot_of)
        for slot in gone_slots:
            del slot_of[slot_chunks[slot].chunk_id]
            slot_chunks[slot] = None
        for slot, chunk in enumerate(added, start=len(slot_chunks)):
            slot_of[chunk.chunk_id] = slot
        slot_chunks.extend(added)

        doc_phrases = {d: p for d, p in self.doc_phrases.items() if d not in removed_set}
        phrase_docs = Counter(self.phrase_docs)
        for doc_id in removed:
            phrase_docs.subtract(self.doc_phrases.get(doc_id, ()))
        for doc_id, row in added_docs.items():
            doc_phrases[doc_id] = tuple(dict.fromkeys(_phrases_of(row["text"])))
            phrase_docs.update(doc_phrases[doc_id])

        new = Snapshot(
            changes.generation,
            documents,
            chunks,
            self.bm25.removed(gone_slots).added([c["tokens"] for c in changes.rows.chunks]),
            self.texts,
            self.max_sentence_chars,
            slot_chunks,
            slot_of,
            self.chunk_texts.removed(gone_slots).added(matching),
            doc_phrases,
            {p: n for p, n in phrase_docs.items() if n > 0},
        )
        if "spelling" in self.__dict__:  # built already: follow the change instead of rebuilding on first use
            gone = [self.chunk_texts.texts[s] for s in gone_slots]
            new.__dict__["spelling"] = self.spelling.changed(matching, gone)
        return new

    @property
    def sentence_spans(self) -> SentenceSpans:
        return SentenceSpans(self.documents, self.texts, self.max_sentence_chars)

    @cached_property
    def spelling(self):
        """Typo correction against the words this corpus uses (built on first use, then kept up to date)."""
        from .spelling import SpellingIndex

        return SpellingIndex(t for t in self.chunk_texts.texts if t is not None)

    def _memo(self, name: str, key: str, compute: Callable[[str], Any], most: int = 10_000) -> Any:
        """compute(key), kept per snapshot in a bounded cache of its own (emptied past `most` keys): the texts
        never change under a snapshot, so neither does the answer."""
        cache = self.__dict__.setdefault(name, {})
        if key not in cache:
            if len(cache) > most:
                cache.clear()
            cache[key] = compute(key)
        return cache[key]

    def mentions(self, term: str) -> bool:
        """Does any document contain `term` (normalised)? Cached per term."""
        return self._memo("_mentions", term, self.chunk_texts.any_containing)

    def mentions_words(self, term: str) -> bool:
        """Does any document contain `term`'s words, whatever the punctuation between them (“执法敢执法” of
        执法、敢执法)? Cached per term."""
        return self._memo(
            "_mentions_words", term, lambda t: self.chunk_texts.any_containing(t, ignore_marks=True)
        )

    def chunks_containing(self, term: str) -> int:
        """How many chunks contain `term` (normalised) verbatim. Cached per term."""
        return self._memo("_containing", term, lambda t: len(self.chunk_texts.containing(t)))

    @cached_property
    def phrases(self) -> frozenset[str]:
        """Quoted phrases of the corpus (“碧·有服务”), recognised in questions even when typed without quotes."""
        return frozenset(self.phrase_docs)

    @cached_property
    def _phrase_lengths(self) -> range:
        lengths = {len(p) for p in self.phrase_docs}
        return range(min(lengths, default=0), max(lengths, default=-1) + 1)

    def phrases_in(self, query: str) -> list[str]:
        norm = without_space(normalise(query))
        known = {
            norm[i : i + n]
            for n in self._phrase_lengths
            for i in range(len(norm) - n + 1)
            if norm[i : i + n] in self.phrase_docs and not asks_yes_no(norm[i : i + n])
        }
        found = set(quoted_phrases(query)) | known
        return sorted(p for p in found if not any(p != q and p in q for q in found))

    def phrase_slots(self, phrase: str) -> list[int]:
        """Live slots of the chunks holding `phrase` verbatim (whitespace ignored); cached per snapshot."""
        return self._memo(
            "_phrase_slots", phrase, lambda p: self.chunk_texts.containing(p, ignore_space=True), most=1_000
        )

    @cached_property
    def position(self) -> dict[str, int]:
        return {c.chunk_id: i for i, c in enumerate(self.chunks)}

    def text_of(self, chunk: ChunkRow) -> str:
        return self.documents[chunk.doc_id].text[chunk.start : chunk.end]

    def chunks_of(self, doc_id: str) -> list[ChunkRow]:
        """The document's chunks in order (a slice of `chunks`, found by bisection)."""
        key = attrgetter("doc_id")
        return self.chunks[
            bisect_left(self.chunks, doc_id, key=key) : bisect_right(self.chunks, doc_id, key=key)
        ]

    def chunk_holding(self, doc_id: str, span: tuple[int, int]) -> ChunkRow | None:
        return next((c for c in self.chunks_of(doc_id) if c.start <= span[0] and span[1] <= c.end), None)

    def sentences_in(self, chunk: ChunkRow) -> list[tuple[int, int]]:
        spans = self.sentence_spans[chunk.doc_id]
        first = bisect_left(spans, (chunk.start, -1))
        out = []
        for s in spans[first:]:
            if s[0] > chunk.end:
                break
            if s[1] <= chunk.end:
                out.append(s)
        return out


def _phrases_of(text: str) -> list[str]:
    return [p for p in quoted_phrases(text) if len(p) >= MIN_PHRASE_CHARS]


def rrf(rank: int | None, k: int) -> float:
    return 0.0 if rank is None else 1.0 / (k + rank + 1)


@dataclass(frozen=True)
class Fusion:
    """How `search` fuses its ranked lists: candidates taken from each retriever, the reciprocal-rank constant
    and one weight per list. Built once from `Settings` (`from_settings`) and passed down whole; the defaults
    equal Settings' defaults (README · 配置, checked by tests/test_retrieval.py)."""

    candidates: int = 30
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    phrase_weight: float = 1.0  # the list of chunks holding the query's domain phrases verbatim

    @classmethod
    def from_settings(cls, settings) -> Fusion:
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


def search(
    snapshot: Snapshot,
    store: IndexStore,
    query: str,
    question_vector: np.ndarray,
    top_k: int,
    fusion: Fusion = Fusion(),
    typed: bool = False,
) -> list[Hit]:
    """Top-k chunks by fused rank; `score` is 1.0 for a chunk ranked first by both retrievers. `typed`: the query
    is as a user typed it, whose keywords typed apart count as phrases (`typed_phrases`); a course-pack topic's
    reading is no such thing."""
    if not snapshot.chunks:
        return []
    candidates, rrf_k = fusion.candidates, fusion.rrf_k
    dense_weight, bm25_weight = fusion.dense_weight, fusion.bm25_weight
    slot_of = snapshot.slot_of
    dense = [(cid, cos) for cid, cos in store.dense_query(question_vector, candidates) if cid in slot_of]
    dense_rank = {cid: r for r, (cid, _) in enumerate(dense)}
    cosine = dict(dense)

    phrases = snapshot.phrases_in(query)
    tokens = tokenize(query) + [p for p in phrases if p not in quoted_phrases(query)]
    scores = snapshot.bm25.scores(tokens)
    if typed:
        phrases += [p for p in typed_phrases(snapshot, query) if p not in phrases]
    bm25_rank = {
        snapshot.slot_chunks[s].chunk_id: r for r, s in enumerate(_bm25_order(snapshot, scores, candidates))
    }

    # chunks holding a domain phrase of the query verbatim form a third ranked list
    listed = {slot_of[cid] for cid in (*dense_rank, *bm25_rank)}
    phrase_rank = {
        snapshot.slot_chunks[s].chunk_id: r
        for s, r in _phrase_ranks(snapshot, phrases, scores, top_k, listed)
    }
    phrase_weight = fusion.phrase_weight if phrase_rank else 0.0
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
        slot = slot_of[cid]
        chunk = snapshot.slot_chunks[slot]
        hits.append(
            Hit(
                chunk=chunk,
                doc=snapshot.documents[chunk.doc_id],
                text=snapshot.text_of(chunk),
                score=score,
                cosine=cosine.get(cid, 0.0),
                bm25=float(scores[slot]),
                dense_rank=dense_rank.get(cid),
                bm25_rank=bm25_rank.get(cid),
            )
        )
    return hits


def _bm25_order(snapshot: Snapshot, scores: np.ndarray, candidates: int) -> list[int]:
    """Slots of the best `candidates` scores above 0, ties in chunk order (as a full sort would give)."""
    slots = np.flatnonzero(scores > 0)
    if len(slots) > candidates:
        cut = np.partition(scores[slots], len(slots) - candidates)[len(slots) - candidates]
        slots = slots[scores[slots] >= cut]
    chunk_id = snapshot.slot_chunks
    ranked = sorted(slots.tolist(), key=lambda s: (-scores[s], chunk_id[s].chunk_id))
    return ranked[:candidates]


def typed_phrases(snapshot: Snapshot, query: str) -> list[str]:
    """The keywords of a keyword query (㮾梨 拆迁清零 项目数) that the documents write verbatim and that are more
    than a word (拆迁清零): the user typed them as remembered, so a chunk holding one whole is ranked as one holding
    a domain phrase. A long chunk otherwise loses to short ones holding 拆迁 alone."""
    parts = query.split()
    if len(parts) < 2:
        return []
    found = []
    for part in map(normalise, parts):
        if len(part) >= 4 and len(tokenize(part)) >= 2 and snapshot.mentions(part):
            found.append(part)
    return found


def _phrase_ranks(
    snapshot: Snapshot, phrases: list[str], scores: np.ndarray, top_k: int, listed: set[int]
) -> list[tuple[int, int]]:
    """(slot, rank) in the list of chunks containing the query's domain phrases verbatim (jieba splits
    “碧·有服务”): most phrases first, then BM25 score, then chunk order. Found through the character index
    (`Snapshot.phrase_slots`), never by reading every chunk; ranked with numpy, and only the ranks that can
    matter are returned: the first `top_k` and those of chunks the other lists hold (`listed`). A chunk only
    in this list at rank >= top_k has `top_k` chunks scoring strictly higher, so it never reaches the top k."""
    counts: Counter[int] = Counter()
    for p in phrases:
        counts.update(snapshot.phrase_slots(p))
    if not counts:
        return []
    slots = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    held = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
    score = scores[slots]
    order = np.lexsort((-score, -held))
    slots, held, score = slots[order], held[order], score[order]
    ranked = slots.tolist()
    ties = np.flatnonzero((held[1:] == held[:-1]) & (score[1:] == score[:-1]))
    if len(ties):  # equal keys: chunk order decides, as a full sort by chunk_id would
        chunk = snapshot.slot_chunks
        starts = ties[np.concatenate(([True], np.diff(ties) > 1))]
        ends = ties[np.concatenate((np.diff(ties) > 1, [True]))] + 2
        for lo, hi in zip(starts.tolist(), ends.tolist()):
            ranked[lo:hi] = sorted(ranked[lo:hi], key=lambda s: chunk[s].chunk_id)
    return [(s, r) for r, s in enumerate(ranked) if r < top_k or s in listed]
