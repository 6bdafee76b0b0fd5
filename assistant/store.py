"""index/: SQLite rows (the truth and the commit point) + Chroma vectors (a cache keyed by chunk_id).

Every write embeds and upserts vectors first, then commits rows in one SQLite transaction. A crash before the
commit leaves only orphan vectors, which readers ignore (they only know committed chunk_ids) and the next
writer deletes. A rebuild or a new embedder fills a fresh collection and switches `meta.live_collection` in
the same transaction that replaces the rows, so vectors of two models are never mixed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from . import PIPELINE_VERSION
from .chunking import Chunk
from .corpus import Document
from .embeddings import BATCH, Embedder
from .errors import AssistantError

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, file TEXT NOT NULL, raw_sha TEXT NOT NULL DEFAULT '', source TEXT NOT NULL,
    title TEXT NOT NULL, region TEXT NOT NULL DEFAULT '', date TEXT NOT NULL DEFAULT '', text TEXT NOT NULL,
    chars INTEGER NOT NULL, added_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, tokens TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS embedding_cache (
    embedder TEXT NOT NULL, text_sha TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (embedder, text_sha));
"""


@dataclass
class NewDocument:
    doc: Document
    chunks: list[Chunk]
    tokens: list[list[str]]
    raw_sha: str = ""


@dataclass
class Rows:
    """Everything a reader needs, loaded from one committed generation."""

    generation: int
    documents: dict[str, dict]
    chunks: list[dict]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def make_chroma_client(index_dir: Path, chroma_url: str):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=settings,
        )
    return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=settings)


def open_embedded_chroma(index_dir: Path):
    """A new embedded Chroma system for `index_dir`, loading the vectors on disk now: an embedded client keeps
    the HNSW index it loaded and never sees vectors another process (`assistant index`) adds later.
    Returns (system, client); the system is kept to stop it once no reader can still be using it."""
    from chromadb.api import ServerAPI
    from chromadb.api.client import Client
    from chromadb.config import Settings as ChromaSettings
    from chromadb.config import System

    system = System(
        ChromaSettings(
            anonymized_telemetry=False, is_persistent=True, persist_directory=str(index_dir / "chroma")
        )
    )
    system.instance(ServerAPI)
    system.start()
    return system, Client.from_system(system)


