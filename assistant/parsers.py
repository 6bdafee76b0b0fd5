"""File bytes → raw text, one well-kept parser per format, every parse inside a budget.

This stage only extracts; cleaning (corpus.py) decides what the stored text is. Every parser returns a
`Parsed` saying which engine produced the text (and whether OCR did), so the document entry can tell.
Budgets (`Limits`, from Settings) are checked before the expensive step: the zip directory before a
.docx is read, the page count before a PDF page is parsed, characters as they are extracted. A parse run
`with stop_when(event)` stops between pages and parts once the event is set (the HTTP layer sets it when the
uploading client disconnects): `ClientGone`, nothing parsed is kept.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import tempfile
import threading
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .errors import ClientGone, EmptyDocument, PayloadTooLarge, UnsupportedFileType
from .punctuation import ENDS_PARAGRAPH, ENDS_SENTENCE

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md", ".html", ".htm")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
LEGACY_SUFFIXES = (".doc", ".wps", ".rtf", ".odt")  # converted to .docx by LibreOffice headless
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, ".pdf", ".docx", *LEGACY_SUFFIXES, *IMAGE_SUFFIXES)
SUPPORTED_LIST = ".txt .md .html .pdf .docx .doc .wps .rtf .odt .png .jpg"
OCR_HINT = "请安装文字识别组件：pip install 'assistant[ocr]'（或运行 make install-test）后重新上传"
OCR_DPI = 300  # scans are made at 300 dpi; OCR accuracy drops below ~200
CELL_SEP = " ｜ "  # table cells on one line; cleaning never joins such a row with the next line

Progress = Callable[[int, int], None]

# The stop signal of the parse running in this context (a worker thread gets a copy of its request's context).
_stop: ContextVar[threading.Event | None] = ContextVar("parse_stop", default=None)


@contextmanager
def stop_when(event: threading.Event) -> Iterator[None]:
    """Parses started inside the block (also in worker threads started from it) stop once `event` is set."""
    token = _stop.set(event)
    try:
        yield
    finally:
        _stop.reset(token)


def _check_stop(done: int, total: int, unit: str) -> None:
    """Between two pages or parts: give up if whoever asked for this parse is gone."""
    event = _stop.get()
    if event is not None and event.is_set():
        log.warning("parse stopped after %d of %d %s: the client is gone, nothing is kept", done, total, unit)
        raise ClientGone("上传已中断（客户端已断开连接）：文件解析已停止，未保存任何内容。")


@dataclass(frozen=True)
class Limits:
    """The budget of one parse. Defaults equal Settings' defaults (README · 配置)."""

    max_unzipped_mb: float = 100.0
    max_zip_entries: int = 2000
    max_pdf_pages: int = 500
    max_chars: int = 2_000_000
    max_ocr_pages: int = 50
    max_image_pixels: int = 60_000_000
    convert_timeout_s: float = 120.0

    @classmethod
    def from_settings(cls, settings) -> Limits:
        return cls(
            max_unzipped_mb=settings.parse_max_unzipped_mb,
            max_zip_entries=settings.parse_max_zip_entries,
            max_pdf_pages=settings.parse_max_pdf_pages,
            max_chars=settings.parse_max_chars,
            max_ocr_pages=settings.parse_max_ocr_pages,
            convert_timeout_s=settings.parse_convert_timeout_s,
        )


@dataclass
class Parsed:
    text: str
    layout: str  # "paragraphs" (Word, HTML, PDF/OCR joined by geometry) or "text" (maybe broken lines)
    parser: str  # e.g. "pypdfium2", "pypdfium2+rapidocr", "libreoffice+python-docx"
    ocr: bool = False


