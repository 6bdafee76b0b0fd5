"""Several hosts on one real Chroma server (`chroma run` on a free loopback port, started once for this module):
nothing one host writes destroys another's vectors, and Chroma going down degrades answers, never a 5xx.

Each host has its own index/ (copies of the seed index: a copied database becomes an installation of its own)
and the same ASSISTANT_CHROMA_URL.
"""

from __future__ import annotations

import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import copy_index, make_settings
from http_utils import free_port, serve_app

from assistant.http.app import create_app
from assistant.service import DENSE_DOWN_WARNING, Assistant

CHROMA_BIN = Path(sys.executable).with_name("chroma")
QUESTION = "哪个社区推行了碧·有服务？"


class ChromaServer:
    """A real `chroma run` process; `kill()` and `start()` again on the same port and data directory."""

    def __init__(self, path: Path, log_path: Path):
        self.path, self.log_path = path, log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 300.0) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the process owns it until it exits
        self.proc = subprocess.Popen(
            [
                str(CHROMA_BIN),
                "run",
                "--path",
                str(self.path),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"},
        )
        log.close()
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as client:
            while True:  # the port's state: refused until the server listens and answers its heartbeat
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"chroma exited with {self.proc.returncode}: {self.log_path.read_text()}"
                    )
                try:
                    if client.get(f"{self.url}/api/v2/heartbeat").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"chroma did not answer on {self.url} within {timeout} s")
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, then wait for the process to exit (after which the port refuses connections)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def chroma(tmp_path_factory):
    root = tmp_path_factory.mktemp("chroma-server")
    server = ChromaServer(root / "data", root / "chroma.log")
    server.start()
    yield server
    server.stop()


def host(base_index, root: Path, chroma_url: str) -> Assistant:
    """A host: its own copy of the seed index and corpus, on the shared Chroma server, synced once."""
    root.mkdir(parents=True, exist_ok=True)
    dirs = copy_index(base_index, root)
    assistant = Assistant(make_settings(*dirs, chroma_url=chroma_url))
    assistant.sync()  # the copied index's vectors go into a collection of its own on the server (from the cache)
    return assistant


def live(assistant: Assistant) -> str:
    return assistant.store.meta()["live_collection"]


def server_collections(assistant: Assistant) -> set[str]:
    return {c.name for c in assistant.store._chroma.list_collections()}


def uses_vectors(assistant: Assistant, question: str = QUESTION) -> bool:
    """The answer is grounded and dense retrieval took part (no fallback warning)."""
    answer = assistant.ask(question)
    hits = assistant.search(question)
    return answer.grounded and not answer.warning and any(h.dense_rank is not None for h in hits)


