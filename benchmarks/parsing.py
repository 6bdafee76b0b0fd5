"""Parsing benchmarks (run by `make bench`, or alone: `.venv/bin/python benchmarks/parsing.py`).

- `pdf_engines`: pypdf (the previous engine), raw pypdfium2, pdfminer.six (when installed) and our
  `parsers.pdf_to_text` on LibreOffice PDFs made from .docx (curly quotes in another font, CJK next to
  Latin and figures, two columns, running header and page numbers): similarity to the source text
  (whitespace removed), exact match, milliseconds per page.
- `ocr`: a 10-page 300-dpi scan (no text layer) ingested by `document_from_bytes`: seconds per page and
  character accuracy.
- `attacks`: a real `assistant serve` receives a .docx bomb, a 20,000-page PDF and a PDF stream bomb: status,
  seconds, and the server's RSS before and after.
"""

from __future__ import annotations

import difflib
import io
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
BIN = Path(sys.executable).with_name("assistant")

from docfixtures import docx_bomb, hand_pdf  # noqa: E402  (tests/ on the path: the same fixtures as the tests)
from http_utils import free_port, rss_mb, wait_for_http  # noqa: E402


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def similarity(a: str, b: str) -> float:
    return round(difflib.SequenceMatcher(None, squash(a), squash(b), autojunk=False).ratio(), 4)


def _engines() -> dict:
    import docfixtures as F

    def e_pypdf(data):
        from pypdf import PdfReader

        return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]

    def e_pdfium(data):
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(data)
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]

    def e_pdfminer(data):
        from pdfminer.high_level import extract_text

        return [p for p in extract_text(io.BytesIO(data)).split("\f") if p.strip()]

    def e_ours(data):
        from assistant.parsers import pdf_to_text

        return [pdf_to_text(data).text]

    engines = {"pypdf": e_pypdf, "pypdfium2_raw": e_pdfium, "pdfminer.six": e_pdfminer, "ours": e_ours}
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, kw in {"single_column": {}, "two_columns": {"columns": 2}}.items():
            pdf = F.soffice_convert(F.make_docx(tmp / f"{name}.docx", repeat=3, **kw), "pdf")
            data, source = pdf.read_bytes(), F.body_text(3)
            import pypdfium2 as pdfium

            pages = len(pdfium.PdfDocument(data))
            for engine, fn in engines.items():
                try:
                    started = time.perf_counter()
                    text = "\n".join(fn(data))
                    ms = 1000 * (time.perf_counter() - started) / pages
                except ImportError:
                    continue
                # the running header and page footers are not part of the source text
                body = squash(text).replace(squash(F.HEADER), "")
                body = re.sub(r"第\d+页", "", body)
                out[f"{name}.{engine}"] = {
                    "similarity": similarity(source, body),
                    "exact": body == squash(source),
                    "ms_per_page": round(ms, 1),
                }
    return out


def _ocr(pages: int = 10) -> dict:
    import docfixtures as F
    import pypdfium2 as pdfium

    from assistant import corpus, parsers

    if not parsers.ocr_available():
        return {"skipped": "ocr extra not installed"}
    lines = F.scan_lines()
    # each page starts elsewhere in the text: identical pages would look like running headers
    page_lines = [lines[5 * k % len(lines) :] + lines[: 5 * k % len(lines)] for k in range(pages)]
    with tempfile.TemporaryDirectory() as tmp:
        pdf = F.scan_pdf(Path(tmp) / "scan.pdf", page_lines).read_bytes()
    parsers._ocr_engine()  # model load is once per process, not per page
    started = time.perf_counter()
    doc = corpus.document_from_bytes(pdf, "scan.pdf")
    seconds = time.perf_counter() - started
    # character accuracy per page, on the recognised lines (page-level alignment, no repeated content)
    document = pdfium.PdfDocument(pdf)
    accuracy = []
    for k in range(2):
        image = document[k].render(scale=parsers.OCR_DPI / 72, grayscale=True).to_pil()
        accuracy.append(similarity("".join(page_lines[k]), "".join(x.text for x in parsers.ocr_image(image))))
    return {
        "pages": pages,
        "seconds": round(seconds, 1),
        "seconds_per_page": round(seconds / pages, 2),
        "stored_chars": len(doc.text),
        "char_accuracy": round(sum(accuracy) / len(accuracy), 4),
        "pdf_kb": len(pdf) // 1024,
    }


def _attacks(corpus_dir: Path | None, index_dir: Path | None) -> dict:
    import os

    if corpus_dir is None or index_dir is None:
        return {"skipped": "needs an index (run through benchmarks/run.py)"}
    with tempfile.TemporaryDirectory() as tmp:
        c, i = Path(tmp) / "corpus", Path(tmp) / "index"
        shutil.copytree(corpus_dir, c)
        shutil.copytree(index_dir, i)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        env.update(ASSISTANT_CORPUS_DIR=str(c), ASSISTANT_INDEX_DIR=str(i))
        proc = subprocess.Popen(
            [str(BIN), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        out = {}
        try:
            wait_for_http(f"{base}/healthz", timeout=90, process=proc)
            out["rss_idle_mb"] = rss_mb(proc.pid)
            for name, file_name, data in (
                ("docx_bomb_200mb", "bomb.docx", docx_bomb(200)),
                ("pdf_20000_pages", "pages.pdf", hand_pdf(pages=20_000)),
                ("pdf_stream_bomb_300mb", "stream.pdf", hand_pdf(inflated_mb=300)),
            ):
                before = rss_mb(proc.pid)
                started = time.perf_counter()
                r = httpx.post(f"{base}/api/documents", files={"file": (file_name, data)}, timeout=300)
                out[name] = {
                    "upload_kb": len(data) // 1024,
                    "status": r.status_code,
                    "seconds": round(time.perf_counter() - started, 2),
                    "rss_before_mb": before,
                    "rss_after_mb": rss_mb(proc.pid),
                    "detail": r.json().get("detail", "")
                    if r.headers.get("content-type", "").startswith("application/json")
                    else "",
                }
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return out


def run(corpus_dir: Path | None = None, index_dir: Path | None = None, **_) -> dict:
    out: dict = {}
    if shutil.which("soffice"):
        out["pdf_engines"] = _engines()
    out["ocr_10_pages"] = _ocr()
    out["attacks"] = _attacks(corpus_dir, index_dir)
    return out


if __name__ == "__main__":
    import json

    corpus_arg = Path(sys.argv[1]) if len(sys.argv) > 2 else None
    index_arg = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    print(json.dumps(run(corpus_arg, index_arg), ensure_ascii=False, indent=1))
