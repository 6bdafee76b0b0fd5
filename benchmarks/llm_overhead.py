"""What LLM mode costs beyond the endpoint's own time.

Runs the dev questions through `Assistant.ask_stream` in LLM mode against the fake OpenAI server of the tests
(tests/openai_server.py in its own process on loopback, answering instantly or with a per-piece delay), and
subtracts the time the server itself spent on each completion (request received → last piece sent). What is left is ours: retrieval,
prompt building, the HTTP client, streaming verification, quote selection. Extractive mode on the same
questions is measured alongside, so `llm_extra_ms` is the part LLM mode adds on top of retrieval.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/llm_overhead.py [--rounds 3] [--token-delay 0.005]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DEV_SET = ROOT / "eval" / "dev.jsonl"
for path in (ROOT, ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else 0.0


def _timed_ask(assistant, question: str) -> tuple[float, float, object]:
    """(total ms, ms to the first streamed piece, final Answer)."""
    started = time.perf_counter()
    first = None
    result = None
    for piece in assistant.ask_stream(question):
        if isinstance(piece, str):
            if first is None:
                first = time.perf_counter()
        else:
            result = piece
    end = time.perf_counter()
    return 1000 * (end - started), 1000 * ((first or end) - started), result


@contextlib.contextmanager
def fake_server(token_delay_s: float):
    """tests/openai_server.py in a child process (so its work does not share our GIL); yields its base URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "openai_server.py"),
            "--port",
            "0",
            "--token-delay",
            str(token_delay_s),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://\S+/v1", line)
        if not m:
            raise RuntimeError(f"fake OpenAI server did not start: {line!r}")
        yield m.group(0)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def server_timings(base_url: str) -> list[float]:
    return httpx.get(base_url.removesuffix("/v1") + "/fake/timings", timeout=10).json()["timings"]


def run(
    corpus_dir: Path | str | None = None,
    index_dir: Path | str | None = None,
    rounds: int = 3,
    token_delay_s: float = 0.0,
    gold: Path = DEV_SET,
) -> dict:
    """p50/p95 of LLM-mode time minus the endpoint's own time, over `rounds` passes of the dev questions."""
    from assistant.config import Settings
    from assistant.evaluation import citation_valid, load_gold
    from assistant.service import Assistant

    paths = {k: Path(v) for k, v in (("corpus_dir", corpus_dir), ("index_dir", index_dir)) if v}
    questions = [item["question"] for item in load_gold(gold)]
    total, first_piece, extractive, answers = [], [], [], []
    with fake_server(token_delay_s) as base_url:
        llm = Assistant(Settings(llm_base_url=base_url, **paths))
        plain = Assistant(Settings(**paths), embedder=llm.embedder)
        for q in questions[:3]:  # warm-up: models, jieba, HTTP connection
            _timed_ask(llm, q)
            _timed_ask(plain, q)
        skip = len(server_timings(base_url))
        for _ in range(rounds):
            for q in questions:
                ms, first_ms, answer = _timed_ask(llm, q)
                plain_ms, _, _ = _timed_ask(plain, q)
                total.append(ms)
                first_piece.append(first_ms)
                extractive.append(plain_ms)
                answers.append(answer)
        endpoint = [1000 * t for t in server_timings(base_url)[skip:]]
    if len(endpoint) != len(total):  # one completion per ask: no history, no retries
        raise RuntimeError(f"expected {len(total)} completions, the server saw {len(endpoint)}")
    overhead = [t - e for t, e in zip(total, endpoint)]
    extra = [o - p for o, p in zip(overhead, extractive)]
    fallbacks = sum(a.mode != "llm" for a in answers)
    invalid = sum(not citation_valid(a, llm.snapshot.documents) for a in answers)
    return {
        "questions": len(questions),
        "rounds": rounds,
        "token_delay_s": token_delay_s,
        "overhead_ms_p50": round(percentile(overhead, 0.5), 1),
        "overhead_ms_p95": round(percentile(overhead, 0.95), 1),
        "llm_extra_ms_p50": round(percentile(extra, 0.5), 1),
        "total_ms_p50": round(percentile(total, 0.5), 1),
        "endpoint_ms_p50": round(percentile(endpoint, 0.5), 1),
        "first_piece_ms_p50": round(percentile(first_piece, 0.5), 1),
        "extractive_ms_p50": round(percentile(extractive, 0.5), 1),
        "overhead_ms_mean": round(statistics.fmean(overhead), 1),
        "fallbacks": fallbacks,
        "invalid_citations": invalid,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--token-delay", type=float, default=0.0, help="fake model: seconds per streamed piece"
    )
    args = parser.parse_args()
    print(
        json.dumps(run(args.corpus, args.index, args.rounds, args.token_delay), ensure_ascii=False, indent=2)
    )


if __name__ == "__main__":
    main()
