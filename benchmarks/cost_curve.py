"""Cost curve (issue 11, item 6): what one upload, a question, a search, start-up, memory and disk cost as the
corpus grows from 1k to 100k chunks.

The corpus is generated, deterministically by seed, from the sentences of the five seed documents in corpus/;
the embedding cache is pre-filled with random unit vectors for every chunk, so the curve measures everything
but the embedding model (questions are still embedded by the real model; ingest is `make bench`'s subject).

    python benchmarks/cost_curve.py build 1000 10000 100000   # generate + index (kept in $COST_CURVE_DIR)
    python benchmarks/cost_curve.py measure 1000 10000 100000 # measure each, write results/cost_curve.json
    python benchmarks/cost_curve.py report                    # table into benchmarks/README.md, PNG plot

`make bench` runs `build` (once) and `measure` for 1k and 10k (building 100k takes ~15 minutes on a small
host); run the three commands above by hand for the whole curve.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
WORK = Path(os.environ.get("COST_CURVE_DIR", "/tmp/cost_curve"))
BIN = Path(sys.executable).with_name("assistant")
DEV_SET = ROOT / "eval" / "dev.jsonl"
SEED = 11
SIZES = (1000, 10000, 100000)
PACK_TOPICS = ("网格化管理", "网格化管理", "志愿服务", "党建引领物业管理")  # the second: warm
BARS_AT_100K = {
    "upload_s": 3.0,
    "ask_p50_ms": 100.0,
    "ask_p95_ms": 400.0,
    "ready_s": 20.0,
    "rss_mb": 1536.0,
    "pack_s": 3.0,
}


# ------------------------------------------------------------ corpus


def seed_sentences() -> tuple[list[str], list[str]]:
    """Body sentences and headings of the seed documents, as cleaned by the real parser."""
    from assistant.chunking import is_heading, split_sentences
    from assistant.corpus import corpus_files, document_from_bytes, load_sources

    sources = load_sources(ROOT / "corpus")
    body, headings = [], []
    for path in corpus_files(ROOT / "corpus"):
        text = document_from_bytes(path.read_bytes(), path.name, sources.get(path.name)).text
        for span in split_sentences(text):
            (headings if is_heading(text, span) else body).append(text[span[0] : span[1]])
    return body, headings


def generate(corpus_dir: Path, chunks: int, seed: int = SEED) -> int:
    """Documents of 3–60 paragraphs of seed sentences until about `chunks` chunks; returns the document count."""
    rng = random.Random(seed)
    body, headings = seed_sentences()
    corpus_dir.mkdir(parents=True, exist_ok=True)
    made = n = 0
    while made < chunks:
        paragraphs = [f"{rng.choice(headings)}（第{n + 1}号）"]
        size = rng.choice((3, 8, 20, 40, 60))
        for _ in range(size):
            paragraphs.append("".join(rng.choice(body) for _ in range(rng.randint(1, 4))))
            if rng.random() < 0.15:
                paragraphs.append(rng.choice(headings))
        text = "\n\n".join(paragraphs) + "\n"
        (corpus_dir / f"gen-{n:06d}.txt").write_text(text, "utf-8")
        made += max(1, round(len(text) / 185))  # ~300-char chunks overlapping by a sentence (measured)
        n += 1
    return n


def one_chunk_upload(seed: int) -> tuple[str, bytes]:
    """A new ~200-character document (one chunk), different for every seed."""
    rng = random.Random(seed)
    body, _ = seed_sentences()
    text = f"上传测试{seed}号：" + "".join(rng.choice([s for s in body if len(s) < 80]) for _ in range(3))
    return f"upload-{seed}.txt", text.encode("utf-8")


class _CacheOnly:
    """Stands in for the embedder while pre-filling its cache: same name and dimension, never embeds."""

    name = "e5-small-q4"
    dim = 384

    def embed_passages(self, texts):
        raise RuntimeError("the cache should hold every chunk")


def prefill(index_dir: Path, texts: list[str], seed: int = SEED) -> None:
    """Random unit vectors for `texts`, written into the embedding cache the store reads first."""
    import numpy as np

    from assistant.store import IndexStore

    store = IndexStore(index_dir, _CacheOnly())
    rng = np.random.default_rng(seed)
    with sqlite3.connect(store.db_path) as db:
        for i in range(0, len(texts), 5000):
            part = texts[i : i + 5000]
            vectors = rng.standard_normal((len(part), _CacheOnly.dim)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            db.executemany(
                "INSERT OR REPLACE INTO embedding_cache (embedder, text_sha, vector) VALUES (?,?,?)",
                [
                    (_CacheOnly.name, hashlib.sha1(t.encode("utf-8")).hexdigest(), v.tobytes())
                    for t, v in zip(part, vectors)
                ],
            )


def chunk_texts(corpus_dir: Path) -> list[str]:
    from assistant.chunking import chunk_document
    from assistant.corpus import corpus_files, document_from_bytes

    return [
        c.text
        for p in corpus_files(corpus_dir)
        for c in chunk_document(document_from_bytes(p.read_bytes(), p.name))
    ]


def build(size: int) -> dict:
    """Generate the corpus, pre-fill the cache and index it (`assistant index`'s path, no model calls)."""
    from assistant.config import Settings
    from assistant.service import Assistant

    work = WORK / str(size)
    shutil.rmtree(work, ignore_errors=True)
    corpus_dir, index_dir = work / "corpus", work / "index"
    docs = generate(corpus_dir, size)
    texts = chunk_texts(corpus_dir)
    for seed in range(1000, 1010):  # the uploads `measure` makes
        texts.append(one_chunk_upload(seed)[1].decode("utf-8"))
    prefill(index_dir, texts)
    started = time.perf_counter()
    assistant = Assistant(Settings(corpus_dir=corpus_dir, index_dir=index_dir))
    report = assistant.sync()
    info = {
        "documents": docs,
        "chunks": len(assistant.snapshot.chunks),
        "index_s": round(time.perf_counter() - started, 1),
        "failed": report.failed[:3],
    }
    (work / "build.json").write_text(json.dumps(info, ensure_ascii=False), "utf-8")
    print(f"built {size}: {info}", flush=True)
    return info


# ------------------------------------------------------------ measuring


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (load on a shared host does not inflate it)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)


