"""Files in corpus/ → cleaned text, title and doc_id.

The cleaned text is the truth every offset refers to, so everything that changes characters happens here,
once: decoding, line ends, whitespace, web boilerplate, markup, and re-joining lines that page layout broke.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import tomlkit

from .errors import AssistantError, EmptyDocument, UnsupportedFileType

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
SOURCES_FILE = "sources.toml"

# A line ends a paragraph when it ends a sentence: terminal punctuation, optionally closed by quotes/brackets.
_TERMINAL = re.compile(r"([。！？!?…]+[”’」』）)》\"']*|[：:；;])$")
_BYLINE = re.compile(r"^([□■●◆▲]|(本报)?(记者|通讯员|作者|文/|图/|文 ?[:：]|图 ?[:：])|本报讯)")
_CAPTION = re.compile(
    r"(摄|供图|图片来源[:：].*|资料图片?)[)）]?$|[(（][左右中前后][一二三四五六七八九十\d]+[)）]"
)
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_BREADCRUMB = re.compile(r"(>>|»|＞＞)")
_BOILERPLATE = re.compile(
    r"^([大中小]字号|分享让更多人看到|返回顶部|分享到[:：]?.*|打印(本页)?|关闭(窗口)?|扫一扫.*|【纠错】|"
    r"[(（]责编[:：].*[)）]|责任编辑[:：].*|编辑[:：]\S{1,12}|上一篇.*|下一篇.*|相关新闻|推荐阅读|"
    r"版权所有.*|Copyright.*|点击(查看|进入).*)$",
    re.IGNORECASE,
)
_OPEN_CLOSE = {"“": "”", "《": "》", "(": ")", "（": "）", "「": "」", "『": "』", "‘": "’"}
_WS = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")

LONG_LINE = 45  # a line this long without end punctuation was broken by layout, not written as a heading
DETACHED_MAX = 30  # short unpunctuated lines (captions, headings) a broken paragraph may jump over


@dataclass
class Document:
    doc_id: str
    text: str
    title: str
    source: str
    file: str = ""
    region: str = ""
    date: str = ""
    meta: dict = field(default_factory=dict)


def doc_id_for(text: str) -> str:
    """16 hex of sha256: an id names one cleaned text, so offsets can never point into another version."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------- decoding and format parsers


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), then GB18030, the two encodings Chinese government files come in."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
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


def extract_raw(data: bytes, suffix: str) -> tuple[str, str]:
    """Bytes of one file → (raw text, layout kind) using a well-kept parser per format."""
    suffix = suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileType(
            f"不支持的文件类型“{suffix or '无扩展名'}”：请上传 .txt .md .html .pdf .docx 文件。"
        )
    if not data.strip():
        raise EmptyDocument("文件是空的：请上传包含正文的文件。")
    if suffix == ".txt":
        return decode_text(data), "text"
    if suffix == ".md":
        return markdown_to_text(decode_text(data)), "text"
    if suffix in (".html", ".htm"):
        return html_to_text(decode_html(data)), "text"
    if suffix == ".pdf":
        return pdf_to_text(data), "pdf"
    return docx_to_text(data), "text"


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


def pdf_to_text(data: bytes) -> str:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (
        Exception
    ) as exc:  # damaged files make pypdf raise many types (PdfReadError, NotImplementedError, ...)
        raise EmptyDocument("PDF 文件已损坏或无法读取：请确认文件完整后重新上传。") from exc
    if not any(p.strip() for p in pages):
        raise EmptyDocument("该 PDF 没有文字层（可能是扫描件）：请先进行文字识别（OCR）后再上传。")
    # pages continue each other: a page break is just another line break for the re-joiner
    return "\n".join(pages)


def docx_to_text(data: bytes) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        d = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise EmptyDocument("DOCX 文件已损坏或无法读取：请用 Word/WPS 另存为 .docx 后重新上传。") from exc
    except Exception as exc:  # zipfile.BadZipFile and lxml errors
        raise EmptyDocument("DOCX 文件已损坏或无法读取：请用 Word/WPS 另存为 .docx 后重新上传。") from exc
    lines = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            lines.append(" ".join(cell.text.strip() for cell in row.cells))
    return "\n\n".join(lines)


# ---------------------------------------------------------------- cleaning