def test_hosts_on_one_server_never_destroy_each_other(base_index, chroma, tmp_path):
    a = host(base_index, tmp_path / "a", chroma.url)
    b = host(base_index, tmp_path / "b", chroma.url)
    assert a.store.installation != b.store.installation  # copies of one database are distinct installations
    live_a, live_b = live(a), live(b)
    assert live_a.startswith(f"chunks-{a.store.installation}-")
    assert live_b.startswith(f"chunks-{b.store.installation}-")
    count_a = a.store._collection(live_a).count()
    assert count_a == len(a.snapshot.chunks) and uses_vectors(a) and uses_vectors(b)

    # what crashed writers left: a stale collection of each host, one of an unknown (older) installation,
    # and an orphan vector in each host's live collection
    a.store._chroma.create_collection(f"chunks-{a.store.installation}-deadbeef0000", embedding_function=None)
    a.store._chroma.create_collection(f"chunks-{b.store.installation}-deadbeef0000", embedding_function=None)
    a.store._chroma.create_collection("chunks-0123456789ab", embedding_function=None)
    dim = a.embedder.dim
    a.store._collection(live_a).upsert(ids=["orphan-a"], embeddings=[[1.0] + [0.0] * (dim - 1)])

    # B re-indexes from scratch: a new collection of B's; A's collection and A's answers are untouched
    report = b.sync(rebuild=True)
    assert report.rebuilt and live(b) != live_b
    names = server_collections(a)
    assert live_a in names and live(b) in names and live_b not in names  # B dropped only its own old one
    assert f"chunks-{b.store.installation}-deadbeef0000" not in names  # B's own leftover: dropped
    assert f"chunks-{a.store.installation}-deadbeef0000" in names  # A's: not B's to delete
    assert "chunks-0123456789ab" in names  # owner unknown: kept
    assert a.store._collection(live_a).count() == count_a + 1  # A's orphan is A's business
    assert uses_vectors(a)

    # B adds and removes a document: A's vectors are untouched
    entry = b.add_document("副本测试.txt", "测试社区开展了“楼栋夜话”活动，每月收集居民意见。".encode())
    assert uses_vectors(b, "哪个社区开展了楼栋夜话活动？")
    b.remove_document(entry["doc_id"])
    assert a.store._collection(live_a).count() == count_a + 1

    # A's own sync cleans only what is A's: its orphan and its stale collection, not B's orphan
    b.store._collection(live(b)).upsert(ids=["orphan-b"], embeddings=[[1.0] + [0.0] * (dim - 1)])
    a.sync()
    names = server_collections(a)
    assert live(a) == live_a and a.store._collection(live_a).count() == count_a
    assert f"chunks-{a.store.installation}-deadbeef0000" not in names
    assert "chunks-0123456789ab" in names and live(b) in names
    assert (
        "orphan-b" in b.store._collection(live(b)).get(ids=["orphan-b"], include=[])["ids"]
    )  # B's own, kept
    assert uses_vectors(a) and uses_vectors(b)

    # vectors missing from A's collection (a server restored from an older backup) come back on `index`
    gone = sorted(c.chunk_id for c in a.snapshot.chunks)[:25]
    a.store._collection(live_a).delete(ids=gone)
    a.sync()
    assert a.store._collection(live_a).count() == count_a

    # a copy of A's index directory (a cloned replica) reads A's collection until its first write, then
    # moves to a collection of its own; A keeps answering from its own
    c_root = tmp_path / "c"
    shutil.copytree(a.settings.index_dir, c_root / "index")
    shutil.copytree(a.settings.corpus_dir, c_root / "corpus")
    c = Assistant(make_settings(c_root / "corpus", c_root / "index", chroma_url=chroma.url))
    assert c.store.installation != a.store.installation and live(c) == live_a and uses_vectors(c)
    c.sync()
    assert live(c) != live_a and live(c).startswith(f"chunks-{c.store.installation}-")
    assert live_a in server_collections(a) and a.store._collection(live_a).count() == count_a
    assert uses_vectors(a) and uses_vectors(c)


# --------------------------------------------------------------------------- Chroma down, mid-load