class IndexStore:
    def __init__(self, index_dir: Path, embedder: Embedder, chroma_url: str = ""):
        self.index_dir = Path(index_dir)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.index_dir / "assistant.db"
        self.embedder = embedder
        self.chroma_url = chroma_url
        self._thread_lock = threading.RLock()
        self._collections: dict[str, object] = {}
        with self._db() as db:
            db.executescript(SCHEMA)
        self._client = None
        self._fresh_as_of = -1  # the generation whose vectors the embedded client is known to hold
        self._reopen_lock = threading.Lock()
        self._retired: list = []  # systems replaced by a fresh one, stopped two replacements later
        if chroma_url:
            _ = (
                self._chroma
            )  # a configured server is checked at start-up; the embedded store opens on first use

    @property
    def _chroma(self):
        """The Chroma client, created on first use: importing chromadb costs ~0.5 s a server need not wait for."""
        if self._client is None:
            with self._thread_lock:
                if self._client is None:
                    try:
                        self._fresh_as_of = self.generation()
                        self._client = make_chroma_client(self.index_dir, self.chroma_url)
                    except Exception as exc:
                        raise AssistantError(
                            f"无法连接 Chroma（{self.chroma_url or self.index_dir}）：{exc}。请检查 ASSISTANT_CHROMA_URL。"
                        ) from exc
        return self._client

    # ------------------------------------------------------------ plumbing

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=60, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=FULL")
            yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def writer(self) -> Iterator[None]:
        """One writer at a time: a thread lock in this process, index/.lock across processes."""
        with self._thread_lock:
            with open(self.index_dir / ".lock", "a+") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)

    def meta(self) -> dict[str, str]:
        with self._db() as db:
            return dict(db.execute("SELECT key, value FROM meta").fetchall())

    def generation(self) -> int:
        with self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def _ensure_current(self, generation: int) -> None:
        """Reopen the embedded Chroma after another process committed a generation this client never saw."""
        if self.chroma_url or self._client is None or generation <= self._fresh_as_of:
            return
        with self._reopen_lock:
            if generation <= self._fresh_as_of:
                return
            log.info("index generation %d was written by another process: reopening Chroma", generation)
            system, client = open_embedded_chroma(self.index_dir)
            self._client, self._collections, self._fresh_as_of = client, {}, generation
            self._retired.append(system)
            if len(self._retired) > 2:  # long enough ago that no query can still be running on it
                self._retired.pop(0).stop()

    def _collection(self, name: str, create: bool = False):
        if name not in self._collections:
            if create:
                col = self._chroma.get_or_create_collection(
                    name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={"embedder": self.embedder.name, "dim": self.embedder.dim},
                )
            else:
                col = self._chroma.get_collection(name, embedding_function=None)
            self._collections[name] = col
        return self._collections[name]

    # ------------------------------------------------------------ reading

    def load_rows(self) -> Rows:
        with self._db() as db:
            db.execute("BEGIN")
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            docs = {}
            for row in db.execute(
                "SELECT d.doc_id, d.file, d.source, d.title, d.region, d.date, d.text, d.chars, d.added_at, "
                "(SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.doc_id) FROM documents d ORDER BY d.added_at, d.file"
            ):
                keys = (
                    "doc_id",
                    "file",
                    "source",
                    "title",
                    "region",
                    "date",
                    "text",
                    "chars",
                    "added_at",
                    "chunks",
                )
                docs[row[0]] = dict(zip(keys, row))
            chunks = [
                {
                    "chunk_id": r[0],
                    "doc_id": r[1],
                    "ordinal": r[2],
                    "start": r[3],
                    "end": r[4],
                    "tokens": r[5].split("\t"),
                }
                for r in db.execute(
                    'SELECT chunk_id, doc_id, ordinal, start, "end", tokens FROM chunks ORDER BY doc_id, ordinal'
                )
            ]
            db.execute("COMMIT")
        return Rows(int(meta.get("generation", 0)), docs, chunks)

    def file_index(self) -> dict[str, tuple[str, str]]:
        """corpus file name → (doc_id, raw_sha) of what is committed."""
        with self._db() as db:
            return {f: (d, s) for d, f, s in db.execute("SELECT doc_id, file, raw_sha FROM documents")}

    def needs_rebuild(self) -> str:
        """Why the index cannot be used incrementally ('' if it can)."""
        meta = self.meta()
        if not meta.get("live_collection"):
            return ""
        if meta.get("embedder") != self.embedder.name:
            return f"嵌入模型已从 {meta.get('embedder')} 换为 {self.embedder.name}"
        if meta.get("pipeline_version") != PIPELINE_VERSION:
            return "处理流程版本已更新"
        return ""

    def _live(self) -> str:
        """The live collection's name, with the client brought up to the committed generation."""
        meta = self.meta()
        self._ensure_current(int(meta.get("generation", 0)))
        return meta.get("live_collection", "")

    def dense_query(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        live = self._live()
        if not live:
            return []
        col = self._collection(live)
        count = col.count()
        if not count:
            return []
        res = col.query(query_embeddings=[vector.tolist()], n_results=min(n, count), include=["distances"])
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(res["ids"][0], res["distances"][0])]

    def cosines(self, chunk_ids: list[str], vector: np.ndarray) -> dict[str, float]:
        """Cosine of stored chunk vectors with a (normalised) question vector."""
        live = self._live()
        if not live or not chunk_ids:
            return {}
        try:
            got = self._collection(live).get(ids=chunk_ids, include=["embeddings"])
        except Exception:  # a missing vector costs this hit its cosine, never the answer
            log.exception("could not read vectors of %d chunks from %s", len(chunk_ids), live)
            return {}
        return {
            cid: float(np.dot(np.asarray(e, dtype=np.float32), vector))
            for cid, e in zip(got["ids"], got["embeddings"])
        }

    # ------------------------------------------------------------ writing

    def apply(
        self,
        add: list[NewDocument],
        remove: list[str],
        *,
        rebuild: bool = False,
        progress: Progress | None = None,
        before_commit: Callable[[], None] | None = None,
    ) -> int:
        """Add and remove documents in one commit; with `rebuild`, replace everything in a new collection.

        Callers hold `writer()`. Returns the new generation.
        """
        meta = self.meta()
        live = self._live()
        target = live
        if rebuild or not live:
            target = f"chunks-{uuid.uuid4().hex[:12]}"
        col = self._collection(target, create=True)
        self._reconcile_collection(col, keep_target=target != live)

        all_chunks = [(nd, c) for nd in add for c in nd.chunks]
        vectors = self._vectors([c.text for _, c in all_chunks], progress)
        for i in range(0, len(all_chunks), 256):
            part = all_chunks[i : i + 256]
            col.upsert(
                ids=[c.chunk_id for _, c in part],
                embeddings=vectors[i : i + 256],
                metadatas=[{"doc_id": c.doc_id} for _, c in part],
            )
        if before_commit:
            before_commit()  # tests inject failures here: nothing below may have happened yet

        removed_chunk_ids: list[str] = []
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                if rebuild or target != live:
                    removed_chunk_ids = [r[0] for r in db.execute("SELECT chunk_id FROM chunks")]
                    db.execute("DELETE FROM chunks")
                    db.execute("DELETE FROM documents")
                elif remove:
                    marks = ",".join("?" * len(remove))
                    removed_chunk_ids = [
                        r[0]
                        for r in db.execute(f"SELECT chunk_id FROM chunks WHERE doc_id IN ({marks})", remove)
                    ]
                    db.execute(f"DELETE FROM chunks WHERE doc_id IN ({marks})", remove)
                    db.execute(f"DELETE FROM documents WHERE doc_id IN ({marks})", remove)
                for nd in add:
                    d = nd.doc
                    db.execute(
                        "INSERT INTO documents (doc_id, file, raw_sha, source, title, region, date, text, chars, added_at)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (
                            d.doc_id,
                            d.file,
                            nd.raw_sha,
                            d.source,
                            d.title,
                            d.region,
                            d.date,
                            d.text,
                            len(d.text),
                            _now(),
                        ),
                    )
                    db.executemany(
                        'INSERT INTO chunks (chunk_id, doc_id, ordinal, start, "end", tokens) VALUES (?,?,?,?,?,?)',
                        [
                            (c.chunk_id, c.doc_id, c.ordinal, c.start, c.end, "\t".join(t))
                            for c, t in zip(nd.chunks, nd.tokens)
                        ],
                    )
                generation = int(meta.get("generation", 0)) + 1
                for key, value in (
                    ("generation", str(generation)),
                    ("live_collection", target),
                    ("embedder", self.embedder.name),
                    ("dim", str(self.embedder.dim)),
                    ("pipeline_version", PIPELINE_VERSION),
                ):
                    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        if self._fresh_as_of == generation - 1:
            self._fresh_as_of = generation  # our own vectors are in our client already
        # after the commit: vectors nobody references any more
        if target != live and live:
            self._drop_collection(live)
        elif removed_chunk_ids:
            kept = {c.chunk_id for _, c in all_chunks}
            stale = [cid for cid in removed_chunk_ids if cid not in kept]
            for i in range(0, len(stale), 256):
                col.delete(ids=stale[i : i + 256])
        return generation

    def reconcile(self) -> None:
        """Delete what a crashed writer left: orphan vectors and collections that never went live."""
        live = self._live()
        for col in self._chroma.list_collections():
            name = col if isinstance(col, str) else col.name
            if name.startswith("chunks-") and name != live:
                self._drop_collection(name)
        if live:
            self._reconcile_collection(self._collection(live, create=True), keep_target=False)

    def _reconcile_collection(self, col, keep_target: bool) -> None:
        if keep_target:
            return
        with self._db() as db:
            committed = {r[0] for r in db.execute("SELECT chunk_id FROM chunks")}
        stored = col.get(include=[])["ids"]
        orphans = [cid for cid in stored if cid not in committed]
        if orphans:
            log.warning("removing %d orphan vectors left by an interrupted write", len(orphans))
            for i in range(0, len(orphans), 256):
                col.delete(ids=orphans[i : i + 256])

    def _drop_collection(self, name: str) -> None:
        self._collections.pop(name, None)
        try:
            self._chroma.delete_collection(name)
        except Exception as exc:  # already gone is fine
            log.info("could not drop collection %s: %s", name, exc)

    def _vectors(self, texts: list[str], progress: Progress | None) -> np.ndarray:
        """Vectors for texts, embedding each distinct text once ever (cache keyed by embedder and sha1)."""
        shas = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._db() as db:
            for i in range(0, len(shas), 500):
                part = list(set(shas[i : i + 500]))
                marks = ",".join("?" * len(part))
                for sha, blob in db.execute(
                    f"SELECT text_sha, vector FROM embedding_cache WHERE embedder=? AND text_sha IN ({marks})",
                    [self.embedder.name, *part],
                ):
                    found[sha] = np.frombuffer(blob, dtype=np.float32)
        todo = list(dict.fromkeys(s for s in shas if s not in found))
        text_of = dict(zip(shas, texts))
        done = len(set(shas)) - len(todo)
        total = len(set(shas))
        if progress:
            progress(done, total)
        for i in range(0, len(todo), BATCH):
            batch = todo[i : i + BATCH]
            vecs = self.embedder.embed_passages([text_of[s] for s in batch])
            with self._db() as db:
                db.executemany(
                    "INSERT OR REPLACE INTO embedding_cache (embedder, text_sha, vector) VALUES (?,?,?)",
                    [(self.embedder.name, s, v.astype(np.float32).tobytes()) for s, v in zip(batch, vecs)],
                )
            for s, v in zip(batch, vecs):
                found[s] = v
            done += len(batch)
            if progress:
                progress(done, total)
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([found[s] for s in shas]).astype(np.float32)

    def stats(self) -> dict:
        with self._db() as db:
            docs = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            chunks = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return {"documents": docs, "chunks": chunks}
