"""Every upload path parses with the same parsers inside the Settings budget; the document entry tells which
parser (and OCR) produced the text; stored file names lose bidi overrides."""

from __future__ import annotations

import io
import zipfile

import pytest
from conftest import make_settings
from docfixtures import SOFFICE, make_docx, soffice_convert

from assistant.errors import PayloadTooLarge
from assistant.service import Assistant


def _has_ocr() -> bool:
    import importlib.util

    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) not installed: make system-deps")
def test_entry_reports_the_parser_and_sync_uses_the_same_parsers(writable_assistant, writable_dirs, tmp_path):
    pdf = soffice_convert(make_docx(tmp_path / "简报.docx"), "pdf")
    entry = writable_assistant.add_document("简报\u202efdp.pdf", pdf.read_bytes())
    assert entry["parser"] == "pypdfium2" and entry["ocr"] is False
    assert "\u202e" not in entry["file"] and "\u202e" not in entry["source"]
    listed = {d["doc_id"]: d for d in writable_assistant.documents()}
    assert listed[entry["doc_id"]]["parser"] == "pypdfium2"
    # `assistant index` on a rebuilt index reads the same file through the same parser
    writable_assistant.sync(rebuild=True)
    assert {d["doc_id"]: d["parser"] for d in writable_assistant.documents()}[entry["doc_id"]] == "pypdfium2"


def test_upload_budget_comes_from_settings(writable_dirs):
    assistant = Assistant(make_settings(*writable_dirs, parse_max_unzipped_mb=1))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"<w:document>" + b"a" * 3_000_000 + b"</w:document>")
    with pytest.raises(PayloadTooLarge, match="ASSISTANT_PARSE_MAX_UNZIPPED_MB") as exc:
        assistant.parse_upload("大文件.docx", buf.getvalue())
    assert exc.value.status == 413


@pytest.mark.skipif(not _has_ocr(), reason="OCR extra not installed: pip install '.[ocr]'")
def test_upload_of_a_scan_reports_its_pages_as_they_are_recognised(writable_assistant, tmp_path):
    """The UI's upload passes this callback: a long scan shows which page is being recognised."""
    from docfixtures import scan_lines, scan_pdf

    pdf = scan_pdf(tmp_path / "scan.pdf", [scan_lines(), scan_lines()])
    seen = []
    prepared = writable_assistant.parse_upload(
        "扫描件.pdf", pdf.read_bytes(), ocr_progress=lambda d, t: seen.append((d, t))
    )
    assert seen[0] == (0, 2) and seen[-1] == (2, 2)
    entry = writable_assistant.add_document("扫描件.pdf", pdf.read_bytes(), prepared=prepared)
    assert entry["ocr"] is True