def disk_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def questions() -> list[str]:
    return [json.loads(line)["question"] for line in DEV_SET.read_text("utf-8").splitlines() if line.strip()]


def measure_in_process(size: int, rounds: int = 3) -> dict:
    """Cold start (no saved snapshot) to first answer, asks and searches (single client), one upload and one
    delete each seen by the next search."""
    from assistant.config import Settings
    from assistant.service import SNAPSHOT_FILE, Assistant

    work = WORK / str(size)
    settings = Settings(corpus_dir=work / "corpus", index_dir=work / "index")
    (settings.index_dir / SNAPSHOT_FILE).unlink(missing_ok=True)  # cold: every chunk indexed in memory
    started = time.perf_counter()
    assistant = Assistant(settings)
    assistant.warm_up()
    first_answer_s = time.perf_counter() - started
    for thread in threading.enumerate():
        if thread.name == "save-snapshot":  # written once after a cold start; the server measured next
            thread.join()  # starts from it, as every start after the first does
    qs = questions()
    ask_ms, ask_cpu_ms, search_ms, embed_ms = [], [], [], []
    embed = assistant.embedder.embed_question

    def timed_embed(text):  # the model's share of an ask, reported beside it
        t = time.perf_counter()
        vector = embed(text)
        embed_ms.append(1000 * (time.perf_counter() - t))
        return vector

    assistant.embedder.embed_question = timed_embed
    for _ in range(rounds):
        for q in qs:
            t, cpu = time.perf_counter(), time.process_time()
            assistant.ask(q)
            ask_ms.append(1000 * (time.perf_counter() - t))
            ask_cpu_ms.append(1000 * (time.process_time() - cpu))
            t = time.perf_counter()
            assistant.search(q)
            search_ms.append(1000 * (time.perf_counter() - t))
    pack_s = []
    for topic in PACK_TOPICS:  # the first one also loads what packs need (POS tagger, document views)
        t = time.perf_counter()
        assistant.course_pack([topic], summaries=False)
        pack_s.append(time.perf_counter() - t)
    upload_s, upload_cpu_s, delete_s = [], [], []
    for seed in range(1000, 1003):
        name, data = one_chunk_upload(seed)
        t, cpu = time.perf_counter(), time.process_time()
        entry = assistant.add_document(name, data)
        assistant.search(f"上传测试{seed}号")  # the next question sees it: the snapshot is current
        upload_s.append(time.perf_counter() - t)
        upload_cpu_s.append(time.process_time() - cpu)
        t = time.perf_counter()
        assistant.remove_document(entry["doc_id"])
        assistant.search(f"上传测试{seed}号")
        delete_s.append(time.perf_counter() - t)
    return {
        "chunks": len(assistant.snapshot.chunks),
        "cold_first_answer_s": round(first_answer_s, 2),
        "ask_p50_ms": round(percentile(ask_ms, 0.5), 1),
        "ask_p95_ms": round(percentile(ask_ms, 0.95), 1),
        "ask_cpu_p50_ms": round(percentile(ask_cpu_ms, 0.5), 1),
        "ask_cpu_p95_ms": round(percentile(ask_cpu_ms, 0.95), 1),
        "search_p50_ms": round(percentile(search_ms, 0.5), 1),
        "search_p95_ms": round(percentile(search_ms, 0.95), 1),
        "question_embedding_p50_ms": round(percentile(embed_ms, 0.5), 1),
        "load_average": round(os.getloadavg()[0], 1),
        "upload_s": round(statistics.median(upload_s), 2),
        "upload_max_s": round(max(upload_s), 2),
        "upload_cpu_s": round(statistics.median(upload_cpu_s), 2),
        "delete_s": round(statistics.median(delete_s), 2),
        "pack_first_s": round(pack_s[0], 2),
        "pack_s": round(statistics.median(pack_s[1:]), 2),
        "process_rss_mb": rss_mb(),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure_server(size: int) -> dict:
    """`assistant serve`: start until /healthz answers 200 and until the first answer; RSS after some asks."""
    import httpx

    work = WORK / str(size)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_CORPUS_DIR=str(work / "corpus"), ASSISTANT_INDEX_DIR=str(work / "index"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ready = answered = None
    try:
        while time.perf_counter() - started < 300 and proc.poll() is None and ready is None:
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    ready = time.perf_counter() - started
                    ready_cpu = cpu_s(proc.pid)
            except httpx.HTTPError:
                time.sleep(0.05)
        if ready is None:
            return {"ready_s": None}
        httpx.post(f"{base}/api/ask", json={"question": questions()[0]}, timeout=300)
        answered = time.perf_counter() - started
        for q in questions()[:10]:
            httpx.post(f"{base}/api/ask", json={"question": q}, timeout=300)
        rss = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return {
        "ready_s": round(ready, 2),
        "ready_cpu_s": ready_cpu,
        "first_answer_server_s": round(answered, 2),
        "rss_mb": rss,
    }


def measure(size: int) -> dict:
    """Each measure in a fresh interpreter, so memory and start-up are not flattered by a warm process."""
    out = subprocess.run(
        [sys.executable, __file__, "_in_process", str(size)], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result |= measure_server(size)
    result["disk_mb"] = disk_mb(WORK / str(size) / "index")
    result["build"] = json.loads((WORK / str(size) / "build.json").read_text("utf-8"))
    print(f"measured {size}: {json.dumps(result, ensure_ascii=False)}", flush=True)
    return result


def save(results: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "cost_curve.json"
    old = json.loads(path.read_text("utf-8")) if path.exists() else {}
    old.update({str(k): v for k, v in results.items()})
    path.write_text(json.dumps(old, ensure_ascii=False, indent=2), "utf-8")
    return path


# ------------------------------------------------------------ report

COLUMNS = (
    ("upload_s", "one 1-chunk upload (s)"),
    ("upload_cpu_s", "one upload, CPU time of the process (s)"),
    ("delete_s", "one delete (s)"),
    ("ask_p50_ms", "ask p50 (ms)"),
    ("ask_p95_ms", "ask p95 (ms)"),
    ("ask_cpu_p50_ms", "ask p50, CPU time of the process (ms)"),
    ("ask_cpu_p95_ms", "ask p95, CPU time of the process (ms)"),
    ("search_p50_ms", "search p50 (ms)"),
    ("search_p95_ms", "search p95 (ms)"),
    ("question_embedding_p50_ms", "of which the model: question embedding p50 (ms)"),
    ("pack_first_s", "first course pack in a process (s)"),
    ("pack_s", "course pack, median of the next three (s)"),
    ("ready_s", "serve ready (s)"),
    ("ready_cpu_s", "serve ready, CPU time of the server (s)"),
    ("cold_first_answer_s", "cold start, no saved snapshot, to first answer (s)"),
    ("first_answer_server_s", "serve first answer (s)"),
    ("rss_mb", "serve RSS (MB)"),
    ("process_rss_mb", "in-process RSS after a cold start (MB)"),
    ("disk_mb", "index on disk (MB)"),
    ("load_average", "machine load average (2 cores)"),
)


def table(results: dict) -> str:
    sizes = sorted(results, key=int)
    head = "| | " + " | ".join(f"{int(s):,} chunks" for s in sizes) + " | bar at 100k |\n"
    head += "|---" * (len(sizes) + 2) + "|\n"
    rows = []
    for key, label in COLUMNS:
        bar = BARS_AT_100K.get(key)
        cells = [str(results[s].get(key, "—")) for s in sizes]
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {'≤ ' + str(bar) if bar else ''} |")
    return head + "\n".join(rows) + "\n"


README = ROOT / "benchmarks" / "README.md"
BEGIN, END = "<!-- cost-curve table: begin -->", "<!-- cost-curve table: end -->"


def write_table(results: dict) -> None:
    """The table between the markers in benchmarks/README.md (written by `report`, never by hand)."""
    text = README.read_text("utf-8")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + BEGIN + "\n" + table(results) + END + rest.split(END, 1)[1]
        README.write_text(text, "utf-8")


def plot(results: dict, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    sizes = sorted(results, key=int)
    x = [results[s].get("chunks", int(s)) for s in sizes]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for ax, keys, unit in (
        (axes[0], ("ask_p50_ms", "ask_p95_ms", "search_p95_ms"), "ms"),
        (axes[1], ("upload_s", "delete_s", "ready_s"), "s"),
        (axes[2], ("rss_mb", "disk_mb"), "MB"),
    ):
        for key in keys:
            ax.plot(x, [results[s].get(key) for s in sizes], marker="o", label=key)
        ax.set_xscale("log")
        ax.set_xlabel("chunks")
        ax.set_ylabel(unit)
        ax.legend()
        ax.grid(True, alpha=0.3)
    fig.suptitle("cost curve (embedding cache pre-filled)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def run(**_) -> dict:
    """`make bench` (benchmarks/run.py): the curve at 1k and 10k chunks, each built once and kept."""
    sizes = (1000, 10000)
    for size in sizes:
        if not (WORK / str(size) / "build.json").exists():
            build(size)
    results = {size: measure(size) for size in sizes}
    save(results)
    plot(json.loads((RESULTS / "cost_curve.json").read_text("utf-8")), ROOT / "benchmarks" / "cost_curve.png")
    return results


def main(argv: list[str]) -> None:
    command, sizes = (argv[0] if argv else "all"), [int(s) for s in argv[1:]] or list(SIZES)
    if command == "_in_process":
        print(json.dumps(measure_in_process(sizes[0])))
        return
    if command in ("build", "all"):
        for size in sizes:
            build(size)
    if command in ("measure", "all"):
        path = save({size: measure(size) for size in sizes})
        print(f"written: {path}")
    if command == "report":
        results = json.loads((RESULTS / "cost_curve.json").read_text("utf-8"))
        print(table(results))
        write_table(results)
        png = ROOT / "benchmarks" / "cost_curve.png"
        print(f"plot: {png}" if plot(results, png) else "matplotlib not installed: no plot")


if __name__ == "__main__":
    main(sys.argv[1:])
