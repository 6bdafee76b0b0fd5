"""Parsers on real files: LibreOffice-made PDFs and legacy Word files, real OCR on a 300-dpi render of known
Chinese text, and budgets that refuse bombs before the expensive step."""

from __future__ import annotations

import difflib
import io
import json
import re
import zipfile

import pytest
from conftest import ROOT
from docfixtures import (
    CJK_FONT,
    HEADER,
    SOFFICE,
    body_text,
    hand_pdf,
    make_docx,
    render_scan,
    scan_lines,
    scan_pdf,
)
from docfixtures import soffice_convert as convert

from assistant import corpus, parsers
from assistant.errors import EmptyDocument, PayloadTooLarge, UnsupportedFileType

needs_soffice = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (soffice) not installed: make system-deps"
)
needs_ocr = pytest.mark.skipif(
    not parsers.ocr_available() or CJK_FONT is None,
    reason="needs the ocr extra (pip install '.[ocr]') and fonts-noto-cjk: make install-test system-deps",
)
ARTIFACTS = ROOT / "test-artifacts"


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def char_accuracy(truth: str, got: str) -> float:
    """1 − (edit operations / reference length), on text without whitespace."""
    truth, got = squash(truth), squash(got)
    sm = difflib.SequenceMatcher(None, truth, got, autojunk=False)
    errors = sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in sm.get_opcodes() if op != "equal")
    return 1 - errors / len(truth)


def _record(key: str, value) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "parsers.json"
    data = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    data[key] = value
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")


@pytest.fixture(scope="module")
def office_files(tmp_path_factory):
    """One LibreOffice run: a 3-page report and a two-column one as PDF, the report as .doc and .rtf."""
    d = tmp_path_factory.mktemp("office")
    report = make_docx(d / "report.docx", repeat=3)
    twocol = make_docx(d / "twocol.docx", repeat=3, columns=2)
    return {
        "report.docx": report,
        "report.pdf": convert(report, "pdf"),
        "twocol.pdf": convert(twocol, "pdf"),
        "report.doc": convert(report, "doc"),
        "report.rtf": convert(report, "rtf"),
    }


# ---------------------------------------------------------------- PDF


@needs_soffice
@pytest.mark.parametrize("name", ["report.pdf", "twocol.pdf"])
def test_pdf_text_equals_the_source_after_whitespace(office_files, name):
    """Curly quotes in another font, CJK next to Latin and figures, two columns, running header and page
    numbers: the extracted text is the source text, in order."""
    data = office_files[name].read_bytes()
    parsed = parsers.parse(data, ".pdf")
    assert parsed.parser == "pypdfium2" and not parsed.ocr
    assert squash(parsed.text) == squash(body_text(3))
    doc = corpus.document_from_bytes(data, name)
    assert squash(doc.text) == squash(body_text(3))
    assert "关于推进“网格吹哨”社区服务管理的工作报告" in doc.text  # quotes in place, no spaces inserted
    assert "2023年以来，全市共划分基础网格1268个" in doc.text
    assert HEADER not in doc.text and not re.search(r"第\s*\d+\s*页", doc.text)
    assert doc.parser == "pypdfium2"


@needs_soffice
def test_pdf_headings_stay_their_own_paragraphs(office_files):
    doc = corpus.document_from_bytes(office_files["report.pdf"].read_bytes(), "report.pdf")
    paragraphs = doc.text.split("\n\n")
    assert "（一）着力完善网格体系，推动服务力量下沉" in paragraphs
    assert "一、总体情况" in paragraphs
    assert any(p.startswith("2023年以来") and p.endswith("缩短至3.5天。") for p in paragraphs)


def test_pdf_lines_join_where_they_run_to_the_margin():
    """Geometry decides: a heading that wraps at the margin is one heading, a short line (a heading with a
    comma) ends its paragraph, a line cut before a number that did not fit goes on."""
    L = parsers.Line
    lines = [
        L("（一）着力完善网格体系，推动服务力量下沉工作", 90, 370, 14),
        L("取得实效", 90, 146, 14),
        L("坚持党建引领，推动基层治理", 90, 272, 14),
        L("各区按照要求将楼栋长、单元长纳入网格力量，全", 90, 371, 14),
        L("年走访群众，化解矛盾纠纷四千三百余件，共计", 90, 346, 14),  # "15.2" did not fit
        L("15.2万户次。", 90, 170, 14),
    ]
    assert parsers.join_lines([parsers.mark_full(lines)]) == [
        "（一）着力完善网格体系，推动服务力量下沉工作取得实效",
        "坚持党建引领，推动基层治理",
        "各区按照要求将楼栋长、单元长纳入网格力量，全年走访群众，化解矛盾纠纷四千三百余件，共计15.2万户次。",
    ]


