"""`Assistant`: the one object the CLI, API and UI call. It wires the stages and holds the write lock."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import corpus as corpus_mod
from .answer import conversation, extractive
from .answer.citations import Answer, joined, neutralize_links, pieces
from .answer.conversation import FollowUp
from .answer.question import analyse, compared_names, may_compare, speaks_of, without_names
from .answer.signals import sentence_spans
from .chunking import chunk_document
from .config import Settings
from .embeddings import Embedder, load_embedder
from .errors import AssistantError, DuplicateDocument, NotFound, PayloadTooLarge, UnsupportedFileType
from .lexical import tokenize
from .retrieval import DocumentTexts, Fusion, Hit, Hits, Snapshot, StoredDocument, search
from .store import CommittedFile, DatabaseUnavailable, DenseGuard, IndexStore, NewDocument, Unavailable

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
SNAPSHOT_FILE = "snapshot.pickle"  # the last full snapshot, in the index directory (see _next_snapshot)
SAVE_AFTER_CHUNKS = 2000  # chunks one catch-up added beyond which the saved snapshot is renewed
DENSE_DOWN_WARNING = "向量检索暂时不可用，本次仅按关键词和原文短语检索，答案可能不够全面。"
SIDE_POOL = 20  # chunks searched for the sides of a comparison, each side taking its best
MAX_SIDES = 4
ANCHOR_POOL = 12  # how far down the fused list an answer looks for BM25's clear best chunk
ANCHOR_LEAD = 1.5  # … clear: its BM25 score at least this many times the runner-up's


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    rebuilt: bool = False
    seconds: float = 0.0
    sentence_seconds: float = 0.0  # of `seconds`, embedding the new documents' sentences once searchable

    def to_dict(self) -> dict:
        return {
            "added": self.added,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "failed": [{"file": f, "error": e} for f, e in self.failed],
            "rebuilt": self.rebuilt,
            "seconds": round(self.seconds, 2),
            "sentence_seconds": round(self.sentence_seconds, 2),
        }


ProgressFn = Callable[[str, int, int], None]


class Assistant:
    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self.fusion = Fusion.from_settings(settings)  # questions and course packs search alike
        self.embedder = embedder or load_embedder(settings.embedding, _embedding_options(settings))
        self.store = IndexStore(settings.index_dir, self.embedder, settings.chroma_url, settings.database_url)
        self._snapshot: Snapshot | None = None
        self._texts = DocumentTexts(self.store.document_text)  # document texts, read on demand
        self._rebuilding = threading.Lock()  # a background full load is running
        self._saving = threading.Lock()
        self._saved_generation = -1
        self._snapshot_lock = threading.Lock()
        self._llm = None
        self._degraded_at = 0.0  # monotonic time of the last search without dense retrieval

    # ------------------------------------------------------------ reading

    @property
    def snapshot(self) -> Snapshot:
        """The committed index as of now; reloaded when any process has committed since. While the database
        cannot be read, the last loaded snapshot keeps answering (none yet: a 503)."""
        try:
            generation = self.store.generation()
            snap = self._snapshot
            if snap is None or snap.generation != generation:
                with self._snapshot_lock:
                    if self._snapshot is None or self._snapshot.generation != generation:
                        self._snapshot = self._next_snapshot(self._snapshot)
                    snap = self._snapshot
            return snap
        except DatabaseUnavailable as exc:
            if self._snapshot is not None:
                log.warning("index database unreadable (%s): answering from the loaded snapshot", exc.message)
                return self._snapshot
            raise

    def _next_snapshot(self, current: Snapshot | None) -> Snapshot:
        """The committed generation: the current snapshot updated with what changed since (O(the change)).
        At start-up the saved snapshot (index/snapshot.pickle) catches up the same way; without one,
        everything is loaded and the result saved for the next start. Once removals have left too many dead
        slots, a fresh load is made in the background and swapped in when ready."""
        saved = self.settings.index_dir / SNAPSHOT_FILE
        if current is None:
            current = Snapshot.load(saved, self._texts, self.settings.max_sentence_chars)
        if current is None:
            new = self._full_snapshot()
            self._save_in_background(new)
            return new
        new = current.updated(self.store.changes_since(current.document_keys()))
        if new.needs_rebuild:
            self._rebuild_in_background()
        elif new.bm25.slots - current.bm25.slots > SAVE_AFTER_CHUNKS:
            self._save_in_background(new)
        return new

    def _full_snapshot(self) -> Snapshot:
        empty = Snapshot.empty(self._texts, self.settings.max_sentence_chars)
        return empty.updated(self.store.changes_since({}))

    def _rebuild_in_background(self) -> None:
        """A fresh snapshot without dead slots, swapped in when ready (readers keep the current one meanwhile;
        commits made during the rebuild are caught up with by the next read)."""
        if self._rebuilding.locked():
            return

        def rebuild() -> None:
            with self._rebuilding:
                fresh = self._full_snapshot()
                with self._snapshot_lock:
                    if self._snapshot is None or self._snapshot.generation <= fresh.generation:
                        self._snapshot = fresh
                self._save(fresh)

        threading.Thread(target=rebuild, name="rebuild-snapshot").start()

    def _save_in_background(self, snapshot: Snapshot) -> None:
        """Not a daemon: a process that ends (`assistant index`) finishes writing the file first."""
        threading.Thread(target=self._save, args=(snapshot,), name="save-snapshot").start()

    def _save(self, snapshot: Snapshot) -> None:
        with self._saving:
            if snapshot.generation == self._saved_generation:
                return
            try:
                snapshot.save(self.settings.index_dir / SNAPSHOT_FILE)
                self._saved_generation = snapshot.generation
            except Exception:  # noqa: BLE001 - only the next start-up is slower without it
                log.exception("could not save the snapshot to %s", self.settings.index_dir / SNAPSHOT_FILE)

    def save_snapshot(self) -> None:
        """Leave the current snapshot for the next start-up (`assistant index` does, after a change)."""
        self._save(self.snapshot)

    def search(self, query: str, top_k: int = 5) -> list[Hit]:
        """The `top_k` best chunks for a query (the search API)."""
        query = self.check_text(query, "查询")
        top_k = self._validate_top_k(top_k)
        snap = self.snapshot
        return self._retrieve(snap, snap.spelling.correct(query), top_k)

    def answer_hits(self, question: str, top_k: int = 5) -> Hits:
        """What an answer reads: the `top_k` best chunks and, for a comparison, each side's (`_other_sides`).
        LLM mode and the answer model's fit read what the extractive reply reads."""
        question = self.check_text(question, "问题")
        top_k = self._validate_top_k(top_k)
        snap = self.snapshot
        return self._retrieve(snap, snap.spelling.correct(question), top_k, sides=True)

    def _retrieve(self, snap: Snapshot, query: str, top_k: int, sides: bool = False) -> Hits:
        """One ask reads one snapshot (each read of `self.snapshot` checks the database's generation)."""
        guard = self._dense_guard()
        vector = guard.question_vector(query)
        pool = max(top_k, ANCHOR_POOL) if sides else top_k
        found = search(snap, guard, query, vector, pool, self.fusion, typed=True)
        hits = Hits(found[:top_k])
        if sides:
            hits.extend(_lexical_anchor(found, top_k))
            hits.extend(self._other_sides(snap, guard, query, hits))
        hits.degraded = guard.failed
        if guard.failed:
            self._degraded_at = time.monotonic()
        else:
            hits.similarity = self._similarity_to(vector)
        return hits

    def _other_sides(self, snap: Snapshot, guard: DenseGuard, query: str, hits: list[Hit]) -> list[Hit]:
        """A comparison (A建了多少……，跟B比哪个多) gets, for each side, the best chunk of a document about it
        found by the question without the sides' names: what was retrieved for the whole question often
        speaks of one side only."""
        sides = compared_names(analyse(query, snap)) if may_compare(query) else []
        if len(sides) < 2:
            return []
        rest = without_names(query, sides)
        found = {h.chunk.chunk_id for h in hits}
        added: list[Hit] = []
        pool = search(snap, guard, rest, guard.question_vector(rest), SIDE_POOL, self.fusion)
        for side in sides[:MAX_SIDES]:
            hit = next((h for h in pool if speaks_of(side, h.doc)), None)
            if hit is not None and hit.chunk.chunk_id not in found:
                added.append(hit)
                found.add(hit.chunk.chunk_id)
        return added

    def _similarity_to(self, vector) -> Callable[[list[str]], np.ndarray | None]:
        """Cosines of texts (candidate sentences) to the question's vector. A sentence is embedded the first
        time a question reaches it and kept in the embedding cache; if that fails, the answer layer falls back
        to its chunk's similarity."""

        def similarity(texts: list[str]) -> np.ndarray | None:
            try:
                return self.store.passage_vectors(texts) @ vector
            except Exception as exc:  # noqa: BLE001 - e.g. a remote embedding endpoint that is down
                log.warning("sentence vectors unavailable (%s): their chunks' similarity is used", exc)
                return None

        return similarity

    def _dense_guard(self) -> DenseGuard:
        return DenseGuard(self.store)

    def ask(self, question: str, top_k: int = 5, history: list[dict] | None = None) -> Answer:
        result = None
        for piece in self.ask_stream(question, top_k, history):
            if isinstance(piece, Answer):
                result = piece
        assert result is not None
        return result

    def ask_stream(
        self, question: str, top_k: int = 5, history: list[dict] | None = None
    ) -> Iterator[str | Answer]:
        """Yields pieces of answer text as they are ready, then the final `Answer` (with citations)."""
        question = self.check_text(question, "问题")
        top_k = self._validate_top_k(top_k)
        history = self._validate_history(history)
        started = time.perf_counter()
        if self.settings.llm_enabled:
            since = time.monotonic()
            for piece in self._llm_answerer().stream(question, top_k, history):
                if isinstance(piece, Answer) and not piece.warning and self._degraded_at >= since:
                    piece.warning = DENSE_DOWN_WARNING
                yield piece
            return
        result = self.extractive_reply(question, history, top_k)
        yield from pieces(result.answer)
        log.info(
            "ask mode=extractive grounded=%s chars=%d ms=%.1f",
            result.grounded,
            len(question),
            1000 * (time.perf_counter() - started),
        )
        yield result

    def extractive_reply(self, question: str, history: list[dict], top_k: int) -> Answer:
        """Extractive mode's answer in its conversation (also LLM mode's fallback before the model has spoken). A
        message asking two questions has each answered on its own when every one is (`separate_questions`)."""
        snapshot = self.snapshot
        follow = conversation.follow_up(question, history, snapshot)
        if follow is None:
            parts = conversation.separate_questions(question, snapshot)
            if len(parts) > 1:
                answers = [self._extractive_reply(snapshot, part, None, top_k) for part in parts]
                if all(a.grounded for a in answers):  # else the question is answered as one, or refused
                    return joined(answers, question)
        return self._extractive_reply(snapshot, follow.query if follow else question, follow, top_k)

    def _extractive_reply(
        self, snapshot: Snapshot, query: str, follow: FollowUp | None, top_k: int
    ) -> Answer:
        hits = self._retrieve(snapshot, snapshot.spelling.correct(query), top_k, sides=True)  # as answer_hits
        result = self.extractive_answer(query, hits, follow, snapshot)
        if hits.degraded and not result.warning:
            result.warning = DENSE_DOWN_WARNING
        return result

    def extractive_answer(
        self, query: str, hits: list[Hit], follow: FollowUp | None = None, snapshot: Snapshot | None = None
    ) -> Answer:
        """The extractive answer for retrieved hits: extractive mode, and LLM mode's fallback."""
        result = extractive.answer(query, hits, snapshot or self.snapshot, self.settings, follow)
        result.answer = neutralize_links(result.answer)  # documents' Markdown is never live in an answer
        result.query = query
        return result

    def warm_up(self) -> None:
        """Load what a first question would wait for (jieba's dictionary, the snapshot, BM25), off the start-up path."""
        try:
            self.extractive_answer("党建引领基层治理", self.search("党建引领基层治理", top_k=1))
        except Exception:
            log.exception("warm-up failed")

    def _llm_answerer(self):
        if self._llm is None:
            from .answer.llm import LLMAnswerer

            self._llm = LLMAnswerer(self)
        return self._llm

    def documents(self) -> list[dict]:
        return [_entry(d) for d in self.snapshot.documents.values()]

    @property
    def parse_limits(self) -> corpus_mod.Limits:
        """The budget of every parse (upload or `assistant index`), from Settings."""
        return corpus_mod.Limits.from_settings(self.settings)

    def document(self, doc_id: str) -> StoredDocument:
        """One document's record; its `text` is read only when asked for (`to_dict()` for the API)."""
        doc = self.snapshot.documents.get(doc_id)
        if doc is None:
            raise NotFound(
                f"未找到文档 {doc_id}：请用 GET /api/documents 或 assistant docs list 查看已有文档的 doc_id。"
            )
        return doc

    def health(self) -> dict:
        """Each dependency checked now. `status`: ok; degraded (answers without dense retrieval, or from the
        loaded snapshot while the database is unreadable); down (nothing can answer: the API's 503)."""
        database = self.store.database_status()
        chroma = self.store.chroma_status()
        try:
            snap = self.snapshot
        except Unavailable:
            snap = None
        status = "ok" if database == chroma == "ok" else ("degraded" if snap is not None else "down")
        out = {
            "status": status,
            "documents": len(snap.documents) if snap else 0,
            "chunks": len(snap.chunks) if snap else 0,
            "embedder": self.embedder.name,
            "mode": "llm" if self.settings.llm_enabled else "extractive",
            "generation": snap.generation if snap else 0,
            "chroma": chroma,
            "database": database,
            "installation": self.store.installation,  # this index's id: its collections are chunks-<id>-*
        }
        if database == "ok":
            out["collection"] = self.store.meta().get("live_collection", "")
        if status != "ok":
            down = [name for name, state in (("chroma", chroma), ("database", database)) if state != "ok"]
            out["detail"] = f"{'、'.join(down)} 暂时不可用：" + (
                "仅按关键词检索作答。" if snap is not None else "无法回答问题，请稍后重试。"
            )
        if self.settings.llm_enabled:
            out["llm_reachable"] = self._llm_answerer().reachable()
        return out

    def course_pack(self, topics, exclude=None, order=None, summaries: bool = True, max_items=None):
        """Cited course material on 1–10 topics (coursepack.py), one part per topic, at most `max_items` items per
        topic (default 25). `exclude` item ids; `order` the section kinds to keep, in that order (a kind left out
        is removed). In LLM mode each section also gets a short cited summary, unless `summaries` is false.
        The API, CLI and UI all call this (or `course_pack_export`), so a review exports the same everywhere."""
        from . import coursepack, coursepack_records

        topics = coursepack.validate_topics(topics)
        max_items = coursepack.validate_max_items(max_items)
        guard = self._dense_guard()
        pack = coursepack.build(topics, self.snapshot, guard, self.fusion, max_items=max_items)
        if guard.failed and not pack.notice:
            pack.notice = DENSE_DOWN_WARNING
        if not self.settings.llm_enabled:
            pack.summaries_note = coursepack_records.SUMMARIES_OFF
        elif not summaries:
            pack.summaries_note = coursepack_records.SUMMARIES_DECLINED
        elif pack.items:
            self._summarize(pack)
        log.info("coursepack topics=%d items=%d ms=%.1f", len(topics), len(pack.items), 1000 * pack.seconds)
        if exclude or order is not None:
            pack = pack.select(exclude or (), order)
        return pack

    def _summarize(self, pack) -> None:
        """Section summaries from the LLM, all sections of all topics at once; a failure leaves the items."""
        from concurrent.futures import ThreadPoolExecutor

        from .answer.llm import failure_reason

        started = time.perf_counter()
        jobs = [(part, s) for part in pack.parts for s in part.sections if s.items]
        llm = self._llm_answerer()
        with ThreadPoolExecutor(max_workers=min(len(jobs), 8)) as pool:
            futures = [pool.submit(llm.summarize, [part.topic], s) for part, s in jobs]
        failures = []
        for (_, section), future in zip(jobs, futures):
            try:
                section.summary = future.result()
            except Exception as exc:  # noqa: BLE001 - the endpoint's trouble must not cost the pack
                failures.append(failure_reason(exc))
                log.warning("coursepack summary of %s failed: %s", section.kind, exc)
        if failures:
            pack.notice = f"大模型暂时不可用（{failures[0]}），部分或全部要点小结未生成；素材条目不受影响。"
        pack.seconds += time.perf_counter() - started

    def course_pack_export(
        self, topics, fmt: str = "json", exclude=None, order=None, summaries: bool = True, max_items=None
    ):
        """The reviewed pack as a file (`coursepack_render.Export`: bytes, content type, file name) for the API, CLI
        and UI alike: unticked items and removed sections are not exported."""
        from . import coursepack, coursepack_render

        fmt = coursepack.validate_format(fmt)
        return coursepack_render.export(self.course_pack(topics, exclude, order, summaries, max_items), fmt)

    # ------------------------------------------------------------ writing

    def sync(
        self,
        corpus_dir: Path | None = None,
        rebuild: bool = False,
        progress: ProgressFn | None = None,
        before_commit: Callable[[], None] | None = None,
    ) -> SyncReport:
        """Make the index match corpus/: new files added, changed ones replaced, gone ones removed.

        On a shared database this adds to what every replica sees: only documents that came from this corpus
        directory (`origin`) are replaced or removed; a file whose content another replica committed counts as
        unchanged; a file whose document another replica deleted is deleted here too, not added again."""
        started = time.perf_counter()
        corpus_dir = Path(corpus_dir or self.settings.corpus_dir)
        if not corpus_dir.is_dir():
            raise AssistantError(f"语料目录不存在：{corpus_dir}。请用 --corpus 指定包含文档的目录。")
        origin = self.origin(corpus_dir)
        report = SyncReport()
        ready = self._embed_changed_files(corpus_dir, origin, rebuild, progress)
        with self.store.writer():
            self.store.reconcile()
            reason = self.store.needs_rebuild()
            if reason:
                log.warning("rebuilding the index: %s", reason)
                rebuild = True
            report.rebuilt = rebuild
            sources = corpus_mod.load_sources(corpus_dir)
            state = self.store.corpus_state(origin)
            keep: set[str] = set()
            new: list[NewDocument] = []
            files = corpus_mod.corpus_files(corpus_dir)
            for i, path in enumerate(files):
                if progress:
                    progress("读取文档", i, len(files))
                meta = sources.get(path.name, {})
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    report.failed.append((path.name, f"无法读取：{exc.strerror}"))
                    continue
                raw_sha = _raw_sha(data, meta)
                if state.deleted_elsewhere(path.name, raw_sha):
                    _delete_corpus_file(corpus_dir, path.name)
                    log.info("%s: its document was deleted through another replica, deleting the file", path)
                    continue
                if not rebuild and state.unchanged(path.name, raw_sha):
                    keep.add(state.files[path.name][0])
                    report.unchanged += 1
                    continue
                if raw_sha in state.elsewhere_shas:
                    report.unchanged += 1
                    continue
                prepared = ready.get((path.name, raw_sha))
                if prepared is None:
                    try:
                        doc = corpus_mod.document_from_bytes(
                            data, path.name, meta, self.parse_limits, _ocr_progress(progress, path.name)
                        )
                    except AssistantError as exc:
                        report.failed.append((path.name, exc.message))
                        log.warning("skipping %s: %s", path, exc.message)
                        continue
                    prepared = self._prepare(doc, raw_sha, origin)
                doc = prepared.doc
                if doc.doc_id in state.elsewhere_ids:
                    report.unchanged += 1
                    continue
                if doc.doc_id in keep or any(n.doc.doc_id == doc.doc_id for n in new):
                    report.failed.append((path.name, "与已有文档内容相同，已跳过"))
                    continue
                new.append(prepared)
            if progress:
                progress("读取文档", len(files), len(files))
            new_ids = {n.doc.doc_id for n in new}
            remove = [d for d, _ in state.files.values() if d not in keep]
            if new or remove or rebuild:
                self.store.apply(
                    new,
                    remove,
                    rebuild=rebuild,
                    progress=(lambda d, t: progress("嵌入向量", d, t)) if progress else None,
                    before_commit=before_commit,
                )
            if state.deleted:
                self.store.forget_removed(origin, list(state.deleted))  # each one is settled by this pass
            report.added = [n.doc.file for n in new]
            report.removed = [d for d in remove if d not in new_ids]
        if self.settings.index_sentence_vectors:
            searchable = time.perf_counter()
            self._embed_sentences(list(new_ids), progress)
            report.sentence_seconds = time.perf_counter() - searchable
        report.seconds = time.perf_counter() - started
        return report

    def _embed_sentences(self, doc_ids: list[str], progress: ProgressFn | None) -> None:
        """Answers score each sentence of the retrieved chunks by its own vector. They are made once the
        documents are searchable, so that a first question about them does not wait for ~20 of them; what
        this misses (an upload, a failure here) is embedded when a question first reaches it."""
        snap = self.snapshot
        texts = [
            doc.text[a:b]
            for d in doc_ids
            if (doc := snap.documents.get(d)) is not None
            for chunk in snap.chunks_of(d)
            for a, b in sentence_spans(snap, chunk, doc.text)
        ]
        try:
            self.store.passage_vectors(texts, (lambda d, t: progress("句子向量", d, t)) if progress else None)
        except Exception as exc:  # noqa: BLE001 - the answers embed them on demand instead
            log.warning("sentence vectors not made at indexing (%s): made when first needed", exc)

    def _embed_changed_files(
        self, corpus_dir: Path, origin: str, rebuild: bool, progress: ProgressFn | None
    ) -> dict[tuple[str, str], NewDocument]:
        """Before the write lock: parse the files that look new or changed and embed their chunks into the
        embedding cache, so that the locked pass (which decides, on the state it then reads) only commits. On a
        shared database the lock is every replica's: an `assistant index` of many files must not hold uploads
        on all of them for the whole embedding. Keyed by (file name, raw sha); a file that fails to parse is
        left to the locked pass, which reports it."""
        state = self.store.corpus_state(origin)
        sources = corpus_mod.load_sources(corpus_dir)
        ready: dict[tuple[str, str], NewDocument] = {}
        files = corpus_mod.corpus_files(corpus_dir)
        for i, path in enumerate(files):
            if progress:
                progress("解析文档", i, len(files))
            meta = sources.get(path.name, {})
            try:
                data = path.read_bytes()
            except OSError:
                continue
            raw_sha = _raw_sha(data, meta)
            if (
                raw_sha in state.elsewhere_shas
                or state.deleted_elsewhere(path.name, raw_sha)
                or (not rebuild and state.unchanged(path.name, raw_sha))
            ):
                continue
            try:
                doc = corpus_mod.document_from_bytes(
                    data, path.name, meta, self.parse_limits, _ocr_progress(progress, path.name)
                )
            except AssistantError:
                continue
            ready[(path.name, raw_sha)] = self._prepare(doc, raw_sha, origin)
        if progress:
            progress("解析文档", len(files), len(files))
        texts = [c.text for prepared in ready.values() for c in prepared.chunks]
        embed_progress = (lambda d, t: progress("嵌入向量", d, t)) if progress else None
        self.store._vectors(texts, embed_progress)  # noqa: SLF001 - cache fill, no lock
        return ready

    def _prepare(self, doc: corpus_mod.Document, raw_sha: str, origin: str = "") -> NewDocument:
        s = self.settings
        chunks = chunk_document(doc, s.chunk_target_chars, s.chunk_max_chars, s.max_sentence_chars)
        return NewDocument(doc, chunks, [tokenize(c.text) for c in chunks], raw_sha, origin)

    def origin(self, corpus_dir: Path | None = None) -> str:
        """The corpus directory a document's file is kept in, as the shared database records it: this host
        and the directory's path, so a replica replaces or removes only its own files ('' on an embedded
        database, which has one corpus directory)."""
        if not self.store.shared:
            return ""
        return f"{socket.gethostname()}:{Path(corpus_dir or self.settings.corpus_dir).resolve()}"

    def check_upload(self, file_name: str, size: int) -> None:
        suffix = Path(file_name).suffix.lower()
        if suffix not in corpus_mod.SUPPORTED_SUFFIXES:
            raise UnsupportedFileType(
                f"不支持的文件类型“{suffix or '无扩展名'}”：请上传 {corpus_mod.SUPPORTED_LIST} 文件。"
            )
        limit = self.settings.max_upload_mb * 1024 * 1024
        if size > limit:
            raise PayloadTooLarge(
                f"文件过大（{size / 1048576:.1f} MB）：上限为 {self.settings.max_upload_mb:g} MB，请拆分后上传。"
            )

    def parse_upload(
        self,
        file_name: str,
        data: bytes,
        meta: dict | None = None,
        ocr_progress: Callable[[int, int], None] | None = None,
    ) -> NewDocument:
        """Validate and parse an upload without writing anything (raises 4xx errors); `ocr_progress(done,
        total)` follows the pages of a scan being recognised."""
        file_name = _safe_file_name(file_name)
        self.check_upload(file_name, len(data))
        doc = corpus_mod.document_from_bytes(data, file_name, meta, self.parse_limits, ocr_progress)
        self._check_new(doc.doc_id)
        return self._prepare(doc, _raw_sha(data, meta or {}))

    def _check_new(self, doc_id: str) -> None:
        existing = self.snapshot.documents.get(doc_id)
        if existing:
            raise DuplicateDocument(
                f"该文档内容已在知识库中（《{existing.title}》，doc_id {doc_id}），无需重复上传。",
                doc_id,
            )

    def add_document(
        self,
        file_name: str,
        data: bytes,
        meta: dict | None = None,
        progress: Callable[[int, int], None] | None = None,
        prepared: NewDocument | None = None,
    ) -> dict:
        """Write the file into corpus/ (which decides what exists), then index it in one commit.

        The embedding, almost all of the work, runs before the write lock is taken (it fills the embedding
        cache), so the lock is held only for writing the file and the commit: readers never wait for a writer
        and writers wait for each other only that long. `prepared` (from `parse_upload`) skips a second parse.
        """
        prepared = prepared or self.parse_upload(file_name, data, meta)
        self.store._vectors([c.text for c in prepared.chunks], progress)  # noqa: SLF001 - cache fill, no lock
        with self.store.writer():
            self._check_new(prepared.doc.doc_id)  # another writer may have committed it meanwhile
            corpus_dir = Path(self.settings.corpus_dir)
            corpus_dir.mkdir(parents=True, exist_ok=True)
            target = _free_name(corpus_dir, prepared.doc.file)
            prepared.doc.file = target.name
            tmp = target.with_name(target.name + ".part")
            tmp.write_bytes(data)
            tmp.replace(target)
            source_meta = {
                "source": prepared.doc.source
                if prepared.doc.source != file_name
                else _safe_file_name(file_name),
                "title": prepared.doc.title,
                **(meta or {}),
            }
            try:
                corpus_mod.save_source(corpus_dir, target.name, source_meta)
                prepared.raw_sha = _raw_sha(data, corpus_mod.load_sources(corpus_dir).get(target.name, {}))
                prepared.origin = self.origin(corpus_dir)
                self.store.apply([prepared], [])  # every vector is in the cache now: upserts and the commit
            except BaseException:
                target.unlink(missing_ok=True)
                corpus_mod.save_source(corpus_dir, target.name, None)
                raise
        return self.document_entry(prepared.doc.doc_id)

    def document_entry(self, doc_id: str) -> dict:
        return _entry(self.document(doc_id))

    def remove_document(self, doc_id: str) -> None:
        """Delete the corpus file first, then the rows and vectors: a crash in between is healed by sync.

        On a shared database the file may be in another replica's corpus directory: the commit then records
        it, and that replica's next `assistant index` deletes the file instead of adding it again."""
        with self.store.writer():
            doc = self.document(doc_id)
            corpus_dir = Path(self.settings.corpus_dir)
            committed = self.store.committed_file(doc_id) or CommittedFile(doc_id, doc.file, "", "")
            if committed.origin == self.origin(corpus_dir):
                _delete_corpus_file(corpus_dir, doc.file)
                self.store.apply([], [doc_id])
            else:
                self.store.apply([], [doc_id], tombstones=[committed])

    # ------------------------------------------------------------ validation

    @staticmethod
    def check_text(text, what: str) -> str:
        """Question and search text: trimmed, not empty, valid Unicode, at most MAX_QUESTION_CHARS."""
        if not isinstance(text, str) or not text.strip():
            raise AssistantError(f"{what}不能为空：请输入要查询的内容。")
        check_unicode(text, what)
        text = text.strip()
        if len(text) > MAX_QUESTION_CHARS:
            raise AssistantError(f"{what}过长（{len(text)} 字）：请控制在 {MAX_QUESTION_CHARS} 字以内。")
        return text

    @staticmethod
    def _validate_top_k(top_k) -> int:
        if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= 20:
            raise AssistantError(f"top_k 应为 1 到 20 之间的整数，收到 {top_k!r}。")
        return top_k

    @staticmethod
    def _validate_history(history) -> list[dict]:
        if not history:
            return []
        if not isinstance(history, list):
            raise AssistantError('history 应为消息列表：[{"role": "user"|"assistant", "content": "..."}]。')
        out = []
        for i, turn in enumerate(history):
            if (
                not isinstance(turn, dict)
                or turn.get("role") not in ("user", "assistant")
                or not isinstance(turn.get("content"), str)
            ):
                raise AssistantError(
                    f"history 第 {i + 1} 条格式错误：role 只能是 user 或 assistant，content 为字符串。"
                )
            check_unicode(turn["content"], f"history 第 {i + 1} 条的 content")
            out.append({"role": turn["role"], "content": turn["content"][:MAX_QUESTION_CHARS]})
        return out[-20:]