def parse(data: bytes, suffix: str, limits: Limits | None = None, progress: Progress | None = None) -> Parsed:
    """Bytes of one file → raw text, within `limits`; `progress(done, total)` is called per OCR page."""
    limits = limits or Limits()
    suffix = suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileType(f"不支持的文件类型“{suffix or '无扩展名'}”：请上传 {SUPPORTED_LIST} 文件。")
    if not data.strip():
        raise EmptyDocument("文件是空的：请上传包含正文的文件。")
    if suffix in TEXT_SUFFIXES:
        parsed = _parse_text(data, suffix)
    elif suffix == ".pdf":
        parsed = pdf_to_text(data, limits, progress)
    elif suffix == ".docx":
        parsed = Parsed(docx_to_text(data, limits), "paragraphs", "python-docx")
    elif suffix in LEGACY_SUFFIXES:
        converted = convert_to_docx(data, suffix, limits)
        parsed = Parsed(docx_to_text(converted, limits), "paragraphs", "libreoffice+python-docx")
    else:
        parsed = image_to_text(data, limits)
    _check_chars(len(parsed.text), limits)
    _check_stop(1, 1, "file")
    return parsed


def _check_chars(n: int, limits: Limits) -> None:
    if n > limits.max_chars:
        raise PayloadTooLarge(
            f"文档文字过多（已超过 {limits.max_chars} 字）：上限由 ASSISTANT_PARSE_MAX_CHARS 设定，请拆分后上传。"
        )


# ---------------------------------------------------------------- plain text, Markdown, HTML


def _parse_text(data: bytes, suffix: str) -> Parsed:
    if suffix == ".txt":
        return Parsed(decode_text(data), "text", "text")
    if suffix == ".md":
        return Parsed(markdown_to_text(decode_text(data)), "text", "markdown")
    return Parsed(html_to_text(decode_html(data)), "paragraphs", "trafilatura")


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), then GB18030, the two encodings Chinese government files come in."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return repair_mojibake(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise EmptyDocument("无法识别文件编码：请将文本文件另存为 UTF-8 或 GB18030 编码后重新上传。") from exc
    if not _looks_like_text(text):
        raise EmptyDocument("文件不是可识别的文本：请另存为 UTF-8 编码的 .txt 后重新上传。")
    return text


def _looks_like_text(text: str) -> bool:
    """GB18030 decodes almost any bytes; reject results full of control characters or rare symbols."""
    if not text:
        return True
    sample = text[:5000]
    bad = sum(1 for ch in sample if unicodedata.category(ch) in ("Cc", "Co", "Cn") and ch not in "\n\r\t")
    return bad / len(sample) < 0.01


def _cjk_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    return sum(1 for ch in letters if "\u4e00" <= ch <= "\u9fff") / len(letters) if letters else 0.0


def repair_mojibake(text: str) -> str:
    """UTF-8 Chinese once mis-decoded as a one-byte code page (no CJK left, Cyrillic/Latin-1 soup) is
    re-encoded and decoded again; kept only when the result is clearly Chinese."""
    sample = text[:2000]
    if _cjk_share(sample) > 0.05 or not any(ord(ch) > 0x7F for ch in sample):
        return text
    for codec in ("cp1252", "latin-1", "ptcp154", "cp1251", "koi8-r"):
        try:
            fixed = text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if _cjk_share(fixed[:2000]) > 0.5:
            return fixed
    return text


def markdown_to_text(md: str) -> str:
    """Keep headings as their own lines (marker kept until cleaning), drop emphasis, links and images."""
    md = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", md)
    md = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", md)
    md = re.sub(r"(\*\*|__)(.+?)\1", r"\2", md)
    md = re.sub(r"(?m)^\s*([-*+]|\d+\.)\s+", "", md)
    md = re.sub(r"(?m)^\s*>\s?", "", md)
    md = re.sub(r"(?m)^\s*(-{3,}|\*{3,}|_{3,})\s*$", "", md)
    return md


def decode_html(data: bytes) -> str:
    head = data[:2000].decode("ascii", "ignore").lower()
    m = re.search(r"charset=[\"']?([\w-]+)", head)
    if m and m.group(1) in ("gbk", "gb2312", "gb18030"):
        return data.decode("gb18030", "replace")
    return decode_text(data)


