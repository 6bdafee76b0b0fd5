"""The transactional store under `IndexStore`: embedded SQLite (`index/assistant.db`, the default) or a PostgreSQL
server shared by every replica (`ASSISTANT_DATABASE_URL=postgresql://…`).

There is one schema and one set of SQL statements (written with `?` placeholders and `ON CONFLICT` upserts, which
both engines understand); a `Database` hides only what differs: placeholders and the blob type, how a read or a
write transaction starts, the lock that lets one writer at a time in across processes (a file lock beside the
SQLite file; a PostgreSQL advisory lock across hosts), the database's identity (which makes a copied or restored
database a new installation), and which driver errors mean "the database is down" (→ `DatabaseUnavailable`, 503).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .errors import AssistantError

log = logging.getLogger(__name__)

RETRY_AFTER_S = (
    1.0  # after a failed connection, requests fail fast this long before the server is tried again
)
CONNECT_TIMEOUT_S = 3  # a server that does not answer must not hang a question (libpq's minimum is 2)
POOL_MAX = 8  # connections per process to a PostgreSQL server (one is held by a writer for its whole write)
WRITER_LOCK_KEY = 0x61737369  # pg_advisory_lock key of `writer()`: one writer at a time, on every host
COMMIT_LOCK_KEY = 0x61737370  # pg_advisory_xact_lock key of a write transaction (SQLite's BEGIN IMMEDIATE)

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, file TEXT NOT NULL, raw_sha TEXT NOT NULL DEFAULT '', source TEXT NOT NULL,
    title TEXT NOT NULL, region TEXT NOT NULL DEFAULT '', date TEXT NOT NULL DEFAULT '', text TEXT NOT NULL,
    chars INTEGER NOT NULL, added_at TEXT NOT NULL, parser TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, tokens TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS embedding_cache (
    embedder TEXT NOT NULL, text_sha TEXT NOT NULL, vector {blob} NOT NULL, PRIMARY KEY (embedder, text_sha));
CREATE TABLE IF NOT EXISTS removed_files (
    origin TEXT NOT NULL, file TEXT NOT NULL, raw_sha TEXT NOT NULL, PRIMARY KEY (origin, file));
CREATE TABLE IF NOT EXISTS jobs (job_id TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at REAL NOT NULL);
"""

# columns added after a table was first made: added in place to older databases
ADDED_COLUMNS = (
    ("documents", "parser", "TEXT NOT NULL DEFAULT ''"),
    ("documents", "origin", "TEXT NOT NULL DEFAULT ''"),
)


class Unavailable(AssistantError):
    """A dependency (Chroma, the database) is down: 503, try again later."""

    status = 503


class DatabaseUnavailable(Unavailable):
    """The index database cannot be reached or read; replicas that loaded an index keep answering from it."""


class Connection:
    """A connection with `?` placeholders whatever the driver; `execute` returns an iterable cursor."""

    def __init__(self, raw, placeholder: str = "?"):
        self.raw = raw
        self._placeholder = placeholder

    def _sql(self, sql: str) -> str:
        return sql.replace("%", "%%").replace("?", self._placeholder)

    def execute(self, sql: str, params: Sequence[Any] = ()):
        if self._placeholder == "?":
            return self.raw.execute(sql, params)
        return self.raw.execute(self._sql(sql), params) if params else self.raw.execute(sql)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self._placeholder == "?":
            self.raw.executemany(sql, rows)
        elif rows:
            with self.raw.cursor() as cur:
                cur.executemany(self._sql(sql), rows)