def test_running_headers_and_page_numbers_removed():
    body = "各区县要将网格员经费纳入财政预算，保障网格员待遇，建立考核激励机制，"  # a line to the margin
    pages = [["XX市人民政府公报", f"{body}第{i}页", body, f"- {i} -"] for i in range(1, 5)]
    assert parsers.strip_running_lines(pages) == [[f"{body}第{i}页", body] for i in range(1, 5)]


def test_repeated_body_lines_are_not_taken_for_headers():
    """Body text repeated at page edges (a refrain, a table of similar rows) runs to the margin: kept."""
    body = "各区县要将网格员经费纳入财政预算，保障网格员待遇，建立考核激励机制，"
    pages = [[body, "短行。", body], [body, "另一短行。", body]]
    assert parsers.strip_running_lines(pages) == pages


def test_damaged_pdf_is_a_clear_422():
    with pytest.raises(EmptyDocument, match="PDF"):
        parsers.parse(b"%PDF-1.7 not really", ".pdf")


def test_pdf_page_budget_checked_before_any_page_is_read(monkeypatch):
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(30):
        writer.add_blank_page(width=200, height=200)
    buf = io.BytesIO()
    writer.write(buf)
    monkeypatch.setattr(parsers, "_page_lines", lambda page: pytest.fail("a page was parsed"))
    with pytest.raises(PayloadTooLarge, match="ASSISTANT_PARSE_MAX_PDF_PAGES") as exc:
        parsers.parse(buf.getvalue(), ".pdf", parsers.Limits(max_pdf_pages=20))
    assert exc.value.status == 413 and "30 页" in exc.value.message


def test_pdf_stream_bomb_refused_before_pdfium_opens_it(monkeypatch):
    import pypdfium2

    data = hand_pdf(inflated_mb=150)  # ~150 KB file, one page whose content inflates to 150 MB
    monkeypatch.setattr(pypdfium2, "PdfDocument", lambda *a: pytest.fail("the bomb was opened"))
    with pytest.raises(PayloadTooLarge, match="ASSISTANT_PARSE_MAX_UNZIPPED_MB"):
        parsers.parse(data, ".pdf")


def test_ordinary_streams_pass_the_stream_check():
    parsers.check_pdf_streams(hand_pdf(inflated_mb=2), parsers.Limits())


@needs_soffice
def test_pdf_character_budget_stops_extraction(office_files):
    with pytest.raises(PayloadTooLarge, match="ASSISTANT_PARSE_MAX_CHARS"):
        parsers.parse(office_files["report.pdf"].read_bytes(), ".pdf", parsers.Limits(max_chars=1000))


# ---------------------------------------------------------------- Word, legacy formats


@needs_soffice
@pytest.mark.parametrize("name", ["report.docx", "report.doc", "report.rtf", "report.wps"])
def test_word_and_legacy_formats(office_files, name):
    # WPS Office saves .wps as the same compound-document format as .doc; LibreOffice reads it by content
    source = office_files["report.doc" if name == "report.wps" else name]
    doc = corpus.document_from_bytes(source.read_bytes(), name)
    assert squash(doc.text) == squash(body_text(3))
    assert "（一）着力完善网格体系，推动服务力量下沉" in doc.text.split("\n\n")
    assert doc.parser == ("python-docx" if name.endswith(".docx") else "libreoffice+python-docx")


def test_legacy_format_without_libreoffice_is_a_415_naming_it(monkeypatch):
    monkeypatch.setattr(parsers, "soffice", lambda: None)
    with pytest.raises(UnsupportedFileType, match="libreoffice-writer") as exc:
        parsers.parse(b"\xd0\xcf\x11\xe0 old word file", ".doc")
    assert exc.value.status == 415


def test_docx_tables_kept_as_rows_in_document_order(tmp_path):
    doc = corpus.document_from_bytes(make_docx(tmp_path / "t.docx", table=True).read_bytes(), "t.docx")
    lines = doc.text.split("\n\n")
    assert "指标 ｜ 2022年 ｜ 2023年" in lines and "网格数 ｜ 1200 ｜ 1268" in lines
    assert lines.index("指标 ｜ 2022年 ｜ 2023年") > lines.index("三、下一步工作安排")


