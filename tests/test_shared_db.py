"""Replicas sharing one truth: a real PostgreSQL (Debian's package: `initdb` and `pg_ctl` in a temporary directory
on a free loopback port, started once for this module) and a real `chroma run`. Each replica is a real
`assistant serve` in a fresh working directory, configured only by the README's environment variables
(ASSISTANT_DATABASE_URL, ASSISTANT_CHROMA_URL).

Convergence is measured, not slept for: after a write answers on one replica, the other is polled until it shows
the change, and the time must stay under the issue's 2 s.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from conftest import ASSISTANT_BIN, ROOT, cli_env
from http_utils import free_port, wait_for_http
from test_replicas import QUESTION, ChromaServer

CONVERGE_S = 2.0  # the bar: a write on one replica is answered by every other within 2 s
NEW_QUESTION = "哪个社区开展了楼栋夜话活动？"


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail("PostgreSQL is not installed: `make system-deps` installs Debian's postgresql package")
    return found[-1]


class PostgresServer:
    """A throwaway PostgreSQL cluster: `stop("immediate")` is a crash (no shutdown checkpoint), `start()` brings it
    back on the same port and data directory. As root, the server runs as the `postgres` user."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="assistant-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_owner:
            shutil.chown(self.root, "postgres")
        self._run(
            _pg_bin("initdb"),
            "-D",
            str(self.data),
            *"-U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync".split(),
        )

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self.as_owner, *args], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stdout}\n{result.stderr}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.root / "server.log")
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-l", log, "-o", options, "-w", "-t", "60", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def create_database(self) -> str:
        """A new empty database (one per test, so tests never see each other's documents); its URL."""
        import psycopg

        name = f"assistant_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def remove(self) -> None:
        """Stop the server (its log's tail printed if it will not) and delete its directory."""
        try:
            self.stop()
        except RuntimeError:
            print((self.root / "server.log").read_text(errors="replace")[-2000:])
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer()
    server.start()
    yield server
    server.remove()


@pytest.fixture(scope="module")
def chroma(tmp_path_factory):
    root = tmp_path_factory.mktemp("chroma-shared-db")
    server = ChromaServer(root / "data", root / "chroma.log")
    server.start()
    yield server
    server.stop()


def seed_embedding_cache(database_url: str, base_index) -> None:
    """The seed chunks' vectors from the session's index, so indexing the seeds here embeds nothing again."""
    from assistant.database import open_database

    db = open_database(Path("unused"), database_url)
    try:
        db.create_schema()
        with sqlite3.connect(base_index[1] / "assistant.db") as source:
            rows = source.execute("SELECT embedder, text_sha, vector FROM embedding_cache").fetchall()
        with db.write() as conn:
            conn.executemany(
                "INSERT INTO embedding_cache (embedder, text_sha, vector) VALUES (?, ?, ?)", rows
            )
    finally:
        db.close()