def chat_turns(messages: list[dict]) -> tuple[str, list[dict]]:
    """OpenAI-style chat `messages` → (question, history) for `Assistant.ask`.

    The last message must be the user's question; earlier user/assistant turns become the history. System
    and developer messages are ignored (our instructions are fixed); a reply's trailing 参考资料 list is cut
    from the history so it is not mistaken for conversation. Content may be a string or text parts.
    """
    if not isinstance(messages, list) or not messages:
        raise AssistantError('messages 不能为空：请至少提供一条 {"role": "user", "content": "问题"}。')
    turns = []
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role in ("system", "developer"):
            continue
        if role not in ("user", "assistant"):
            raise AssistantError(
                f"messages 第 {i + 1} 条的 role“{role}”不受支持：只能是 system、user 或 assistant。"
            )
        text = _message_text(message.get("content"), i)
        check_unicode(text, f"messages 第 {i + 1} 条的 content")
        if role == "assistant":
            text = text.split("\n参考资料：", 1)[0].rstrip()
        if text.strip():
            turns.append({"role": role, "content": text})
    last = messages[-1]
    if last.get("role") != "user" or not _message_text(last.get("content"), len(messages) - 1).strip():
        raise AssistantError("最后一条消息应是用户（role 为 user）的提问，且内容不能为空。")
    return turns[-1]["content"], turns[:-1]