class Load:
    """Client threads asking and searching without pause; every outcome goes to a queue, in order."""

    def __init__(self, base_url: str, clients: int = 3):
        self.base_url = base_url
        self.results: queue.Queue = queue.Queue()
        self.all: list[dict] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(clients)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)

    def _run(self, i: int) -> None:
        questions = [QUESTION, "青龙山街道是哪一天挂牌成立的？", "网格化管理"]
        with httpx.Client(base_url=self.base_url, timeout=60) as client:
            n = 0
            while not self.stop.is_set():
                q = questions[(i + n) % len(questions)]
                started = time.monotonic()
                out = {"started": started, "route": "ask" if n % 3 else "search"}
                try:
                    if out["route"] == "ask":
                        r = client.post("/api/ask", json={"question": q})
                        body = r.json()
                        out["warning"] = body.get("warning")
                    else:
                        r = client.post("/api/search", json={"query": q})
                    out["status"] = r.status_code
                except httpx.HTTPError as exc:  # a dropped connection counts as a failure too
                    out["status"], out["error"] = 0, repr(exc)
                out["ended"] = time.monotonic()
                self.results.put(out)
                n += 1

    def wait_for(self, predicate, timeout: float = 120.0) -> dict:
        """The next outcome satisfying `predicate` (every outcome is kept in `all`)."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.results.get(timeout=max(0.0, deadline - time.monotonic()))
            self.all.append(out)
            if predicate(out):
                return out

    def drain(self) -> list[dict]:
        while True:
            try:
                self.all.append(self.results.get_nowait())
            except queue.Empty:
                return self.all


def test_chroma_killed_and_restarted_mid_load_degrades_never_5xx(base_index, chroma, tmp_path):
    a = host(base_index, tmp_path / "a", chroma.url)
    with serve_app(create_app(a, with_ui=False)) as base_url, Load(base_url) as load:
        health = httpx.get(f"{base_url}/healthz", timeout=60).json()
        assert health["status"] == "ok" and health["chroma"] == "ok" and health["database"] == "ok"
        load.wait_for(lambda o: o["route"] == "ask" and o["status"] == 200 and not o.get("warning"))

        chroma.kill()
        killed = time.monotonic()
        degraded = load.wait_for(
            lambda o: o["started"] > killed and o["route"] == "ask" and o["status"] == 200
        )
        assert degraded["warning"] == DENSE_DOWN_WARNING
        health = httpx.get(f"{base_url}/healthz", timeout=60)
        assert health.status_code == 200
        assert health.json()["status"] == "degraded" and health.json()["chroma"] == "down"
        answer = httpx.post(f"{base_url}/api/ask", json={"question": QUESTION}, timeout=60).json()
        assert (
            answer["grounded"] and "碧海社区" in answer["answer"] and answer["warning"] == DENSE_DOWN_WARNING
        )
        upload = httpx.post(
            f"{base_url}/api/documents",
            files={"file": ("停机测试.txt", "停机期间上传的文档内容，用于测试。".encode(), "text/plain")},
            timeout=60,
        )
        assert upload.status_code == 503 and "Chroma" in upload.json()["detail"]
        pack = a.course_pack(["网格化管理"])  # course packs gather from keywords too, and say so
        assert pack.items and pack.notice == DENSE_DOWN_WARNING

        chroma.start()  # same port, same data: the hosts recover without a restart
        restarted = time.monotonic()
        load.wait_for(lambda o: o["started"] > restarted and o["route"] == "ask" and not o.get("warning"))
        health = httpx.get(f"{base_url}/healthz", timeout=60).json()
        assert health["status"] == "ok" and health["chroma"] == "ok"
    outcomes = load.drain()
    failures = [o for o in outcomes if o["status"] >= 500 or o["status"] == 0]
    assert not failures, failures[:5]
    warned = sum(1 for o in outcomes if o.get("warning"))
    print(f"\n{len(outcomes)} requests during kill/restart: 0 × 5xx, {warned} answered from keywords")
    assert uses_vectors(a)


def test_healthz_is_503_only_when_nothing_can_answer(base_index, chroma, tmp_path):
    dirs = copy_index(base_index, tmp_path)
    a = Assistant(make_settings(*dirs, chroma_url=chroma.url))
    a.sync()
    fresh = Assistant(make_settings(*dirs, chroma_url=chroma.url))  # has loaded nothing yet
    moved = dirs[1].with_name("index-away")
    with (
        serve_app(create_app(a, with_ui=False)) as url_a,
        serve_app(create_app(fresh, with_ui=False)) as url_f,
    ):
        assert a.ask(QUESTION).grounded  # A holds a loaded snapshot
        dirs[1].rename(moved)  # the database cannot be opened
        try:
            ra, rf = httpx.get(f"{url_a}/healthz", timeout=60), httpx.get(f"{url_f}/healthz", timeout=60)
            assert ra.status_code == 200 and ra.json()["status"] == "degraded"
            assert ra.json()["database"] == "down"
            assert httpx.post(f"{url_a}/api/ask", json={"question": QUESTION}, timeout=60).json()["grounded"]
            assert rf.status_code == 503 and rf.json()["status"] == "down" and rf.json()["database"] == "down"
            ask = httpx.post(f"{url_f}/api/ask", json={"question": QUESTION}, timeout=60)
            assert ask.status_code == 503 and "索引数据库" in ask.json()["detail"]
        finally:
            moved.rename(dirs[1])
        rf = httpx.get(f"{url_f}/healthz", timeout=60)
        assert rf.status_code == 200 and rf.json()["status"] == "ok"
        assert httpx.post(f"{url_f}/api/ask", json={"question": QUESTION}, timeout=60).json()["grounded"]


# --------------------------------------------------------------------------- several workers on one host


def worker_pids(parent: int) -> list[int]:
    """uvicorn's worker processes: children of `parent` started by multiprocessing's spawn."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == parent and b"spawn_main" in cmdline:
            pids.append(int(stat.parent.name))
    return pids