@dataclass
class Replica:
    """`assistant serve` in its own fresh working directory (./corpus, ./index), environment variables only."""

    workdir: Path
    env: dict
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / "serve.log"

    def start(self) -> None:
        with open(
            self.log, "ab"
        ) as log:  # a file, not a pipe nobody reads: a full pipe would block the server
            self.proc = subprocess.Popen(
                [str(ASSISTANT_BIN), "serve", "--port", str(self.port)],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        try:
            wait_for_http(f"{self.url}/healthz", timeout=300, process=self.proc)
        except (RuntimeError, TimeoutError):
            print(self.log.read_text(errors="replace")[-3000:])
            raise

    def wait_listening(self, timeout: float = 300) -> httpx.Response:
        """The first /healthz answer, whatever its status (a replica whose database is down answers 503)."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text(errors="replace")
            try:
                return self.health()
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM, and SIGKILL if it has not exited within 30 s: a failing test never leaves a server behind."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)

    def index(self, *args: str) -> subprocess.CompletedProcess:
        """`assistant index` run on this replica's host (its working directory, its environment)."""
        result = subprocess.run(
            [str(ASSISTANT_BIN), "index", "--json", *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
        return result

    def documents(self) -> set[str]:
        r = httpx.get(f"{self.url}/api/documents", timeout=30)
        assert r.status_code == 200, r.text
        return {d["doc_id"] for d in r.json()["documents"]}

    def health(self) -> httpx.Response:
        return httpx.get(f"{self.url}/healthz", timeout=30)

    def ask(self, question: str) -> httpx.Response:
        return httpx.post(f"{self.url}/api/ask", json={"question": question}, timeout=120)

    def upload(self, name: str, text: str) -> httpx.Response:
        return httpx.post(
            f"{self.url}/api/documents", files={"file": (name, text.encode(), "text/plain")}, timeout=120
        )

    def delete(self, doc_id: str) -> httpx.Response:
        return httpx.delete(f"{self.url}/api/documents/{doc_id}", timeout=120)


def converge(check: Callable[[], bool], deadline_s: float = CONVERGE_S) -> float:
    """Seconds until `check()` holds, polled back to back; fails past the deadline."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > deadline_s:
            pytest.fail(f"not converged within {deadline_s} s")
    return time.monotonic() - started


@contextmanager
def replicas(tmp_path: Path, env: dict, names: tuple[str, ...] = ("a", "b")) -> Iterator[list[Replica]]:
    started = [Replica(tmp_path / name, env) for name in names]
    for r in started:
        r.workdir.mkdir(parents=True)
    try:
        yield started
    finally:
        for r in started:
            r.stop()


@pytest.fixture
def shared_env(postgres, chroma, base_index):
    url = postgres.create_database()
    seed_embedding_cache(url, base_index)
    env = cli_env(database_url=url, chroma_url=chroma.url, sync_upload_max_chunks=1)  # longer: a job
    env["OMP_NUM_THREADS"] = "1"
    return env


def cites(response: httpx.Response, doc_id: str) -> bool:
    assert response.status_code == 200, response.text
    return doc_id in {c["doc_id"] for c in response.json()["citations"]}


def test_replicas_share_documents_uploads_deletes_and_indexing(shared_env, tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "corpus", seeds)
    with replicas(tmp_path, shared_env) as (a, b):
        a.index("--corpus", str(seeds))  # index on one host ...
        for r in (a, b):
            r.start()
        for r in (a, b):
            r.wait_ready()
        answer = b.ask(QUESTION)  # ... answer on the other, which never indexed anything
        assert (
            answer.status_code == 200 and answer.json()["grounded"] and "碧海社区" in answer.json()["answer"]
        )
        assert not answer.json().get("warning")
        seed_docs = a.documents()
        assert len(seed_docs) == 5 and b.documents() == seed_docs
        health_a, health_b = a.health().json(), b.health().json()
        assert health_a["installation"] == health_b["installation"]  # one shared database, one installation
        assert health_a["collection"] == health_b["collection"] and health_b["database"] == "ok"

        timings = {}
        up = a.upload("楼栋夜话.txt", "测试社区开展了“楼栋夜话”活动，每月收集居民意见。")
        assert up.status_code == 201, up.text
        from_a = up.json()["doc_id"]
        timings["upload A→B"] = converge(lambda: from_a in b.documents())
        assert cites(b.ask(NEW_QUESTION), from_a)

        up = b.upload("议事长廊.txt", "幸福社区建成了“议事长廊”，居民每周在长廊协商公共事务。")
        assert up.status_code == 201, up.text
        from_b = up.json()["doc_id"]
        timings["upload B→A"] = converge(lambda: from_b in a.documents())
        assert cites(a.ask("哪个社区建成了议事长廊？"), from_b)

        assert b.delete(from_a).status_code == 204  # A's upload, deleted through B
        timings["delete B→A"] = converge(lambda: from_a not in a.documents())
        assert not cites(a.ask(NEW_QUESTION), from_a)
        assert a.delete(from_b).status_code == 204
        timings["delete A→B"] = converge(lambda: from_b not in b.documents())
        print("\nconvergence (s):", {k: round(v, 3) for k, v in timings.items()})
        assert a.documents() == b.documents() == seed_docs

        # writers on both replicas at once take turns (the advisory lock): every upload commits once
        from concurrent.futures import ThreadPoolExecutor

        texts = [
            (r, f"并发{i}.txt", f"第{i}号测试社区设立“并发议事点{i}”，每周收集意见。")
            for i, r in enumerate((a, b) * 2)
        ]
        with ThreadPoolExecutor(4) as pool:
            uploads = list(pool.map(lambda t: t[0].upload(t[1], t[2]), texts))
        assert [u.status_code for u in uploads] == [201] * 4, [u.text for u in uploads]
        concurrent = {u.json()["doc_id"] for u in uploads}
        converge(lambda: concurrent <= a.documents() and concurrent <= b.documents())
        assert b.health().json()["generation"] == a.health().json()["generation"]
        for doc_id in concurrent:
            assert a.delete(doc_id).status_code == 204
        converge(lambda: b.documents() == seed_docs)

        # a background job accepted by A: its status is answered by B too, from queued to done
        text = "".join(
            f"第{i}网格推行“红色物业”做法，网格员每周走访{i + 3}户居民并记录诉求。" * 3 for i in range(6)
        )
        up = a.upload("红色物业.txt", text)
        assert up.status_code == 202, up.text
        job_url = f"{b.url}/api/jobs/{up.json()['job_id']}"
        first = httpx.get(job_url, timeout=30)
        assert first.status_code == 200 and first.json()["status"] in ("queued", "running", "done")
        converge(lambda: httpx.get(job_url, timeout=30).json()["status"] == "done", deadline_s=300)
        job_doc = httpx.get(job_url, timeout=30).json()["doc_id"]
        converge(lambda: job_doc in b.documents())
        assert b.delete(job_doc).status_code == 204
        converge(lambda: job_doc not in a.documents())

        # A's own corpus still holds the file of the upload B deleted: A's `assistant index` deletes it
        # rather than adding it again
        assert (a.workdir / "corpus" / "楼栋夜话.txt").is_file()
        report = json.loads(a.index().stdout)
        assert report["added"] == [] and report["removed"] == []
        assert not (a.workdir / "corpus" / "楼栋夜话.txt").exists()

        # re-running `assistant index` over the seeds on A changes nothing for B: same generation and
        # collection, same documents, answers still from vectors
        generation = b.health().json()["generation"]
        report = json.loads(a.index("--corpus", str(seeds)).stdout)
        assert report["added"] == [] and report["removed"] == [] and report["unchanged"] == 5
        assert b.health().json()["generation"] == generation
        assert b.health().json()["collection"] == health_b["collection"] and b.documents() == seed_docs
        answer = b.ask(QUESTION).json()
        assert answer["grounded"] and not answer.get("warning")

        # `assistant index` on B over a corpus of B's adds to the shared store; A's seeds stay
        extra = tmp_path / "extra"
        extra.mkdir()
        (extra / "院落议事.txt").write_text("和平社区推行“院落议事会”，由居民推选议事代表。", "utf-8")
        shutil.copy(seeds / sorted(p.name for p in seeds.glob("*.txt"))[0], extra)  # a seed: already there
        report = json.loads(b.index("--corpus", str(extra)).stdout)
        assert report["added"] == ["院落议事.txt"] and report["removed"] == [] and report["unchanged"] == 1
        converge(lambda: len(a.documents()) == 6 and seed_docs < a.documents())
        assert a.ask("哪个社区推行院落议事会？").json()["grounded"]

        # a rebuild on B (new collection) keeps every replica's documents and vectors
        report = json.loads(b.index("--corpus", str(extra), "--rebuild").stdout)
        assert report["rebuilt"]
        converge(lambda: a.health().json()["collection"] != health_b["collection"])
        assert a.documents() == b.documents() and len(a.documents()) == 6
        answer = a.ask(QUESTION).json()
        assert answer["grounded"] and "碧海社区" in answer["answer"] and not answer.get("warning")


@dataclass
class Outcome:
    at: float
    status: int  # 0: the connection failed
    detail: str = ""
    warning: str = ""


class Load:
    """Questions against several replicas without pause; every outcome is kept."""

    def __init__(self, urls: list[str]):
        self.urls = urls
        self.statuses: list[Outcome] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(u,), daemon=True) for u in urls]

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=120)

    def _run(self, url: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            while not self._stop.is_set():
                try:
                    r = client.post("/api/ask", json={"question": QUESTION})
                    body = r.json()
                    self.statuses.append(
                        Outcome(
                            time.monotonic(), r.status_code, body.get("detail", ""), body.get("warning") or ""
                        )
                    )
                except httpx.HTTPError as exc:
                    self.statuses.append(Outcome(time.monotonic(), 0, repr(exc)))

    def wait_for(self, predicate: Callable[[Outcome], bool], timeout: float = 120) -> Outcome:
        """The first outcome from now on that satisfies `predicate`."""
        seen, deadline = len(self.statuses), time.monotonic() + timeout
        while time.monotonic() < deadline:
            for outcome in self.statuses[seen:]:
                if predicate(outcome):
                    return outcome
            time.sleep(0.05)
        pytest.fail("no such outcome within the deadline")


def test_database_or_chroma_down_degrades_and_replicas_recover_without_restart(
    shared_env, postgres, chroma, tmp_path
):
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "corpus", seeds)
    with replicas(tmp_path, shared_env, ("a", "b", "c")) as (a, b, c):
        a.index("--corpus", str(seeds))
        for r in (a, b):
            r.start()
        for r in (a, b):
            r.wait_ready()
        assert b.ask(QUESTION).json()["grounded"]
        seed = sorted(a.documents())[0]
        with Load([a.url, b.url]) as load:
            postgres.stop("immediate")  # a crash: connections drop, nothing is shut down cleanly
            try:
                down = b.health()
                assert down.json()["database"] == "down" and down.json()["status"] == "degraded"
                upload = b.upload("停库测试.txt", "数据库停机期间上传的文档，用于测试。")
                assert upload.status_code == 503, upload.text
                assert "索引数据库暂时不可用" in upload.json()["detail"]
                delete = a.delete(seed)
                assert delete.status_code == 503 and "索引数据库暂时不可用" in delete.json()["detail"]
                ask = a.ask(QUESTION)
                if ask.status_code == 200:  # a replica answers from the index it has loaded, vectors too ...
                    assert ask.json()["grounded"] and not ask.json().get("warning")
                else:  # ... or says why it cannot, in Chinese
                    assert ask.status_code == 503 and "索引数据库" in ask.json()["detail"]
                c.start()  # a replica that starts while the database is down has nothing to answer from
                cold = c.wait_listening()
                assert cold.status_code == 503 and cold.json()["database"] == "down"
                ask = c.ask(QUESTION)
                assert ask.status_code == 503 and "索引数据库暂时不可用" in ask.json()["detail"]
            finally:
                postgres.start()
            restarted = time.monotonic()
            for r in (a, b, c):  # no restart of the replicas
                recovered = converge(lambda r=r: r.health().json()["database"] == "ok", deadline_s=30)
                print(f"\n{r.workdir.name}: database ok {recovered:.2f} s after the restart")
        failures = [o for o in load.statuses if o.status not in (200, 503)]
        refused = [o for o in load.statuses if o.status == 503]
        print(
            f"{len(load.statuses)} questions, database outage: {len(refused)} × 503, {len(failures)} other failures"
        )
        assert not failures, failures[:5]
        assert all("索引数据库" in o.detail for o in refused)
        assert c.ask(QUESTION).json()["grounded"] and c.documents() == a.documents()
        up = a.upload("恢复测试.txt", "数据库恢复后上传的文档：邻里守望队每晚巡逻。")
        assert up.status_code == 201, up.text
        converge(lambda: up.json()["doc_id"] in b.documents() and up.json()["doc_id"] in c.documents())
        assert time.monotonic() - restarted < 120

        # Chroma killed and restarted under load on the three replicas: keyword answers with the warning, 0 × 5xx
        with Load([a.url, b.url, c.url]) as load:
            load.wait_for(lambda o: o.status == 200 and not o.warning)
            chroma.kill()
            killed = time.monotonic()
            load.wait_for(lambda o: o.at > killed and o.status == 200 and o.warning != "")
            health = c.health().json()
            assert (
                health["chroma"] == "down" and health["database"] == "ok" and health["status"] == "degraded"
            )
            chroma.start()
            back = time.monotonic()
            load.wait_for(lambda o: o.at > back + 1 and o.status == 200 and not o.warning)
        failures = [o for o in load.statuses if o.status != 200]
        warned = sum(1 for o in load.statuses if o.warning)
        print(
            f"{len(load.statuses)} questions, Chroma restart: {warned} from keywords, {len(failures)} failures"
        )
        assert not failures, failures[:5]
        for r in (a, b, c):  # each replica tries Chroma again 2 s after its last failure
            converge(lambda r=r: not r.ask(QUESTION).json().get("warning"), deadline_s=30)
            assert r.ask(QUESTION).json()["grounded"]


# --------------------------------------------------------------------------- one SQL layer, two engines


class HashEmbedder:
    """Deterministic unit vectors from a text's hash: the store's code paths without a model."""

    name = "hash-8"
    dim = 8

    def __init__(self):
        self.embedded = 0

    def embed_passages(self, texts):
        import hashlib

        import numpy as np

        self.embedded += len(texts)
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:32], dtype=np.uint32) for t in texts]
        vectors = np.asarray(rows, dtype=np.float32) + 1.0
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed_question(self, text):
        return self.embed_passages([text])[0]


def new_document(text: str, file: str, origin: str = ""):
    from assistant.chunking import chunk_document
    from assistant.corpus import document_from_bytes
    from assistant.lexical import tokenize
    from assistant.store import NewDocument

    doc = document_from_bytes(text.encode(), file)
    chunks = chunk_document(doc)
    return NewDocument(doc, chunks, [tokenize(c.text) for c in chunks], raw_sha=f"sha-{file}", origin=origin)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_store(request, postgres, chroma, tmp_path):
    """An IndexStore on each engine (the same code, the same SQL), vectors on the Chroma server."""
    from assistant.store import IndexStore

    url = postgres.create_database() if request.param == "postgresql" else ""
    store = IndexStore(tmp_path / "index", HashEmbedder(), chroma_url=chroma.url, database_url=url)
    yield store
    store.db.close()


def test_one_sql_layer_writes_and_reads_alike_on_both_engines(engine_store):
    from assistant.store import CommittedFile

    store = engine_store
    with store.writer():
        a = new_document("甲社区开展“楼栋夜话”活动。每月收集居民意见。", "甲.txt", origin="host-a:/corpus")
        b = new_document("乙社区建成“议事长廊”。居民每周协商公共事务。", "乙.txt", origin="host-b:/corpus")
        assert store.apply([a, b], []) == 1
    rows = store.load_rows()
    assert rows.generation == store.generation() == 1 and set(rows.documents) == {a.doc.doc_id, b.doc.doc_id}
    assert store.file_index("host-a:/corpus") == {"甲.txt": (a.doc.doc_id, "sha-甲.txt")}
    assert store.committed_file(b.doc.doc_id) == CommittedFile(
        b.doc.doc_id, "乙.txt", "sha-乙.txt", "host-b:/corpus"
    )
    # the embedding cache round-trips bytes: the same texts are never embedded twice
    embedded = store.embedder.embedded
    cached = store._vectors([c.text for c in a.chunks], None)
    assert store.embedder.embedded == embedded and cached.shape == (len(a.chunks), 8)
    # vectors are found by cosine in the live collection
    hits = store.dense_query(store.embedder.embed_question(a.chunks[0].text), 1)
    assert hits[0][0] == a.chunks[0].chunk_id and hits[0][1] > 0.99

    # a delete of host B's document through another host leaves a record for host B's next index pass
    with store.writer():
        store.apply([], [b.doc.doc_id], tombstones=[store.committed_file(b.doc.doc_id)])
    assert store.removed_files("host-b:/corpus") == {"乙.txt": "sha-乙.txt"}
    store.forget_removed("host-b:/corpus", ["乙.txt"])
    assert store.removed_files("host-b:/corpus") == {}
    live = store.meta()["live_collection"]
    assert store._collection(live).count() == len(a.chunks)  # B's vectors left with its rows
    changes = store.changes_since({d: (r["file"], r["added_at"]) for d, r in rows.documents.items()})
    assert changes.generation == 2 and changes.removed == [b.doc.doc_id] and not changes.rows.documents

    # jobs: the public state every replica reads
    store.save_job("j1", '{"status": "running"}', 1.0)
    store.save_job("j1", '{"status": "done"}', 2.0)
    assert store.load_job("j1") == '{"status": "done"}' and store.load_job("nope") is None
    assert store.stats() == {"documents": 1, "chunks": len(a.chunks)}
    assert store.database_status() == "ok"


def test_a_restored_dump_is_a_new_installation_that_leaves_the_original_intact(postgres, chroma, tmp_path):
    """pg_dump | pg_restore into another database on the same Chroma server (the README's restore): the copy
    writes to a collection of its own; the original's collection and vectors are untouched."""
    from assistant.store import IndexStore

    url = postgres.create_database()
    original = IndexStore(tmp_path / "a", HashEmbedder(), chroma_url=chroma.url, database_url=url)
    with original.writer():
        original.apply([new_document("丙社区推行“院落议事会”。", "丙.txt")], [])
    live = original.meta()["live_collection"]
    count = original._collection(live).count()

    dump = tmp_path / "assistant.dump"
    subprocess.run([_pg_bin("pg_dump"), "-Fc", "-d", url, "-f", str(dump)], check=True, timeout=120)
    restored_url = postgres.create_database()
    subprocess.run(
        [_pg_bin("pg_restore"), "--no-owner", "-d", restored_url, str(dump)], check=True, timeout=120
    )

    restored = IndexStore(tmp_path / "b", HashEmbedder(), chroma_url=chroma.url, database_url=restored_url)
    assert restored.installation != original.installation
    assert restored.meta()["live_collection"] == live  # reads the original's vectors until its first write
    embedder = restored.embedder
    with restored.writer():
        restored.reconcile()  # `assistant index`: the committed vectors move into a collection of its own
    assert embedder.embedded == 0  # from the embedding cache in the dump
    assert restored.meta()["live_collection"].startswith(f"chunks-{restored.installation}-")
    assert original._collection(live).count() == count and original.meta()["live_collection"] == live
    assert restored._collection(restored.meta()["live_collection"]).count() == count
    original.db.close()
    restored.db.close()


def test_a_reader_follows_a_rebuild_on_another_replica_without_falling_back(
    postgres, chroma, tmp_path, monkeypatch
):
    """A rebuild on one replica switches the live collection and drops the old one right after its commit;
    another replica reading the old one at that moment reads the new one instead of falling back to keywords."""
    from assistant.store import IndexStore

    url = postgres.create_database()
    writer = IndexStore(tmp_path / "w", HashEmbedder(), chroma_url=chroma.url, database_url=url)
    doc = new_document("丁社区组建“红色代办队”。为老人代办证件。", "丁.txt")
    with writer.writer():
        writer.apply([doc], [])
    reader = IndexStore(tmp_path / "r", HashEmbedder(), chroma_url=chroma.url, database_url=url)
    question = reader.embedder.embed_question(doc.chunks[0].text)
    old = reader.meta()["live_collection"]
    assert reader.dense_query(question, 1)[0][0] == doc.chunks[0].chunk_id  # the old collection is cached now

    with writer.writer():
        writer.apply([], [], rebuild=True)
    new = writer.meta()["live_collection"]
    assert new != old and old not in {c.name for c in writer._chroma.list_collections()}
    # the reader read the live collection's name just before the switch (its first look), queries after the drop
    stale = iter([{"live_collection": old, "generation": "1"}])
    fresh = reader.meta
    monkeypatch.setattr(reader, "meta", lambda: next(stale, None) or fresh())
    hits = reader.dense_query(question, 1)
    assert hits[0][0] == doc.chunks[0].chunk_id and reader.dense_failed_at == 0.0
    writer.db.close()
    reader.db.close()


def test_replicas_starting_together_on_an_empty_database_agree_on_one_installation(
    postgres, chroma, tmp_path
):
    """The schema and the installation id are made once, whichever replica gets there first."""
    from concurrent.futures import ThreadPoolExecutor

    from assistant.store import IndexStore

    url = postgres.create_database()
    start = threading.Barrier(4)

    def replica(i: int) -> IndexStore:
        start.wait()
        return IndexStore(tmp_path / f"r{i}", HashEmbedder(), chroma_url=chroma.url, database_url=url)

    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(replica, range(4)))
    assert len({s.installation for s in stores}) == 1 and stores[0].installation
    assert {s.generation() for s in stores} == {0}
    for s in stores:
        s.db.close()


def test_a_write_reconciles_vectors_only_after_an_interrupted_one(engine_store, monkeypatch):
    """Sweeping orphan vectors costs O(corpus): a write does it only when the one before died between its
    vectors and its commit, so an upload costs O(the document)."""
    store = engine_store
    sweeps = []
    sweep = store._reconcile_collection
    monkeypatch.setattr(store, "_reconcile_collection", lambda col: sweeps.append(col) or sweep(col))
    with store.writer():
        store.apply([new_document("戊社区开设“四点半课堂”。", "戊.txt")], [])
        store.apply([new_document("己社区成立“银发互助队”。", "己.txt")], [])
    assert sweeps == []

    def crash():
        raise RuntimeError("injected crash")

    lost = new_document("庚社区设立“夜间议事厅”。", "庚.txt")
    with store.writer(), pytest.raises(RuntimeError):
        store.apply([lost], [], before_commit=crash)
    live = store._collection(store.meta()["live_collection"])
    assert lost.chunks[0].chunk_id in live.get(include=[])["ids"]  # an orphan, unknown to readers
    with store.writer():
        store.apply([new_document("辛社区推行“楼道长制”。", "辛.txt")], [])
    assert len(sweeps) == 1 and lost.chunks[0].chunk_id not in live.get(include=[])["ids"]
    with store.writer():
        store.apply([new_document("壬社区建起“共享工具屋”。", "壬.txt")], [])
    assert len(sweeps) == 1