def html_to_text(html: str) -> str:
    """Main text only (navigation, footers and scripts removed) via trafilatura."""
    import trafilatura

    text = trafilatura.extract(
        html, include_comments=False, include_tables=True, favor_recall=True, include_formatting=False
    )
    if not text:
        from lxml import html as lxml_html

        try:
            tree = lxml_html.fromstring(html)
        except Exception as exc:  # lxml raises several types for junk
            raise EmptyDocument("无法解析该 HTML 文件：请确认文件完整。") from exc
        for bad in tree.xpath("//script|//style|//nav|//header|//footer"):
            bad.drop_tree()
        text = tree.text_content()
    title = _html_title(html)
    if title and title not in text[:200]:
        text = f"{title}\n\n{text}"
    return text


def _html_title(html: str) -> str:
    m = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S | re.I) or re.search(
        r"<title[^>]*>(.*?)</title>", html, re.S | re.I
    )
    return re.sub(r"<[^>]+>|\s+", " ", m.group(1)).strip() if m else ""


# ---------------------------------------------------------------- Word (.docx, and legacy via LibreOffice)


def check_zip(data: bytes, limits: Limits, what: str = "DOCX") -> None:
    """Refuse zip bombs from the central directory alone, before any member is decompressed.
    (zipfile never inflates a member past its declared size, so the directory bounds the work.)"""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise EmptyDocument(f"{what} 文件已损坏或无法读取：请用 Word/WPS 另存为 .docx 后重新上传。") from exc
    if len(infos) > limits.max_zip_entries:
        raise PayloadTooLarge(
            f"{what} 文件内部部件过多（{len(infos)} 个）：上限为 {limits.max_zip_entries} 个"
            "（ASSISTANT_PARSE_MAX_ZIP_ENTRIES），请用 Word/WPS 另存后重新上传。"
        )
    total = sum(i.file_size for i in infos)
    if total > limits.max_unzipped_mb * 1024 * 1024:
        raise PayloadTooLarge(
            f"{what} 文件解压后过大（约 {total / 1048576:.0f} MB）：上限为 {limits.max_unzipped_mb:g} MB"
            "（ASSISTANT_PARSE_MAX_UNZIPPED_MB），请拆分后上传。"
        )


def docx_to_text(data: bytes, limits: Limits | None = None) -> str:
    """Paragraphs and table rows in document order; a table row is one line, cells separated."""
    import docx

    check_zip(data, limits or Limits())
    try:
        d = docx.Document(io.BytesIO(data))
    except Exception as exc:  # PackageNotFoundError, KeyError, ValueError, BadZipFile, lxml errors
        raise EmptyDocument("DOCX 文件已损坏或无法读取：请用 Word/WPS 另存为 .docx 后重新上传。") from exc
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines = []
    blocks = list(d.iter_inner_content())
    for k, block in enumerate(blocks):
        _check_stop(k, len(blocks), "parts")
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            lines.extend(_table_rows(block))
    return "\n\n".join(lines)