def test_serve_with_two_workers_answers_and_sees_every_write(base_index, tmp_path):
    import os
    from concurrent.futures import ThreadPoolExecutor

    from conftest import ASSISTANT_BIN, cli_env
    from http_utils import wait_for_http

    corpus_dir, index_dir = copy_index(base_index, tmp_path)
    base_url = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.Popen(
        [str(ASSISTANT_BIN), "serve", "--port", base_url.rsplit(":", 1)[1], "--workers", "2"],
        env=cli_env(corpus_dir=corpus_dir, index_dir=index_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for_http(f"{base_url}/healthz", timeout=300, process=proc)
        assert len(worker_pids(proc.pid)) == 2

        def ask(question: str) -> dict:
            r = httpx.post(f"{base_url}/api/ask", json={"question": question}, timeout=120)
            assert r.status_code == 200, r.text
            return r.json()

        with ThreadPoolExecutor(8) as pool:  # separate connections, spread over the workers
            answers = list(pool.map(ask, [QUESTION] * 16))
        assert all(a["grounded"] and "碧海社区" in a["answer"] for a in answers)

        # a write through one worker is seen by every worker at its next request
        upload = httpx.post(
            f"{base_url}/api/documents",
            files={
                "file": (
                    "楼栋夜话.txt",
                    "测试社区开展了“楼栋夜话”活动，每月收集居民意见。".encode(),
                    "text/plain",
                )
            },
            timeout=120,
        )
        assert upload.status_code == 201, upload.text
        doc_id = upload.json()["doc_id"]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(ask, ["哪个社区开展了楼栋夜话活动？"] * 16))
        assert all(doc_id in {c["doc_id"] for c in a["citations"]} for a in answers)
        assert httpx.delete(f"{base_url}/api/documents/{doc_id}", timeout=120).status_code in (200, 204)
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(ask, ["哪个社区开展了楼栋夜话活动？"] * 16))
        assert not any(doc_id in {c["doc_id"] for c in a["citations"]} for a in answers)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        proc.stdout.close()


def test_llm_mode_with_chroma_unreachable_answers_from_keywords_with_the_warning(base_index, tmp_path):
    from openai_server import FakeLLM, serve

    dirs = copy_index(base_index, tmp_path)
    unreachable = f"http://127.0.0.1:{free_port()}"  # nothing listens: the replica starts anyway, degraded
    with serve(FakeLLM()) as fake:
        a = Assistant(
            make_settings(
                *dirs, chroma_url=unreachable, llm_base_url=fake.base_url, llm_timeout_s=10, llm_max_retries=0
            )
        )
        health = a.health()
        assert health["status"] == "degraded" and health["chroma"] == "down" and health["database"] == "ok"
        answer = a.ask("“碧·有服务”这个服务群众的模式是哪个社区探索出来的？")
    assert answer.mode == "llm" and answer.grounded and "碧海社区" in answer.answer
    assert answer.warning == DENSE_DOWN_WARNING