def _bomb_docx(member_mb: float, entries: int = 0) -> bytes:
    """A valid-looking .docx whose document.xml inflates to `member_mb` MB (it compresses ~1000:1)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        xml = b'<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>' + b"a" * int(member_mb * 1048576)
        zf.writestr("word/document.xml", xml + b"</w:t></w:r></w:p></w:body></w:document>")
        for i in range(entries):
            zf.writestr(f"word/media/p{i}.xml", b"")
    return buf.getvalue()


def test_docx_zip_bomb_refused_from_the_directory(monkeypatch):
    import docx

    monkeypatch.setattr(docx, "Document", lambda *a: pytest.fail("the bomb was opened"))
    data = _bomb_docx(120)  # ~120 KB on disk, 120 MB inflated; default cap 100 MB
    assert len(data) < 1_000_000
    with pytest.raises(PayloadTooLarge, match="ASSISTANT_PARSE_MAX_UNZIPPED_MB") as exc:
        parsers.parse(data, ".docx")
    assert exc.value.status == 413 and "解压后过大" in exc.value.message
    with pytest.raises(PayloadTooLarge, match="ASSISTANT_PARSE_MAX_ZIP_ENTRIES"):
        parsers.parse(_bomb_docx(0.01, entries=50), ".docx", parsers.Limits(max_zip_entries=20))


def test_text_character_budget():
    with pytest.raises(PayloadTooLarge, match="ASSISTANT_PARSE_MAX_CHARS"):
        parsers.parse(("第一段内容。" * 500).encode(), ".txt", parsers.Limits(max_chars=1000))


def test_limits_come_from_settings():
    from assistant.config import Settings

    limits = parsers.Limits.from_settings(Settings(parse_max_pdf_pages=7, parse_max_chars=5000))
    assert limits.max_pdf_pages == 7 and limits.max_chars == 5000
    # the defaults are written twice (a parse needs no Settings): they must agree
    assert parsers.Limits.from_settings(Settings.model_construct()) == parsers.Limits()


# ---------------------------------------------------------------- OCR


@needs_ocr
def test_scanned_pdf_is_recognised(tmp_path):
    """A page rendered at 300 dpi from known text, with no text layer, as a scanner makes it."""
    lines = scan_lines()
    pdf = scan_pdf(tmp_path / "scan.pdf", [lines])
    seen = []
    parsed = parsers.parse(pdf.read_bytes(), ".pdf", progress=lambda done, total: seen.append((done, total)))
    accuracy = char_accuracy("".join(lines), parsed.text)
    _record("ocr_char_accuracy_300dpi", round(accuracy, 4))
    assert accuracy >= 0.95, parsed.text
    assert parsed.ocr and parsed.parser == "pypdfium2+rapidocr"
    assert seen[0] == (0, 1) and seen[-1] == (1, 1)
    doc = corpus.document_from_bytes(pdf.read_bytes(), "scan.pdf")
    assert doc.ocr and "网格" in doc.text


@needs_ocr
def test_image_upload_is_recognised():
    lines = ["关于开展社区网格员培训的通知", "各街道：请于3月15日前报送参训名单。"]
    buf = io.BytesIO()
    render_scan(lines).crop((0, 0, 2481, 1400)).save(buf, "PNG")
    doc = corpus.document_from_bytes(buf.getvalue(), "通知.png")
    assert doc.ocr and doc.parser == "rapidocr"
    assert char_accuracy("".join(lines), doc.text) >= 0.95, doc.text


def test_without_the_ocr_extra_the_422_says_how_to_enable_it(monkeypatch):
    monkeypatch.setattr(parsers, "ocr_available", lambda: False)
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (200, 200), 255).save(buf, "PNG")
    with pytest.raises(EmptyDocument, match=r"assistant\[ocr\]") as exc:
        parsers.parse(buf.getvalue(), ".png")
    assert exc.value.status == 422
    blank = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(blank, "PDF")
    with pytest.raises(EmptyDocument, match=r"没有文字层.*assistant\[ocr\]"):
        parsers.parse(blank.getvalue(), ".pdf")


def test_image_pixel_bomb_refused_from_the_header(monkeypatch):
    import struct
    import zlib as z

    monkeypatch.setattr(parsers, "ocr_available", lambda: True)
    monkeypatch.setattr(parsers, "ocr_image", lambda image: pytest.fail("the bomb was decoded"))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", z.crc32(kind + body))

    for side in (9000, 30000):  # over our cap; over Pillow's own bomb limit
        png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
        png += chunk(b"IDAT", z.compress(b"\0" * 1000)) + chunk(b"IEND", b"")
        with pytest.raises(PayloadTooLarge, match="像素"):
            parsers.parse(png, ".png")


def test_ocr_page_budget(monkeypatch):
    from PIL import Image

    monkeypatch.setattr(parsers, "ocr_available", lambda: True)
    monkeypatch.setattr(parsers, "ocr_image", lambda image: pytest.fail("a page was recognised"))
    images = [Image.new("RGB", (100, 100), "white") for _ in range(3)]
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:])
    with pytest.raises(PayloadTooLarge, match="ASSISTANT_PARSE_MAX_OCR_PAGES"):
        parsers.parse(buf.getvalue(), ".pdf", parsers.Limits(max_ocr_pages=2))


# ---------------------------------------------------------------- text encodings


def test_utf8_mojibake_repaired():
    original = "卡洛斯·阿尔卡拉斯获得男子单打冠军，这是他的第一个温网冠军。"
    garbled = original.encode("utf-8").decode("ptcp154")
    assert parsers.decode_text(garbled.encode("utf-8")) == original
    assert parsers.decode_text(b"Plain English text.") == "Plain English text."