class Database(ABC):
    """What the two engines share: transactions on `connect()`, the schema, columns added in place."""

    shared = False  # whether replicas on other hosts write to the same database
    begin_read = "BEGIN"
    begin_write = "BEGIN"
    blob = "BLOB"

    @abstractmethod
    def connect(self) -> contextlib.AbstractContextManager[Connection]:
        """A connection in autocommit mode (`read`/`write` open the transactions)."""

    @abstractmethod
    def writer_lock(self) -> contextlib.AbstractContextManager[None]:
        """Held by the one writer of every process on this database for its whole write."""

    @abstractmethod
    def identity(self) -> str:
        """Which database this is physically: a copy or a restored backup has another identity."""

    @abstractmethod
    def describe(self) -> str:
        """Where it is, for messages (never a password)."""

    @abstractmethod
    def columns(self, db: Connection, table: str) -> set[str]:
        """The column names of `table`."""

    def ping(self) -> None:
        """Reach the database now (for /healthz)."""
        with self.connect() as db:
            db.execute("SELECT 1")

    def close(self) -> None:
        """Release connections (a pool's)."""

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """One consistent view across several statements (a reader never sees half of a commit)."""
        with self.connect() as db:
            db.execute(self.begin_read)
            try:
                yield db
            except BaseException:
                with contextlib.suppress(Exception):
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction, committed at the end of the block, rolled back on any error; write transactions
        take turns (so a read-then-write inside one never races another's)."""
        with self.connect() as db:
            db.execute(self.begin_write)
            self._serialize(db)
            try:
                yield db
            except BaseException:
                with contextlib.suppress(Exception):  # a dead connection has rolled back by itself
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _serialize(self, db: Connection) -> None:
        """Called first in a write transaction; SQLite's BEGIN IMMEDIATE already serialises."""

    def create_schema(self) -> None:
        with self.write() as db:
            for statement in SCHEMA.format(blob=self.blob).split(";"):
                if statement.strip():
                    db.execute(statement)
            for table, column, declaration in ADDED_COLUMNS:
                if column not in self.columns(db, table):
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


class SQLiteDatabase(Database):
    """index/assistant.db: WAL, full fsync; writers take turns through index/.lock (and a thread lock)."""

    begin_write = "BEGIN IMMEDIATE"

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock_path = self.path.with_name(".lock")

    def describe(self) -> str:
        return str(self.path)

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        except sqlite3.Error as exc:
            raise unavailable(self, exc) from exc
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=FULL")
            yield Connection(db)
        except sqlite3.OperationalError as exc:  # unreadable, moved away, locked for a minute
            raise unavailable(self, exc) from exc
        finally:
            db.close()

    @contextlib.contextmanager
    def writer_lock(self) -> Iterator[None]:
        with open(self._lock_path, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def identity(self) -> str:
        """The file's device and inode: a copied or restored file is another database."""
        st = self.path.stat()
        return f"{st.st_dev}:{st.st_ino}"

    def columns(self, db: Connection, table: str) -> set[str]:
        return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


class PostgresDatabase(Database):
    """A PostgreSQL server shared by every replica, through a small connection pool per process.

    A circuit breaker keeps an outage cheap: after a failed connection, requests fail at once
    (`DatabaseUnavailable`); every `RETRY_AFTER_S` one request tries the server again while the others keep
    failing at once, and its success closes the circuit, so replicas recover by themselves once it is back."""

    shared = True
    begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    blob = "BYTEA"

    def __init__(self, url: str):
        from psycopg_pool import ConnectionPool

        self.url = url
        # monotonic time before which nobody tries the server (0: the circuit is closed)
        self._down_until = 0.0
        self._probe = threading.Lock()  # held by the one request trying the server after an outage
        self._error = ""
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_MAX,
            kwargs={
                "autocommit": True,
                "connect_timeout": CONNECT_TIMEOUT_S,
                "application_name": "assistant",
            },
            check=ConnectionPool.check_connection,  # a connection broken by a server restart is replaced
            timeout=CONNECT_TIMEOUT_S,
            reconnect_timeout=CONNECT_TIMEOUT_S,  # give up a background attempt soon; the next request retries
            name="assistant",
            open=False,
        )
        self._pool.open(wait=False)

    def describe(self) -> str:
        """The URL without its password (for messages and logs)."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        netloc = f"{parts.username}@{host}" if parts.username else host
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        if not self._down_until:
            with self._pooled() as db:
                yield db
            return
        if time.monotonic() < self._down_until or not self._probe.acquire(blocking=False):
            raise DatabaseUnavailable(self._message(self._error))
        try:  # this request tries the server; the others fail at once until it knows
            with self._pooled() as db:
                yield db
        finally:
            self._probe.release()

    @contextlib.contextmanager
    def _pooled(self) -> Iterator[Connection]:
        import psycopg
        import psycopg_pool

        try:
            with self._pool.connection() as raw:
                yield Connection(raw, "%s")
        except (psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout) as exc:
            first = not self._down_until
            self._error = f"{type(exc).__name__}: {_first_line(exc)}"
            self._down_until = time.monotonic() + RETRY_AFTER_S
            if first:
                log.warning("database %s unavailable: %s", self.describe(), self._error)
            raise DatabaseUnavailable(self._message(self._error)) from exc
        if self._down_until:
            log.warning("database %s reachable again", self.describe())
            self._down_until = 0.0

    def _message(self, error: str) -> str:
        return message(self, error)

    def ping(self) -> None:
        """Reach the server now, even while the circuit is open (for /healthz)."""
        with self._pooled() as db:
            db.execute("SELECT 1")

    @contextlib.contextmanager
    def writer_lock(self) -> Iterator[None]:
        """A session advisory lock on a connection held for the whole write: one writer on every host. The
        server drops it with the session, so a writer that dies never leaves it taken."""
        with self.connect() as db:
            db.execute("SELECT pg_advisory_lock(?)", (WRITER_LOCK_KEY,))
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    db.execute("SELECT pg_advisory_unlock(?)", (WRITER_LOCK_KEY,))

    def _serialize(self, db: Connection) -> None:
        db.execute("SELECT pg_advisory_xact_lock(?)", (COMMIT_LOCK_KEY,))

    def identity(self) -> str:
        """The cluster's system identifier and the database's oid: a restored dump is another database."""
        with self.connect() as db:
            system = db.execute("SELECT system_identifier FROM pg_control_system()").fetchone()[0]
            oid = db.execute("SELECT oid FROM pg_database WHERE datname = current_database()").fetchone()[0]
        return f"pg:{system}:{oid}"

    def columns(self, db: Connection, table: str) -> set[str]:
        return {
            r[0]
            for r in db.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = ?",
                (table,),
            )
        }

    def close(self) -> None:
        self._pool.close()


def open_database(index_dir: Path, database_url: str = "") -> Database:
    """The configured database: PostgreSQL for a postgresql:// URL, else index/assistant.db."""
    if not database_url:
        return SQLiteDatabase(Path(index_dir) / "assistant.db")
    scheme = urlsplit(database_url).scheme
    if scheme not in ("postgresql", "postgres"):
        raise AssistantError(
            f"ASSISTANT_DATABASE_URL 不受支持：{scheme or database_url}。"
            "请使用 postgresql://用户:密码@主机:端口/数据库，或留空以使用内置的 SQLite。"
        )
    return PostgresDatabase(database_url)


def message(database: Database, error: str) -> str:
    where = "ASSISTANT_DATABASE_URL" if database.shared else "ASSISTANT_INDEX_DIR"
    return f"索引数据库暂时不可用（{database.describe()}：{error}），请稍后重试或检查 {where}。"


def unavailable(database: Database, exc: Exception) -> DatabaseUnavailable:
    return DatabaseUnavailable(message(database, f"{type(exc).__name__}: {exc}"))


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
