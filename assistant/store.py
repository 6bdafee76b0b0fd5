"""The index: rows in a transactional database (the truth and the commit point) + Chroma vectors (a cache keyed
by chunk_id).

The database is embedded SQLite (`index/assistant.db`, the default) or a PostgreSQL server shared by every replica
(`ASSISTANT_DATABASE_URL`, with vectors on a Chroma server, `ASSISTANT_CHROMA_URL`); `database.py` hides the few
differences. Every write embeds and upserts vectors first, then commits rows in one transaction. A crash before
the commit leaves only orphan vectors, which readers ignore (they only know committed chunk_ids) and the next
writer deletes. A rebuild or a new embedder fills a fresh collection and switches `meta.live_collection` in the
same transaction that replaces the rows, so vectors of two models are never mixed.

On a Chroma server shared by several index databases, a writer only ever deletes what its database owns:
collections are named `chunks-<installation>-<random>`, where the installation id is made for each database (a
copied or restored SQLite file or PostgreSQL database gets a new one, recognised by its identity), and only our
own stale collections and orphan vectors in our own live collection are removed. Replicas sharing one PostgreSQL
database are one installation: they take turns as writers (an advisory lock) and commit to one generation. An
index whose live collection is another installation's, or is missing (an empty server), copies its committed
vectors into a collection of its own (from the embedding cache) at its next write or `assistant index`.

Chroma failures: reads raise `DenseUnavailable` (the service then answers from BM25 and phrases), skipping
Chroma for `RETRY_AFTER_S` after a failure; writes raise `Unavailable` (503) with a Chinese message. Database
failures raise `DatabaseUnavailable` (503).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from . import PIPELINE_VERSION
from .chunking import Chunk
from .corpus import Document
from .database import Connection, Database, DatabaseUnavailable, Unavailable, open_database
from .embeddings import BATCH, Embedder
from .errors import AssistantError

log = logging.getLogger(__name__)

RETRY_AFTER_S = 2.0  # after a failed Chroma read, questions skip Chroma this long before trying it again
CHROMA_CONNECT_TIMEOUT_S = 3.0
CHROMA_READ_TIMEOUT_S = 60.0


class DenseUnavailable(Unavailable):
    """Chroma could not answer a vector query; readers fall back to keyword retrieval."""


Progress = Callable[[int, int], None]

UPSERT_META = (
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
IN_BATCH = 500  # ids per `IN (...)` list
WRITE_PENDING = "write_pending"  # meta key: '1' from a write's first vector until its commit clears it


@dataclass
class NewDocument:
    doc: Document
    chunks: list[Chunk]
    tokens: list[list[str]]
    raw_sha: str = ""
    origin: str = ""  # the corpus directory holding its file, on a shared database (`Assistant.origin`)


@dataclass(frozen=True)
class CommittedFile:
    """Where a committed document came from: its file in the corpus directory `origin` ('' when not shared)."""

    doc_id: str
    file: str
    raw_sha: str
    origin: str = ""


@dataclass
class CorpusState:
    """The committed index as one corpus directory (`origin`) sees it, read in one transaction."""

    files: dict[str, tuple[str, str]]  # file → (doc_id, raw_sha) of the documents it added
    elsewhere_ids: set[str]  # doc_ids added from other corpus directories (only on a shared database)
    elsewhere_shas: set[str]  # and their raw_shas
    deleted: dict[str, str]  # file → raw_sha of its documents deleted through another replica

    def unchanged(self, file: str, raw_sha: str) -> bool:
        return file in self.files and self.files[file][1] == raw_sha

    def deleted_elsewhere(self, file: str, raw_sha: str) -> bool:
        """Its document was deleted through another replica: the file goes too, it is not added again."""
        return file not in self.files and self.deleted.get(file) == raw_sha


@dataclass
class WritePlan:
    """Where one `apply` puts its vectors: the live collection, or a new one (a rebuild, a first write, or a
    live collection that is another installation's or gone) that also receives the kept committed vectors
    (`carry`) and is switched in by the commit."""

    live: str
    target: str
    carry: list[tuple[str, str, str]] = field(default_factory=list)  # (chunk_id, doc_id, text)

    @property
    def switches(self) -> bool:
        return self.target != self.live


@dataclass
class Rows:
    """Everything a reader needs, loaded from one committed generation."""

    generation: int
    documents: dict[str, dict]  # doc_id → DOCUMENT_FIELDS and "text"
    chunks: list[dict]


# A committed document as readers see it (`retrieval.StoredDocument`, in this order), besides its text: the
# columns of `documents` readers use and the number of its chunks.
DOCUMENT_COLUMNS = ("doc_id", "file", "source", "title", "region", "date", "chars", "added_at", "parser")
DOCUMENT_FIELDS = (*DOCUMENT_COLUMNS, "chunks")
_SELECT_DOCUMENTS = (
    f"SELECT {', '.join('d.' + k for k in DOCUMENT_COLUMNS)}, "
    "(SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.doc_id), d.text FROM documents d"
)


def _document_row(row: Sequence) -> dict:
    return dict(zip((*DOCUMENT_FIELDS, "text"), row))


@dataclass
class Changes:
    """What a reader must drop and add to reach a committed generation (`IndexStore.changes_since`)."""

    generation: int
    removed: list[str]  # doc_ids
    rows: Rows  # the added documents (with text) and their chunks (tokens tab-joined as stored)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def make_chroma_client(index_dir: Path, chroma_url: str):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        import httpx

        url = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
        client = chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=settings,
        )
        session = getattr(getattr(client, "_server", None), "_session", None)
        if isinstance(session, httpx.Client):  # chromadb sets no timeout: a hung server would hang questions
            session.timeout = httpx.Timeout(CHROMA_READ_TIMEOUT_S, connect=CHROMA_CONNECT_TIMEOUT_S)
        return client
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


class DenseGuard:
    """The store as one search sees it: when Chroma (or the question's embedding) fails, the dense list is
    empty and `failed` is set, so the answer comes from BM25 and phrases with a warning instead of an error."""

    def __init__(self, store: IndexStore, failed: bool = False):
        self._store = store
        self.failed = failed

    def question_vector(self, text: str) -> np.ndarray:
        """The text's question embedding (by the store's embedder, the one its vectors come from); a failing
        embedding service leaves the search to keywords."""
        try:
            return self._store.embedder.embed_question(text)
        except Exception as exc:  # noqa: BLE001 - e.g. a remote embedding endpoint that is down
            log.warning("question embedding failed (%s): searching by keywords", exc)
            self.failed = True
            return np.zeros(1, dtype=np.float32)  # never read: dense retrieval is skipped

    def dense_query(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        if self.failed:
            return []
        try:
            return self._store.dense_query(vector, n)
        except DenseUnavailable:
            self.failed = True
            return []

    def cosines(self, chunk_ids: list[str], vector: np.ndarray) -> dict[str, float]:
        return {} if self.failed else self._store.cosines(chunk_ids, vector)

    def __getattr__(self, name: str):
        return getattr(self._store, name)


class IndexStore:
    def __init__(self, index_dir: Path, embedder: Embedder, chroma_url: str = "", database_url: str = ""):
        self.index_dir = Path(index_dir)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.index_dir / "assistant.db"  # the embedded database (unused with database_url)
        self.embedder = embedder
        self.chroma_url = chroma_url
        self.db: Database = open_database(self.index_dir, database_url)
        if self.db.shared and not chroma_url:
            raise AssistantError(
                "设置了 ASSISTANT_DATABASE_URL（多副本共用的数据库）时，向量也须放在共用的 Chroma 服务器上："
                "请同时设置 ASSISTANT_CHROMA_URL。"
            )
        self._thread_lock = threading.RLock()
        self._prepare_lock = threading.Lock()
        self._collections: dict[str, object] = {}
        self._installation_id = ""
        self._last_live = ""
        try:
            self._prepare_database()
        except DatabaseUnavailable as exc:
            if not self.db.shared:
                raise
            log.warning("%s (the schema is checked again at the next request)", exc.message)
        self._client = None
        self._fresh_as_of = -1  # the generation whose vectors the embedded client is known to hold
        self._reopen_lock = threading.Lock()
        self._retired: list = []  # systems replaced by a fresh one, stopped two replacements later
        self._dense_down_until = 0.0  # monotonic time before which reads skip Chroma
        self.dense_failed_at = 0.0  # monotonic time of the last failed Chroma read (0: never)
        self.dense_error = ""
        if chroma_url:
            try:  # a configured server is checked at start-up; a server that is down only degrades answers
                _ = self._chroma
            except AssistantError as exc:
                log.warning("%s", exc.message)
                self._mark_dense_down(exc.message)

    @property
    def shared(self) -> bool:
        """Whether replicas on other hosts share this index (a PostgreSQL database)."""
        return self.db.shared

    @property
    def installation(self) -> str:
        """This database's id: its collections are `chunks-<id>-*` ('' while a shared database has not been
        reached yet; every write reaches it first)."""
        if not self._installation_id:
            with contextlib.suppress(DatabaseUnavailable):
                self._prepare_database()
        return self._installation_id

    @property
    def _chroma(self):
        """The Chroma client, created on first use: importing chromadb costs ~0.5 s a server need not wait for."""
        if self._client is None:
            with self._thread_lock:
                if self._client is None:
                    try:
                        self._fresh_as_of = -1 if self.chroma_url else self.generation()
                        self._client = make_chroma_client(self.index_dir, self.chroma_url)
                    except Exception as exc:
                        raise AssistantError(
                            f"无法连接 Chroma（{self.chroma_url or self.index_dir}）：{exc}。请检查 ASSISTANT_CHROMA_URL。"
                        ) from exc
        return self._client

    # ------------------------------------------------------------ plumbing

    def _prepare_database(self) -> None:
        """The schema (made or brought up to date) and our installation id; a shared database that is down at
        start-up is prepared at its first use instead."""
        with self._prepare_lock:
            if not self._installation_id:
                self.db.create_schema()
                self._installation_id = self._installation()

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        """A consistent view of one committed generation."""
        if not self._installation_id:
            self._prepare_database()
        with self.db.read() as db:
            yield db

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction (committed at the end of the block)."""
        if not self._installation_id:
            self._prepare_database()
        with self.db.write() as db:
            yield db

    @contextlib.contextmanager
    def writer(self) -> Iterator[None]:
        """One writer at a time: a thread lock in this process, and across processes index/.lock (SQLite) or
        an advisory lock every replica on the shared database takes (PostgreSQL)."""
        with self._thread_lock, self.db.writer_lock():
            yield

    def _installation(self) -> str:
        """This database's id, made anew when it is a copy (or a restored backup) of another's."""
        identity = self.db.identity()
        with self.db.write() as db:
            meta = dict(
                db.execute(
                    "SELECT key, value FROM meta WHERE key IN ('installation', 'installation_file')"
                ).fetchall()
            )
            if meta.get("installation") and meta.get("installation_file") == identity:
                return meta["installation"]
            installation = uuid.uuid4().hex[:12]
            if meta.get("installation"):
                log.warning(
                    "index database %s is a copy of installation %s: it becomes installation %s and will "
                    "write its vectors to collections of its own",
                    self.db.describe(),
                    meta["installation"],
                    installation,
                )
            db.executemany(UPSERT_META, [("installation", installation), ("installation_file", identity)])
        return installation

    def owns(self, name: str) -> bool:
        """Whether a collection is this installation's to write to and delete. Everything in an embedded
        store is ours; on a server only `chunks-<our installation>-*`."""
        if not name.startswith("chunks-"):
            return False
        return not self.chroma_url or name.startswith(f"chunks-{self.installation}-")

    def _new_collection_name(self) -> str:
        return f"chunks-{self.installation}-{uuid.uuid4().hex[:12]}"

    @contextlib.contextmanager
    def _chroma_write(self, what: str) -> Iterator[None]:
        """Chroma failures during a write → a 503 with a Chinese message (nothing is committed)."""
        try:
            yield
        except Unavailable:
            raise
        except AssistantError as exc:
            raise Unavailable(exc.message) from exc
        except Exception as exc:
            self._collections.clear()
            raise Unavailable(
                f"向量库（Chroma）暂时不可用，{what}未完成：{type(exc).__name__}: {exc}。请稍后重试。"
            ) from exc

    def _mark_dense_down(self, error: str) -> None:
        now = time.monotonic()
        self.dense_failed_at = now
        self._dense_down_until = now + RETRY_AFTER_S
        self.dense_error = error
        self._collections.clear()  # a restarted or replaced server may hand out new collection ids

    def chroma_status(self) -> str:
        """'ok' or 'down', checked now: a server's heartbeat within 2 s (a hung server must not hang /healthz);
        the embedded store is ok once it opens."""
        try:
            if self.chroma_url:
                import httpx

                url = urlparse(self.chroma_url if "://" in self.chroma_url else f"http://{self.chroma_url}")
                base = f"{url.scheme}://{url.hostname or '127.0.0.1'}:{url.port or 8000}"
                httpx.get(f"{base}/api/v2/heartbeat", timeout=2.0).raise_for_status()
            self._chroma.heartbeat()
        except Exception as exc:
            self._mark_dense_down(
                exc.message if isinstance(exc, AssistantError) else f"{type(exc).__name__}: {exc}"
            )
            return "down"
        self._dense_down_until = 0.0
        return "ok"

    def database_status(self) -> str:
        """'ok' or 'down', checked now (a shared server is reached even within its fail-fast window)."""
        try:
            self.db.ping()
            self.generation()
        except DatabaseUnavailable:
            return "down"
        return "ok"

    def meta(self) -> dict[str, str]:
        with self._read() as db:
            return dict(db.execute("SELECT key, value FROM meta").fetchall())

    def generation(self) -> int:
        """The committed generation: one indexed read, cheap enough to check on every request."""
        if not self._installation_id:
            self._prepare_database()
        with self.db.connect() as db:
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
        with self._read() as db:
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            docs = {
                row[0]: _document_row(row)
                for row in db.execute(f"{_SELECT_DOCUMENTS} ORDER BY d.added_at, d.file")
            }
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
        return Rows(int(meta.get("generation", 0)), docs, chunks)

    def changes_since(self, known: dict[str, tuple[str, str]]) -> Changes:
        """What differs from a reader holding `known` (doc_id → (file, added_at)), in one consistent read:
        O(documents) for the comparison plus O(the added documents), never all chunks (issue 11). With an empty
        `known`, everything: a full load that never holds every chunk's token list at once."""
        with self._read() as db:
            row = db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
            current = {d: (f, a) for d, f, a in db.execute("SELECT doc_id, file, added_at FROM documents")}
            removed = [d for d, key in known.items() if current.get(d) != key]
            new = [d for d, key in current.items() if known.get(d) != key]
            docs, chunks = {}, []
            for i in range(0, len(new), IN_BATCH):
                part = new[i : i + IN_BATCH]
                marks = ",".join("?" * len(part))
                for r in db.execute(
                    f"{_SELECT_DOCUMENTS} WHERE d.doc_id IN ({marks}) ORDER BY d.added_at, d.file", part
                ):
                    docs[r[0]] = _document_row(r)
                chunks += [
                    dict(zip(("chunk_id", "doc_id", "ordinal", "start", "end", "tokens"), r))
                    for r in db.execute(
                        f'SELECT chunk_id, doc_id, ordinal, start, "end", tokens FROM chunks WHERE doc_id IN ({marks})'
                        " ORDER BY doc_id, ordinal",
                        part,
                    )
                ]
        generation = int(row[0]) if row else 0
        return Changes(generation, removed, Rows(generation, docs, chunks))

    def document_text(self, doc_id: str) -> str | None:
        """One committed document's text (readers keep only the texts they are using)."""
        with self._read() as db:
            row = db.execute("SELECT text FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return row[0] if row else None

    def file_index(self, origin: str = "") -> dict[str, tuple[str, str]]:
        """corpus file name → (doc_id, raw_sha) of what is committed from the corpus directory `origin` (on a
        shared database each document remembers the one it came from; otherwise all are '')."""
        with self._read() as db:
            return {
                f: (d, s)
                for d, f, s in db.execute(
                    "SELECT doc_id, file, raw_sha FROM documents WHERE origin = ?", (origin,)
                )
            }

    def committed_file(self, doc_id: str) -> CommittedFile | None:
        with self._read() as db:
            row = db.execute(
                "SELECT doc_id, file, raw_sha, origin FROM documents WHERE doc_id = ?", (doc_id,)
            ).fetchone()
        return CommittedFile(*row) if row else None

    def corpus_state(self, origin: str) -> CorpusState:
        """What `assistant index` over the corpus directory `origin` compares its files with."""
        with self._read() as db:
            rows = db.execute("SELECT doc_id, file, raw_sha, origin FROM documents").fetchall()
            deleted = dict(db.execute("SELECT file, raw_sha FROM removed_files WHERE origin = ?", (origin,)))
        elsewhere = [(d, s) for d, _, s, o in rows if o != origin]
        return CorpusState(
            files={f: (d, s) for d, f, s, o in rows if o == origin},
            elsewhere_ids={d for d, _ in elsewhere},
            elsewhere_shas={s for _, s in elsewhere},
            deleted=deleted,
        )

    def removed_files(self, origin: str) -> dict[str, str]:
        """file → raw_sha of documents of corpus `origin` that another replica deleted."""
        return self.corpus_state(origin).deleted

    def forget_removed(self, origin: str, files: Sequence[str]) -> None:
        with self._write() as db:
            db.executemany(
                "DELETE FROM removed_files WHERE origin = ? AND file = ?", [(origin, f) for f in files]
            )

    def save_job(self, job_id: str, state: str, updated_at: float) -> None:
        """A background job's public state, for every replica to answer GET /api/jobs/{id} (shared database)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO jobs (job_id, state, updated_at) VALUES (?, ?, ?) ON CONFLICT (job_id) "
                "DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                (job_id, state, updated_at),
            )

    def load_job(self, job_id: str) -> str | None:
        with self._read() as db:
            row = db.execute("SELECT state FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return row[0] if row else None

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
        self._last_live = meta.get("live_collection", "")
        return self._last_live

    def _live_for_reading(self) -> str:
        """`_live()`, or while the database is down the collection last seen live: questions keep their
        vectors (the loaded snapshot only knows chunk ids of that time)."""
        try:
            return self._live()
        except DatabaseUnavailable:
            if not self._last_live:
                raise
            return self._last_live

    def _on_live(self, read: Callable[[object], object], empty: object) -> object:
        """`read(collection)` on the live collection (`empty` when there is none). When it fails because
        another replica switched the live collection meanwhile (a rebuild drops the old one after its commit),
        once more on the new one: a reader never falls back to keywords for a switch."""
        live = self._live_for_reading()
        if not live:
            return empty
        try:
            return read(self._collection(live))
        except Exception:
            if self._live_for_reading() in ("", live):
                raise
            self._collections.pop(live, None)
            log.info(
                "live collection switched from %s to %s during a read: reading again", live, self._last_live
            )
            return read(self._collection(self._last_live))

    def dense_query(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Nearest committed chunks by cosine; raises `DenseUnavailable` when Chroma cannot answer."""
        if time.monotonic() < self._dense_down_until:
            raise DenseUnavailable(f"向量库（Chroma）暂时不可用：{self.dense_error}")

        def nearest(col) -> list[tuple[str, float]]:
            # no count() first: Chroma returns what there is when n exceeds it (none for an empty collection),
            # and the extra round trip was a tenth of an ask
            res = col.query(query_embeddings=[vector.tolist()], n_results=n, include=["distances"])
            return [(cid, 1.0 - float(dist)) for cid, dist in zip(res["ids"][0], res["distances"][0])]

        try:
            hits = self._on_live(nearest, [])
        except Exception as exc:
            error = exc.message if isinstance(exc, AssistantError) else f"{type(exc).__name__}: {exc}"
            log.warning("dense retrieval failed (%s): answering from keywords", error)
            self._mark_dense_down(error)
            raise DenseUnavailable(f"向量库（Chroma）暂时不可用：{error}") from exc
        self._dense_down_until = 0.0
        return hits

    def cosines(self, chunk_ids: list[str], vector: np.ndarray) -> dict[str, float]:
        """Cosine of stored chunk vectors with a (normalised) question vector."""
        if not chunk_ids or time.monotonic() < self._dense_down_until:
            return {}
        try:
            got = self._on_live(lambda col: col.get(ids=chunk_ids, include=["embeddings"]), None)
        except Exception:  # a missing vector costs this hit its cosine, never the answer
            log.exception("could not read vectors of %d chunks", len(chunk_ids))
            return {}
        if got is None:
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
        tombstones: Sequence[CommittedFile] = (),
    ) -> int:
        """Add and remove documents in one commit; with `rebuild`, put every vector in a new collection.

        Callers hold `writer()`. Returns the new generation. Vectors first (a crash leaves only orphans, which
        the next writer deletes), then the rows in one transaction, then vectors nobody refers to any more.
        `tombstones`: files of removed documents that another corpus directory must not add again.
        """
        plan = self._plan_write(remove, rebuild)
        with self._chroma_write("写入"):
            col = self._open_target(plan)
            written = [(c.chunk_id, c.doc_id, c.text) for nd in add for c in nd.chunks] + plan.carry
            self._upsert(col, written, progress)
        if before_commit:
            before_commit()  # tests inject failures here: nothing below may have happened yet
        generation, removed_chunk_ids = self._commit(plan, add, remove, tombstones)
        if self._fresh_as_of == generation - 1:
            self._fresh_as_of = generation  # our own vectors are in our client already
        self._drop_unreferenced(plan, col, removed_chunk_ids, {cid for cid, *_ in written}, generation)
        return generation

    def _plan_write(self, remove: list[str], rebuild: bool) -> WritePlan:
        """Our live collection, or a new one: for a rebuild or a first write (nothing to carry but what other
        corpus directories committed), or when the live one is another installation's or gone (carry every
        kept committed vector)."""
        live = self._live()
        with self._chroma_write("写入"):
            if not rebuild and live and self.owns(live) and self._exists(live):
                return WritePlan(live, live)
        plan = WritePlan(live, self._new_collection_name())
        if live and not rebuild:
            log.warning(
                "live collection %s is %s: copying the committed vectors into %s",
                live,
                "missing" if self.owns(live) else "another installation's",
                plan.target,
            )
        removing = set(remove)
        plan.carry = [row for row in self._committed_chunks() if row[1] not in removing]
        return plan

    def _open_target(self, plan: WritePlan):
        """The collection this write fills, marked as being written. The live one is first cleared of orphans
        and completed when the last writer died between its vectors and its commit (the mark is still set):
        only then, since it costs O(corpus) and a write should cost O(the document)."""
        col = self._collection(plan.target, create=True)
        if not plan.switches and self.meta().get(WRITE_PENDING):
            log.warning("the last write was interrupted before its commit: reconciling %s", plan.target)
            self._reconcile_collection(col)
        with self._write() as db:
            db.execute(UPSERT_META, (WRITE_PENDING, "1"))
        return col

    def _upsert(self, col, chunks: list[tuple[str, str, str]], progress: Progress | None) -> None:
        vectors = self._vectors([text for *_, text in chunks], progress)
        for i in range(0, len(chunks), 256):
            part = chunks[i : i + 256]
            col.upsert(
                ids=[cid for cid, *_ in part],
                embeddings=vectors[i : i + 256],
                metadatas=[{"doc_id": doc_id} for _, doc_id, _ in part],
            )

    def _commit(
        self,
        plan: WritePlan,
        add: list[NewDocument],
        remove: list[str],
        tombstones: Sequence[CommittedFile],
    ) -> tuple[int, list[str]]:
        """The one transaction of a write: rows out, rows in, the next generation and its live collection.
        Returns (generation, chunk ids removed)."""
        with self._write() as db:
            removed_chunk_ids = self._delete_documents(db, remove)
            for nd in add:
                self._insert_document(db, nd)
            db.executemany(
                "INSERT INTO removed_files (origin, file, raw_sha) VALUES (?, ?, ?) "
                "ON CONFLICT (origin, file) DO UPDATE SET raw_sha = excluded.raw_sha",
                [(t.origin, t.file, t.raw_sha) for t in tombstones],
            )
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            generation = (int(row[0]) if row else 0) + 1
            db.executemany(
                UPSERT_META,
                [
                    ("generation", str(generation)),
                    ("live_collection", plan.target),
                    ("embedder", self.embedder.name),
                    ("dim", str(self.embedder.dim)),
                    ("pipeline_version", PIPELINE_VERSION),
                    (WRITE_PENDING, ""),
                ],
            )
        return generation, removed_chunk_ids

    @staticmethod
    def _delete_documents(db: Connection, doc_ids: list[str]) -> list[str]:
        """Delete documents and their chunks; returns the chunk ids deleted."""
        removed: list[str] = []
        for i in range(0, len(doc_ids), IN_BATCH):
            part = doc_ids[i : i + IN_BATCH]
            marks = ",".join("?" * len(part))
            removed += [
                r[0] for r in db.execute(f"SELECT chunk_id FROM chunks WHERE doc_id IN ({marks})", part)
            ]
            db.execute(f"DELETE FROM chunks WHERE doc_id IN ({marks})", part)
            db.execute(f"DELETE FROM documents WHERE doc_id IN ({marks})", part)
        return removed

    @staticmethod
    def _insert_document(db: Connection, nd: NewDocument) -> None:
        d = nd.doc
        db.execute(
            "INSERT INTO documents (doc_id, file, raw_sha, source, title, region, date, text, chars, added_at,"
            " parser, origin) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
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
                d.parser,
                nd.origin,
            ),
        )
        db.executemany(
            'INSERT INTO chunks (chunk_id, doc_id, ordinal, start, "end", tokens) VALUES (?,?,?,?,?,?)',
            [
                (c.chunk_id, c.doc_id, c.ordinal, c.start, c.end, "\t".join(t))
                for c, t in zip(nd.chunks, nd.tokens)
            ],
        )

    def _drop_unreferenced(
        self, plan: WritePlan, col, removed_chunk_ids: list[str], written: set[str], generation: int
    ) -> None:
        """After the commit: the collection it switched away from (only ever ours), or the vectors of removed
        chunks. A failure here is healed by the next writer's reconcile, so it must not fail a committed
        write."""
        try:
            if plan.switches:
                if plan.live and self.owns(plan.live):
                    self._drop_collection(plan.live)
                return
            stale = [cid for cid in removed_chunk_ids if cid not in written]
            for i in range(0, len(stale), 256):
                col.delete(ids=stale[i : i + 256])
        except Exception:
            log.exception("could not remove stale vectors after commit %d", generation)

    def reconcile(self) -> None:
        """Heal what a crashed writer or a lost server left, touching only our own collections: drop our
        collections that never went live, delete orphan vectors and restore missing ones in our live
        collection; a live collection that is not ours or is gone is replaced by one of ours. Callers hold
        `writer()`."""
        with self._chroma_write("整理向量库"):
            live = self._live()
            for col in self._chroma.list_collections():
                name = col if isinstance(col, str) else col.name
                if name != live and self.owns(name):
                    self._drop_collection(name)
            if not live:
                return
            if not self.owns(live) or not self._exists(live):
                self.apply([], [])  # copies the committed vectors into a collection of our own
                return
            self._reconcile_collection(self._collection(live))
        with self._write() as db:
            db.execute(UPSERT_META, (WRITE_PENDING, ""))  # healed: the next write need not look again

    def _exists(self, name: str) -> bool:
        from chromadb.errors import NotFoundError

        try:
            self._collection(name)
        except (NotFoundError, ValueError):  # ValueError: older chromadb's "does not exist"
            return False
        return True

    def _committed_chunks(self, chunk_ids: list[str] | None = None) -> list[tuple[str, str, str]]:
        """(chunk_id, doc_id, text) of committed chunks (all, or those of `chunk_ids`)."""
        sql = (
            'SELECT c.chunk_id, c.doc_id, substr(d.text, c.start + 1, c."end" - c.start) '
            "FROM chunks c JOIN documents d ON d.doc_id = c.doc_id"
        )
        with self._read() as db:
            if chunk_ids is None:
                return db.execute(sql + " ORDER BY c.doc_id, c.ordinal").fetchall()
            out = []
            for i in range(0, len(chunk_ids), IN_BATCH):
                part = chunk_ids[i : i + IN_BATCH]
                marks = ",".join("?" * len(part))
                out += db.execute(sql + f" WHERE c.chunk_id IN ({marks})", part).fetchall()
            return out

    def _reconcile_collection(self, col) -> None:
        """Our own collection only: delete vectors of uncommitted chunks, restore those of committed ones."""
        with self._read() as db:
            committed = {r[0] for r in db.execute("SELECT chunk_id FROM chunks")}
        stored = col.get(include=[])["ids"]
        orphans = [cid for cid in stored if cid not in committed]
        if orphans:
            log.warning("removing %d orphan vectors left by an interrupted write", len(orphans))
            for i in range(0, len(orphans), 256):
                col.delete(ids=orphans[i : i + 256])
        missing = sorted(committed - set(stored))
        if missing:
            log.warning("restoring %d missing vectors from the embedding cache", len(missing))
            rows = self._committed_chunks(missing)
            vectors = self._vectors([text for *_, text in rows], None)
            for i in range(0, len(rows), 256):
                col.upsert(
                    ids=[cid for cid, *_ in rows[i : i + 256]],
                    embeddings=vectors[i : i + 256],
                    metadatas=[{"doc_id": doc_id} for _, doc_id, _ in rows[i : i + 256]],
                )

    def _drop_collection(self, name: str) -> None:
        self._collections.pop(name, None)
        try:
            self._chroma.delete_collection(name)
        except Exception as exc:  # already gone is fine
            log.info("could not drop collection %s: %s", name, exc)

    def passage_vectors(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        """Passage vectors of texts that are not chunks (answer candidates: a chunk's sentences), through the
        same cache, so that each is embedded once ever."""
        return self._vectors(texts, progress)

    def _vectors(self, texts: list[str], progress: Progress | None) -> np.ndarray:
        """Vectors for texts, embedding each distinct text once ever (cache keyed by embedder and sha1)."""
        shas = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._read() as db:
            for i in range(0, len(shas), IN_BATCH):
                part = list(set(shas[i : i + IN_BATCH]))
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
        step = max(
            BATCH, getattr(self.embedder, "batch_size", BATCH)
        )  # a remote endpoint takes larger batches
        for i in range(0, len(todo), step):
            batch = todo[i : i + step]
            vecs = self.embedder.embed_passages([text_of[s] for s in batch])
            with self._write() as db:
                db.executemany(
                    "INSERT INTO embedding_cache (embedder, text_sha, vector) VALUES (?,?,?) "
                    "ON CONFLICT (embedder, text_sha) DO NOTHING",
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
        with self._read() as db:
            docs = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            chunks = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return {"documents": docs, "chunks": chunks}