def _lexical_anchor(found: list[Hit], top_k: int) -> list[Hit]:
    """BM25's best chunk when it leads the rest by far and fusion left it below the top k: it holds the
    question's rare words together (指导新建社区找准为民服务路子), while rank fusion weighs its first place no more
    than a close one, and a dense retriever unsure of it lets chunks both lists rank a little come first."""
    by_bm25 = sorted(found, key=lambda h: -h.bm25)
    if len(by_bm25) < 2 or by_bm25[0] in found[:top_k] or by_bm25[0].bm25 < ANCHOR_LEAD * by_bm25[1].bm25:
        return []
    return [by_bm25[0]]


_SURROGATE = re.compile("[\ud800-\udfff]")


def check_unicode(text: str, what: str) -> None:
    """A lone surrogate (JSON "\\ud800") is not text: it cannot be encoded, logged, tokenised or stored."""
    if _SURROGATE.search(text):
        raise AssistantError(
            f"{what}含有无效的 Unicode 字符（孤立的代理项，如 \\ud800）：请检查文本编码后重试。"
        )


def _message_text(content, i: int) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if (
                not isinstance(part, dict)
                or part.get("type") != "text"
                or not isinstance(part.get("text"), str)
            ):
                raise AssistantError(f"messages 第 {i + 1} 条含有非文本内容：本助手只接受文字提问。")
            parts.append(part["text"])
        return "".join(parts)
    raise AssistantError(f"messages 第 {i + 1} 条的 content 应为字符串或文本片段列表。")