def _table_rows(table) -> list[str]:
    rows = []
    for row in table.rows:
        cells = []
        for cell in row.cells:  # merged cells repeat: keep one
            text = re.sub(r"\s+", " ", cell.text).strip()
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            rows.append(CELL_SEP.join(cells))
    return rows


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_docx(data: bytes, suffix: str, limits: Limits) -> bytes:
    """.doc/.wps/.rtf/.odt → .docx through LibreOffice headless, in a private profile, with a timeout."""
    exe = soffice()
    if exe is None:
        raise UnsupportedFileType(
            f"{suffix} 文件需要 LibreOffice 转换：请在服务器上安装（Debian/Ubuntu：apt-get install "
            "libreoffice-writer），或用 Word/WPS 另存为 .docx 后上传。"
        )
    with tempfile.TemporaryDirectory(prefix="assistant-convert-") as tmp:
        src = Path(tmp) / f"upload{suffix}"
        src.write_bytes(data)
        out = Path(tmp) / "out"
        cmd = [
            exe,
            f"-env:UserInstallation=file://{tmp}/profile",
            "--headless",
            "--norestore",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(out),
            str(src),
        ]
        try:
            subprocess.run(cmd, capture_output=True, timeout=limits.convert_timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PayloadTooLarge(
                f"{suffix} 文件转换超时（超过 {limits.convert_timeout_s:g} 秒，ASSISTANT_PARSE_CONVERT_TIMEOUT_S）："
                "请用 Word/WPS 另存为 .docx 后上传。"
            ) from exc
        result = out / "upload.docx"
        if not result.is_file():
            raise EmptyDocument(
                f"无法转换该 {suffix} 文件：请确认文件完整，或用 Word/WPS 另存为 .docx 后上传。"
            )
        return result.read_bytes()


# ---------------------------------------------------------------- PDF


def pdf_to_text(data: bytes, limits: Limits | None = None, progress: Progress | None = None) -> Parsed:
    """Text layer by pdfium (characters placed by their boxes), OCR for pages without one;
    headers, footers and page numbers repeated on the pages are removed."""
    import pypdfium2 as pdfium

    limits = limits or Limits()
    check_pdf_streams(data, limits)
    try:
        pdf = pdfium.PdfDocument(data)
    except Exception as exc:  # PdfiumError for damaged or encrypted files
        raise EmptyDocument("PDF 文件已损坏或无法读取（或已加密）：请确认文件完整后重新上传。") from exc
    try:
        n = len(pdf)
        if n > limits.max_pdf_pages:
            raise PayloadTooLarge(
                f"PDF 页数过多（{n} 页）：上限为 {limits.max_pdf_pages} 页"
                "（ASSISTANT_PARSE_MAX_PDF_PAGES），请拆分后上传。"
            )
        log.info("PDF with %d pages: extracting text", n)
        pages: list[list[Line] | None] = []
        chars = 0
        for i in range(n):
            _check_stop(i, n, "pages")
            page = pdf[i]
            try:
                lines = _page_lines(page)
            finally:
                page.close()
            chars += sum(len(x.text) for x in lines)
            _check_chars(chars, limits)
            pages.append(lines if any(x.text.strip() for x in lines) else None)
        blank = [i for i, p in enumerate(pages) if p is None]
        if blank:
            _ocr_pages(pdf, pages, blank, limits, progress)
    finally:
        pdf.close()
    kept = strip_running_lines([mark_full(p or []) for p in pages])
    parser = "pypdfium2+rapidocr" if blank else "pypdfium2"
    return Parsed("\n".join(join_lines(kept)), "paragraphs", parser, ocr=bool(blank))


class Line(NamedTuple):
    """One printed line: its text and where it starts and ends on the page (size: one CJK cell)."""

    text: str
    left: float
    right: float
    size: float


def mark_full(lines: list[Line]) -> list[tuple[str, bool]]:
    """(text, runs to the right margin) per line. A line that reaches its column's right margin goes on in
    the next line; one that stops short ends a paragraph or is a heading, whatever commas it holds.
    Columns are lines starting near the same x; a column's margin is where most of its lines end."""
    if not lines:
        return []
    cell = sorted(x.size for x in lines)[len(lines) // 2] or 1.0
    groups: list[list[Line]] = []
    for line in sorted(lines, key=lambda x: x.left):
        if groups and line.left - groups[-1][-1].left <= 3 * cell:
            groups[-1].append(line)
        else:
            groups.append([line])
    margins = []  # (left edge, right margin) of columns with enough lines to tell
    for g in groups:
        if len(g) >= 3:
            rights = sorted(x.right for x in g)
            margins.append((g[0].left, rights[int(0.9 * (len(rights) - 1))]))
    if not margins:
        rights = sorted(x.right for x in lines)
        margins = [(0.0, rights[-1])]
    out = []
    for k, line in enumerate(lines):
        column = [m for m in margins if m[0] <= line.left + 3 * cell] or margins[:1]
        margin = column[-1][1]
        # a line also ends short when what follows cannot be split or start a line: a number or Latin
        # word that did not fit, or a character kept with an opening quote (line-breaking rules)
        nxt = lines[k + 1].text if k + 1 < len(lines) else ""
        word = re.match(r"[A-Za-z0-9.,%]*", nxt).group(0)
        slack = 2.2 * cell + min(len(word), 12) * 0.6 * cell
        out.append((line.text, line.right >= margin - slack))
    return out


def join_lines(pages: list[list[tuple[str, bool]]]) -> list[str]:
    """Paragraphs: a line running to the margin without closing its sentence goes on in the next line,
    across a page break too."""
    out: list[str] = []
    open_ = False
    for lines in pages:
        for text, full in lines:
            if out and open_:
                left = out[-1]
                sep = " " if left[-1:].isascii() and left[-1:].isalnum() and text[:1].isascii() else ""
                out[-1] = left + sep + text
            else:
                out.append(text)
            open_ = full and not ENDS_PARAGRAPH.search(text)
    return out


_STREAM = re.compile(rb"stream\r?\n")
_DIM = {k: re.compile(rb"/" + k + rb"\s+(\d+)(?!\s+\d+\s+R)") for k in (b"Width", b"Height")}


def check_pdf_streams(data: bytes, limits: Limits) -> None:
    """pdfium inflates a content stream whole, so a 300 KB page can cost 300 MB: before opening the file,
    inflate every Flate stream incrementally (never holding it) and refuse when the total passes the budget.
    Images are checked by their declared size instead (they are decoded only to be rendered for OCR)."""
    budget = int(limits.max_unzipped_mb * 1024 * 1024)
    view = memoryview(data)
    total = 0
    for m in _STREAM.finditer(data):
        head = data[max(0, m.start() - 2000) : m.start()]
        head = head[head.rfind(b"obj") + 3 :] if b"obj" in head else head
        if b"/FlateDecode" not in head:
            continue
        if b"/Image" in head:
            dims = [rx.search(head) for rx in _DIM.values()]
            if all(dims) and int(dims[0].group(1)) * int(dims[1].group(1)) <= limits.max_image_pixels:
                continue
        end = data.find(b"endstream", m.end())
        total += _inflated_size(
            zlib.decompressobj(), view[m.end() : end if end > 0 else len(data)], budget - total
        )
        if total > budget:
            raise PayloadTooLarge(
                f"PDF 文件解压后内容过大（超过 {limits.max_unzipped_mb:g} MB，ASSISTANT_PARSE_MAX_UNZIPPED_MB）："
                "文件可能已损坏或经过特殊构造，请用原软件重新导出 PDF 后上传。"
            )


def _inflated_size(d, compressed: memoryview, allowance: int) -> int:
    """Bytes a Flate stream inflates to, 1 MB at a time from 64 KB of input; stops just past `allowance`."""
    produced, pos, step = 0, 0, 1 << 16
    pending = b""
    try:
        while produced <= allowance and not d.eof:
            if not pending:
                if pos >= len(compressed):
                    break
                pending, pos = bytes(compressed[pos : pos + step]), pos + step
            produced += len(d.decompress(pending, 1 << 20))
            pending = d.unconsumed_tail
    except zlib.error:
        pass  # damaged or encrypted: pdfium decides what it can read
    return produced


def _page_lines(page) -> list[Line]:
    """pdfium's lines, each re-ordered by its characters' x positions: runs in another font (curly quotes,
    Latin) are written after the CJK run by some producers and would otherwise land at the line end.
    Spaces pdfium generated between glyphs are dropped next to CJK and kept between Latin words."""
    import pypdfium2.raw as raw

    tp = page.get_textpage()
    try:
        lines, current, after_cr = [], [], False
        for i in range(tp.count_chars()):
            ch = tp.get_text_range(i, 1)
            if ch in ("\r", "\n"):
                if not (ch == "\n" and after_cr):
                    lines.append(_order_line(current))
                    current = []
                after_cr = ch == "\r"
                continue
            after_cr = False
            generated = bool(raw.FPDFText_IsGenerated(tp.raw, i))
            left, _bottom, right, _top = tp.get_charbox(i)
            current.append((left, right, ch, generated))
        if current:
            lines.append(_order_line(current))
    finally:
        tp.close()
    return [x for x in lines if x and x.text]


def _order_line(chars: list[tuple[float, float, str, bool]]) -> Line | None:
    glyphs = [c for c in chars if not (c[3] and c[2].isspace()) and not c[2].isspace()]
    if not glyphs:
        return None
    spaces = [c for c in chars if c[3] and c[2].isspace()]
    glyphs.sort(key=lambda c: c[0])
    out = []
    for k, (left, _right, ch, _gen) in enumerate(glyphs):
        if k and out and spaces:
            prev = out[-1]
            gap = any(glyphs[k - 1][1] - 0.5 <= s[0] <= left + 0.5 for s in spaces)
            if gap and _latin(prev) and _latin(ch):
                out.append(" ")
        out.append(ch)
    widths = sorted(g[1] - g[0] for g in glyphs if not g[2].isascii()) or [2 * (g[1] - g[0]) for g in glyphs]
    size = widths[len(widths) // 2]
    return Line("".join(out).strip(), glyphs[0][0], max(g[1] for g in glyphs), size)


def _latin(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in ".,%-+/:;()")


_PAGE_NO = re.compile(r"^[-—–\s]*(第\s*)?\d{1,4}\s*(页)?\s*([/／]|共)?\s*(\d{1,4}\s*页?)?[-—–\s]*$")


def strip_running_lines(pages: list[list]) -> list[list]:
    """Remove page headers/footers: a line that stands at the same place from a page's top or bottom on
    most pages (digits masked, so "第 3 页" matches "第 4 页") and stops short of the margin (body lines
    run to it), and bare page numbers ("- 3 -", "第 3 页", "3/12") at a page's edge. Lines are strings or
    (text, runs to the margin) pairs from `mark_full`."""

    def text(line) -> str:
        return line if isinstance(line, str) else line[0]

    def key(line) -> str:
        return re.sub(r"\d+", "#", re.sub(r"\s+", "", text(line)))

    edge = 3
    widths = sorted(text_width(text(x)) for lines in pages for x in lines)
    body = widths[int(0.9 * (len(widths) - 1))] if widths else 0

    def short(line) -> bool:
        return text_width(line) < 0.85 * body if isinstance(line, str) else not line[1]

    def slots(lines: list):
        n = len(lines)
        for j, line in enumerate(lines):
            if j < edge:
                yield j, ("top", j, key(line))
            if j >= n - edge:
                yield j, ("bottom", n - 1 - j, key(line))

    counts: Counter[tuple] = Counter()
    for lines in pages:
        counts.update({slot for _j, slot in slots(lines)})
    need = max(2, (len([p for p in pages if p]) + 1) // 2)
    # a line that ends a sentence is body text, however often it repeats
    running = {slot for slot, c in counts.items() if c >= need and not ENDS_SENTENCE.search(slot[2])}
    out = []
    for lines in pages:
        drop = {j for j, slot in slots(lines) if slot in running and short(lines[j])}
        drop |= {j for j, _slot in slots(lines) if _PAGE_NO.match(text(lines[j]))}
        out.append([line for j, line in enumerate(lines) if j not in drop])
    return out


def text_width(line: str) -> float:
    """Printed width in CJK character cells: Latin letters, digits and spaces take half a cell."""
    return sum(0.5 if ch.isascii() else 1.0 for ch in line)


# ---------------------------------------------------------------- OCR (optional extra "ocr")

_OCR_ENGINE = None
_OCR_LOCK = threading.Lock()


def ocr_available() -> bool:
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _ocr_engine():
    """One RapidOCR (PP-OCRv4 Chinese models shipped inside the package, no download) per process."""
    global _OCR_ENGINE
    if _OCR_ENGINE is None:
        from rapidocr_onnxruntime import RapidOCR

        _OCR_ENGINE = RapidOCR()
    return _OCR_ENGINE


def _ocr_pages(pdf, pages: list, blank: list[int], limits: Limits, progress: Progress | None) -> None:
    if not ocr_available():
        raise EmptyDocument(
            f"该 PDF 有 {len(blank)} 页没有文字层（可能是扫描件），需要文字识别（OCR）：{OCR_HINT}。"
        )
    if len(blank) > limits.max_ocr_pages:
        raise PayloadTooLarge(
            f"需要文字识别的扫描页过多（{len(blank)} 页）：上限为 {limits.max_ocr_pages} 页"
            "（ASSISTANT_PARSE_MAX_OCR_PAGES），请拆分后上传。"
        )
    chars = sum(len(x.text) for p in pages if p for x in p)
    for k, i in enumerate(blank):
        _check_stop(k, len(blank), "scanned pages")
        if progress:
            progress(k, len(blank))
        page = pdf[i]
        try:
            image = page.render(scale=OCR_DPI / 72, grayscale=True).to_pil()
        finally:
            page.close()
        pages[i] = ocr_image(image)
        chars += sum(len(x.text) for x in pages[i])
        _check_chars(chars, limits)
    if progress:
        progress(len(blank), len(blank))


def image_to_text(data: bytes, limits: Limits) -> Parsed:
    """A scanned page uploaded as .png/.jpg → OCR lines."""
    from PIL import Image, UnidentifiedImageError

    if not ocr_available():
        raise EmptyDocument(f"图片文件需要文字识别（OCR）：{OCR_HINT}。")
    too_big = PayloadTooLarge(
        f"图片像素过多：上限为 {limits.max_image_pixels} 像素，请缩小（如 300 dpi 的 A4）后上传。"
    )
    try:
        image = Image.open(io.BytesIO(data))  # reads the header only: the size is known before decoding
        if image.width * image.height > limits.max_image_pixels:
            raise too_big
        image.load()
    except Image.DecompressionBombError as exc:
        raise too_big from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise EmptyDocument("图片文件已损坏或无法读取：请上传完整的 .png 或 .jpg 文件。") from exc
    return Parsed("\n".join(join_lines([mark_full(ocr_image(image))])), "paragraphs", "rapidocr", ocr=True)


def ocr_image(image) -> list[Line]:
    """Recognised text lines in reading order: boxes grouped into rows by their vertical centres."""
    import numpy as np

    arr = np.asarray(image.convert("RGB"))
    with _OCR_LOCK:  # the engine is not thread-safe; OCR is CPU bound anyway
        result, _ = _ocr_engine()(arr)
    boxes = []
    for box, text, _score in result or []:
        ys = [p[1] for p in box]
        xs = [p[0] for p in box]
        boxes.append((min(ys), max(ys), min(xs), text.strip(), max(xs)))
    boxes.sort(key=lambda b: (b[0] + b[1]) / 2)
    rows: list[list[tuple]] = []
    for b in boxes:
        if rows:
            top, bottom = min(r[0] for r in rows[-1]), max(r[1] for r in rows[-1])
            centre = (b[0] + b[1]) / 2
            if top <= centre <= bottom:
                rows[-1].append(b)
                continue
        rows.append([b])
    out = []
    for row in rows:
        row.sort(key=lambda b: b[2])
        text = " ".join(b[3] for b in row if b[3])
        if text:
            height = sorted(b[1] - b[0] for b in row)[len(row) // 2]
            out.append(Line(text, row[0][2], max(b[4] for b in row), height))
    return out