def clean_text(raw: str, layout: str = "text") -> str:
    """Raw extracted text → the stored text. Paragraphs are separated by one blank line."""
    lines = [_normalise_line(line) for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    lines = _drop_boilerplate(lines)
    lines = [line for i, line in enumerate(lines) if i == 0 or line != lines[i - 1]]
    paragraphs = _rejoin(lines, layout)
    return "\n\n".join(_MD_HEADING.sub("", p) for p in paragraphs if _MD_HEADING.sub("", p).strip())


def _normalise_line(line: str) -> str:
    line = _INVISIBLE.sub("", line)
    return _WS.sub(" ", line).strip()


def _drop_boilerplate(lines: list[str]) -> list[str]:
    crumbs = [line for line in lines[:10] if _BREADCRUMB.search(line)]
    site_names = {re.split(r">>|»|＞＞", c)[0].strip() for c in crumbs}
    kept = []
    for i, line in enumerate(lines):
        if _BOILERPLATE.match(line) or line in crumbs or (i < 5 and line in site_names):
            continue
        kept.append(line)
    return kept


def _is_terminal(line: str) -> bool:
    return bool(_TERMINAL.search(line))


def _is_byline(line: str) -> bool:
    return bool(_BYLINE.match(line))


def _is_caption(line: str) -> bool:
    return bool(_CAPTION.search(line)) and len(line) < 150


def _unbalanced(line: str) -> bool:
    return any(line.count(o) > line.count(c) for o, c in _OPEN_CLOSE.items() if o != c)


def _detached(line: str) -> bool:
    """A caption or heading standing between two halves of a broken paragraph."""
    return _is_caption(line) or _is_byline(line) or (len(line) <= DETACHED_MAX and not _is_terminal(line))


def _is_broken(line: str, long_line: int) -> bool:
    """Did page layout cut this line mid-sentence? Headings, bylines and captions are never broken."""
    if _is_terminal(line) or _is_byline(line) or _is_caption(line) or _MD_HEADING.match(line):
        return False
    if len(line) >= long_line or _unbalanced(line):
        return True
    # a short line with an in-sentence comma and no title-style spacing is a sentence cut short
    return bool(re.search(r"[，,]", line)) and " " not in line


def _rejoin(lines: list[str], layout: str) -> list[str]:
    long_line = LONG_LINE
    if layout == "pdf":
        lengths = sorted(len(x) for x in lines if len(x) > 8)
        if lengths:
            long_line = min(LONG_LINE, max(10, int(0.8 * lengths[len(lengths) // 2])))
    pending = list(lines)
    out: list[str] = []
    while pending:
        current = pending.pop(0)
        while _is_broken(current, long_line):
            j = _continuation_index(current, pending)
            if j is None:
                break
            current = _glue(current, pending.pop(j))
        out.append(current)
    return _attach_orphans(out, long_line)


def _continuation_index(current: str, pending: list[str]) -> int | None:
    """Where a broken line goes on. Newspaper pages interleave articles, so: a line that closes the
    quotation left open, else the next body line after at most a few captions or headings; never past
    a byline or a Markdown heading (another article starts there)."""
    window = []
    for line in pending[:8]:
        if _MD_HEADING.match(line) or _is_byline(line):
            break
        window.append(line)
    if current.count("“") > current.count("”"):
        for j, line in enumerate(window):
            if _first_double_quote(line) == "”":
                return j
    for j, line in enumerate(window[:4]):
        if not _detached(line):
            return j
    return None


def _first_double_quote(line: str) -> str:
    m = re.search("[“”]", line)
    return m.group(0) if m else ""


def _attach_orphans(paragraphs: list[str], long_line: int) -> list[str]:
    """A paragraph still cut short takes the next stray tail fragment ("一定影响。") a column break left."""
    out = list(paragraphs)
    i = 0
    while i < len(out):
        if _is_broken(out[i], long_line):
            for j in range(i + 1, min(len(out), i + 40)):
                if _is_orphan(out[j]):
                    out[i] = _glue(out[i], out.pop(j))
                    break
        i += 1
    return out


def _is_orphan(line: str) -> bool:
    return len(line) <= 12 and _is_terminal(line) and not re.search(r"[，,、“”\s]", line)


def _glue(left: str, right: str) -> str:
    if left[-1:].isascii() and left[-1:].isalnum() and right[:1].isascii() and right[:1].isalnum():
        return f"{left} {right}"
    return left + right


# ---------------------------------------------------------------- metadata and loading


def load_sources(corpus_dir: Path) -> dict[str, dict]:
    """corpus/sources.toml: per file, its original name (`source`), title, region and date."""
    path = Path(corpus_dir) / SOURCES_FILE
    if not path.exists():
        return {}
    try:
        return {k: dict(v) for k, v in tomllib.loads(path.read_text("utf-8")).items() if isinstance(v, dict)}
    except tomllib.TOMLDecodeError as exc:
        raise AssistantError(f"{path} 格式错误：{exc}。请修正后重试。") from exc


def save_source(corpus_dir: Path, file_name: str, meta: dict | None) -> None:
    """Add, replace (meta) or remove (None) one file's entry, keeping the others and their comments."""
    path = Path(corpus_dir) / SOURCES_FILE
    doc = tomlkit.parse(path.read_text("utf-8")) if path.exists() else tomlkit.document()
    if meta is None:
        doc.pop(file_name, None)
    else:
        table = tomlkit.table()
        for key, value in meta.items():
            if value:
                table[key] = value
        doc[file_name] = table
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomlkit.dumps(doc), "utf-8")
    tmp.replace(path)


def corpus_files(corpus_dir: Path) -> list[Path]:
    return sorted(
        p for p in Path(corpus_dir).iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
    )


def document_from_bytes(data: bytes, file_name: str, meta: dict | None = None) -> Document:
    meta = dict(meta or {})
    raw, layout = extract_raw(data, Path(file_name).suffix)
    text = clean_text(raw, layout)
    if len(re.sub(r"\W", "", text)) < 2:
        raise EmptyDocument(f"“{file_name}”中没有可提取的文字：请确认文件包含正文（扫描件请先做文字识别）。")
    return Document(
        doc_id=doc_id_for(text),
        text=text,
        title=meta.get("title") or guess_title(text, file_name),
        source=meta.get("source") or file_name,
        file=file_name,
        region=meta.get("region", ""),
        date=str(meta.get("date", "")),
        meta=meta,
    )


def load_document(path: Path, meta: dict | None = None) -> Document:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AssistantError(f"无法读取文件 {path}：{exc.strerror}。请检查路径和权限。") from exc
    return document_from_bytes(data, path.name, meta)


def guess_title(text: str, file_name: str) -> str:
    """The first short line without end punctuation (a heading), else the file name."""
    for line in text.split("\n")[:6]:
        line = line.strip()
        if 4 <= len(line) <= 60 and not _is_terminal(line) and not _is_byline(line):
            return line
    return Path(file_name).stem
