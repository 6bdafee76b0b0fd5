"""Issue 12, item 4 under real load: a long upload job, then 50 concurrent small uploads, with asks and /healthz
all the while, against a real `assistant serve` on a copy of the index.

Reports the long job's size and duration, the small uploads' statuses (201/202/429, never anything else), ask and
/healthz latency while the job and the uploads run (bar: every ask within 2 s), a delete's latency, and whether
anything was lost (every 201 and the job's document listed afterwards, none of the 429s). Writes
benchmarks/results/upload_load.json.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/upload_load.py [--long-kb 150] [--small 50]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).with_name("assistant")
QUESTIONS = [
    "哪个社区推行了碧·有服务？",
    "青龙山街道是哪一天挂牌成立的？",
    "社区食堂为老年人提供了哪些优惠？",
]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def long_document(kb: int) -> bytes:
    lines, i = ["某区网格化管理年度汇编"], 0
    while sum(len(x.encode()) for x in lines) < kb * 1024:
        lines.append(
            f"第{i}网格推行“网格员+楼栋长”联动机制，全年走访群众{i * 13 % 997 + 100}户，化解矛盾纠纷{i * 7 % 89 + 3}件，"
            f"办理民生实事{i % 31 + 2}项，居民满意度达到{80 + i % 20}%，形成了第{i}号可复制的经验做法。"
        )
        i += 1
    return "\n".join(lines).encode()


def small_document(i: int) -> bytes:
    return f"第{i}号小区议事会记录\n第{i}号小区召开居民议事会，{i + 10}名居民参加，商定了加装电梯的分摊办法。".encode()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long-kb", type=int, default=150)
    parser.add_argument("--small", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="upload-load-") as tmp:
        corpus, index = Path(tmp) / "corpus", Path(tmp) / "index"
        shutil.copytree(ROOT / "corpus", corpus)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        env |= {"ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(index)}
        env.setdefault("OMP_NUM_THREADS", "2")
        env["GRADIO_ANALYTICS_ENABLED"] = "False"
        env["GRADIO_TEMP_DIR"] = str(Path(tmp) / "gradio")
        subprocess.run([str(BIN), "index"], env=env, check=True, capture_output=True)
        port = free_port()
        log = open(Path(tmp) / "server.log", "wb")
        proc = subprocess.Popen(
            [str(BIN), "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("server did not start")
                time.sleep(0.3)
            report = run(url, args, proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "upload_load.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=2))


def run(url: str, args, pid: int) -> dict:
    client = httpx.Client(base_url=url, timeout=300)
    for q in QUESTIONS:  # warm
        client.post("/api/ask", json={"question": q})
    alone = []
    for q in QUESTIONS * 3:
        started = time.monotonic()
        client.post("/api/ask", json={"question": q})
        alone.append(time.monotonic() - started)
    before = {d["doc_id"] for d in client.get("/api/documents").json()["documents"]}
    rss_before = rss_mb(pid)

    data = long_document(args.long_kb)
    job_started = time.monotonic()
    big = client.post("/api/documents", files={"file": ("年度汇编.txt", data)})
    assert big.status_code == 202, big.text
    job_url = big.json()["status_url"]

    asks, health, errors = [], [], []
    stop = threading.Event()

    def asker(k: int):
        with httpx.Client(base_url=url, timeout=60) as c:
            i = k
            while not stop.is_set():
                started = time.monotonic()
                try:
                    r = c.post("/api/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]})
                    if r.status_code != 200:
                        errors.append(f"ask {r.status_code}")
                except httpx.HTTPError as exc:
                    errors.append(f"ask {type(exc).__name__}")
                asks.append(time.monotonic() - started)
                started = time.monotonic()
                try:
                    c.get("/healthz")
                except httpx.HTTPError as exc:
                    errors.append(f"healthz {type(exc).__name__}")
                health.append(time.monotonic() - started)
                i += 1

    def upload(i: int):
        with httpx.Client(base_url=url, timeout=300) as c:
            started = time.monotonic()
            r = c.post("/api/documents", files={"file": (f"议事会{i}.txt", small_document(i))})
            return r.status_code, r.json(), r.headers.get("retry-after"), time.monotonic() - started

    with ThreadPoolExecutor(3) as askers:
        for k in range(3):
            askers.submit(asker, k)
        time.sleep(2)  # the job is embedding
        with ThreadPoolExecutor(args.small) as pool:
            uploads = list(pool.map(upload, range(args.small)))
        added = [body["doc_id"] for status, body, _, _ in uploads if status == 201]
        started = time.monotonic()
        deleted = client.delete(f"/api/documents/{added[0]}").status_code if added else None
        delete_s = time.monotonic() - started
        job_state_after_uploads = client.get(job_url).json()
        while True:
            job = client.get(job_url).json()
            if job["status"] not in ("queued", "running"):
                break
            time.sleep(0.5)
        job_s = time.monotonic() - job_started
        stop.set()
    after = {d["doc_id"] for d in client.get("/api/documents").json()["documents"]}
    statuses = [s for s, _, _, _ in uploads]
    expected = before | set(added[1:]) | ({job.get("doc_id")} if job["status"] == "done" else set())
    return {
        "long_job": {
            "kb": round(len(data) / 1024),
            "status": job["status"],
            "seconds": round(job_s, 1),
            "running_when_small_uploads_ended": job_state_after_uploads["status"] == "running",
        },
        "small_uploads": {
            "201": statuses.count(201),
            "202": statuses.count(202),
            "429": statuses.count(429),
            "other": [s for s in statuses if s not in (201, 202, 429)],
            "retry_after_present": all(ra for s, _, ra, _ in uploads if s == 429),
            "max_s": round(max(t for *_, t in uploads), 2),
        },
        "asks_alone_p50_s": round(percentile(alone, 0.5), 3),
        "asks_under_load": {
            "count": len(asks),
            "p50_s": round(percentile(asks, 0.5), 3),
            "p95_s": round(percentile(asks, 0.95), 3),
            "max_s": round(max(asks), 3),
            "within_2s": all(t < 2.0 for t in asks),
        },
        "healthz_max_s": round(max(health), 3),
        "delete_during_job": {"status": deleted, "seconds": round(delete_s, 3)},
        "errors": errors,
        "nothing_lost": after == expected,
        "rss_mb": {"before": rss_before, "after": rss_mb(pid)},
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    main()