def _embedding_options(s: Settings) -> dict:
    """`OpenAIEmbedder` options from the ASSISTANT_EMBEDDING_* settings (used by openai:<model> only)."""
    return {
        "base_url": s.embedding_base_url,
        "api_key": s.embedding_api_key,
        "batch_size": s.embedding_batch_size,
        "timeout_s": s.embedding_timeout_s,
        "max_retries": s.embedding_max_retries,
        "query_prefix": s.embedding_query_prefix,
        "passage_prefix": s.embedding_passage_prefix,
    }


def _raw_sha(data: bytes, meta: dict) -> str:
    h = hashlib.sha256(data)
    h.update(json.dumps(meta, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"))
    return h.hexdigest()


MAX_FILE_NAME_BYTES = 180  # UTF-8 bytes of a stored name; file systems allow 255 (room for "-12" and ".part")


_BIDI = re.compile(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _is_ocr(doc: StoredDocument) -> bool:
    return "rapidocr" in (doc.parser or "")


_ENTRY_KEYS = ("doc_id", "title", "source", "chars", "chunks", "added_at", "file", "region", "date", "parser")


def _entry(doc: StoredDocument) -> dict:
    """A document as the list and an upload's reply show it (never its text)."""
    return {k: getattr(doc, k) for k in _ENTRY_KEYS} | {"ocr": _is_ocr(doc)}


def _ocr_progress(progress, name: str):
    """Scanned pages take seconds each: report them as their own stage of `assistant index`."""
    return (lambda done, total: progress(f"文字识别 {name}", done, total)) if progress else None


def _safe_file_name(name: str) -> str:
    name = Path(str(name).replace("\\", "/")).name.strip()
    name = _BIDI.sub("", name)  # right-to-left overrides disguise an extension (“报告\u202etxt.exe”)
    name = re.sub(r"[\x00-\x1f\x7f/:*?\"<>|]", "_", name)
    name = _SURROGATE.sub("_", name)
    if not name or name in (".", "..") or name.startswith("."):
        raise AssistantError("文件名无效：请使用包含扩展名的正常文件名，例如 报告.txt。")
    return _cap_bytes(name, MAX_FILE_NAME_BYTES)


def _cap_bytes(name: str, limit: int) -> str:
    """Shorten the stem (never the extension) until the UTF-8 name fits `limit` bytes, on a character boundary."""
    if len(name.encode("utf-8")) <= limit:
        return name
    suffix = Path(name).suffix
    if len(suffix.encode("utf-8")) > 16:  # not a real extension
        suffix = ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    budget = limit - len(suffix.encode("utf-8"))
    stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(" .")
    return (stem or "文档") + suffix


def _delete_corpus_file(corpus_dir: Path, name: str) -> None:
    """A file and its corpus/sources.toml entry."""
    (corpus_dir / name).unlink(missing_ok=True)
    if corpus_dir.is_dir():
        corpus_mod.save_source(corpus_dir, name, None)


def _free_name(directory: Path, name: str) -> Path:
    target = directory / name
    stem, suffix = target.stem, target.suffix
    i = 1
    while target.exists():
        target = directory / f"{stem}-{i}{suffix}"
        i += 1
    return target
