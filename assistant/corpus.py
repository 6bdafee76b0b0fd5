"""Files in corpus/ → cleaned text, title and doc_id.

The cleaned text is the truth every offset refers to, so everything that changes characters happens here,
once: line ends, whitespace, control characters, web boilerplate, markup, datelines, and re-joining lines
that page layout broke. Extraction from each file format lives in parsers.py.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import tomlkit

from . import lexical, ner, parsers
from .errors import AssistantError, EmptyDocument
from .parsers import (  # noqa: F401  (re-exported: tests and tools use them as corpus.*)
    SUPPORTED_LIST,
    SUPPORTED_SUFFIXES,
    Limits,
    Parsed,
    Progress,
    decode_text,
    docx_to_text,
    html_to_text,
    markdown_to_text,
)
from .punctuation import END_MARKS, ENDS_PARAGRAPH, LOST

log = logging.getLogger(__name__)

SOURCES_FILE = "sources.toml"

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
# A news dateline ("新华社北京1月3日电（记者 王琪）", "本报讯"), at a line start or after a space (a headline
# before it on the same line): an agency, optional place, a date and 电/讯, optionally a parenthesised byline.
_DATELINE = re.compile(
    r"(?:^|(?<=\s))((?:[\u4e00-\u9fff]{2,14}?[\d一二三四五六七八九十]{1,3}月[\d一二三四五六七八九十]{1,3}日[电讯]"
    r"|本报讯)(?![视力脑网器子话影商动池气价站量费厂梯信])(?:\s*[（(][^（）()，。,]{1,24}[）)])?)"
)
# Numbered headings of Chinese official documents: 一、 （一） 1. 1、 (1) 第一章/节/条/部分
_NUMBERED = re.compile(
    r"^(#{1,6}\s+|[一二三四五六七八九十百]+、|[（(][一二三四五六七八九十百\d]+[）)]|\d{1,2}[.．、](?!\d)"
    r"|第[一二三四五六七八九十百\d]+[章节条部分篇])"
)
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufff9-\ufffb\ud800-\udfff]"
)
_OPEN_CLOSE = {"“": "”", "《": "》", "(": ")", "（": "）", "「": "」", "『": "』", "‘": "’"}
_WS = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
# where a web page flattened to one line had its paragraph breaks: the two ideographic spaces of a Chinese indent
# after a space or a sentence's end (not 北\u3000\u3000京 in a table), or a run of two or more no-break spaces
# (&nbsp; padding; one alone spaces words: BMW\u00a04系)
_PARAGRAPH_MARK = re.compile(
    r"[ \t\u00a0\u2002\u2003]+\u3000{2,}|(?<=[。！？；!?”」』])\u3000{2,}|[ \t]*(?:[\u00a0\u2002\u2003][ \t]*){2,}"
)
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")

LONG_LINE = 45  # a line this long without end punctuation was broken by layout, not written as a heading
DETACHED_MAX = 30  # short unpunctuated lines (captions, headings) a broken paragraph may jump over
CHROME_MAX = 40  # web chrome (breadcrumbs, 责任编辑, copyright) is a short line; a longer one is content
HEADING_MAX = 60  # a numbered line up to this long without end punctuation is a heading


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
    parser: str = ""  # which engine produced the text ("pypdfium2", "pypdfium2+rapidocr", ...)

    @property
    def ocr(self) -> bool:
        return "rapidocr" in self.parser


def doc_id_for(text: str) -> str:
    """16 hex of sha256: an id names one cleaned text, so offsets can never point into another version."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------- parsing (parsers.py)


def extract_raw(
    data: bytes, suffix: str, limits: Limits | None = None, progress: Progress | None = None
) -> Parsed:
    """Bytes of one file → raw text and which parser produced it (see parsers.py)."""
    return parsers.parse(data, suffix, limits, progress)


# ---------------------------------------------------------------- cleaning


def clean_text(raw: str, layout: str = "text") -> str:
    """Raw extracted text → the stored text. Paragraphs are separated by one blank line.

    Layouts: "paragraphs" (Word, HTML, and PDF/OCR whose lines the parser joined by their geometry: one
    line per paragraph, never re-joined) and "text" (plain text and Markdown, maybe broken by a newspaper
    layout: re-joined on the signals below, unless a flattened web page marks its paragraphs).
    """
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if _PARAGRAPH_MARK.search(raw):
        # a web page flattened to lines still marks its paragraphs (an indent, &nbsp; padding): they are its
        # paragraphs, so a subheading or a photo credit between them stays a line of its own, never glued to
        # the sentence after it
        raw, layout = _PARAGRAPH_MARK.sub("\n", raw), "paragraphs"
    lines = [_normalise_line(line) for line in raw.split("\n")]
    lines = [line for line in lines if line]
    lines = _drop_boilerplate(lines)
    lines = [line for i, line in enumerate(lines) if i == 0 or line != lines[i - 1]]
    lines = [part for line in lines for part in _split_dateline(line)]
    paragraphs = lines if layout == "paragraphs" else _rejoin(lines)
    return "\n\n".join(_MD_HEADING.sub("", p) for p in paragraphs if _MD_HEADING.sub("", p).strip())


def _normalise_line(line: str) -> str:
    """Control characters (C0/C1, bidi overrides, lone surrogates) and zero-width marks go; spaces squeeze."""
    line = _CONTROL.sub("", _INVISIBLE.sub("", line))
    return _WS.sub(" ", line).strip()


def _drop_boilerplate(lines: list[str]) -> list[str]:
    """Web chrome is short lines (breadcrumbs, 责任编辑, share buttons); a document that is nothing but such
    lines is kept whole rather than dropped."""
    crumbs = [line for line in lines[:10] if _BREADCRUMB.search(line) and len(line) <= CHROME_MAX]
    site_names = {re.split(r">>|»|＞＞", c)[0].strip() for c in crumbs}
    kept = []
    for i, line in enumerate(lines):
        chrome = len(line) <= CHROME_MAX and bool(_BOILERPLATE.match(line))
        if chrome or line in crumbs or (i < 5 and line in site_names):
            continue
        kept.append(line)
    return kept if any(re.search(r"\w", line) for line in kept) else lines


def _split_dateline(line: str) -> list[str]:
    """A news dateline becomes its own line: the headline before it and the first sentence after it
    stand apart, so no sentence starts with "新华社北京1月3日电"."""
    m = _DATELINE.search(line)
    if not m or m.start() > 80:
        return [line]
    parts = [line[: m.start()].strip(), m.group(1).strip(), line[m.end() :].lstrip(" ，,：:—-")]
    return [p for p in parts if p]


def is_dateline(line: str) -> bool:
    m = _DATELINE.match(line)
    return bool(m) and m.end() == len(line.rstrip())


def _is_terminal(line: str) -> bool:
    """The line ends a paragraph: it ends a sentence (closing quotes or brackets may follow), or a colon or
    semicolon does."""
    return bool(ENDS_PARAGRAPH.search(line))


def _is_byline(line: str) -> bool:
    return bool(_BYLINE.match(line)) or is_dateline(line)


def _is_caption(line: str) -> bool:
    return bool(_CAPTION.search(line)) and len(line) < 150


def _is_heading(line: str) -> bool:
    """Numbered (一、 （一） 1. 第一章) or Markdown headings without end punctuation, whatever commas they hold."""
    return bool(_NUMBERED.match(line)) and not _is_terminal(line) and len(line) < HEADING_MAX


def _is_table_row(line: str) -> bool:
    return parsers.CELL_SEP in line


def _unbalanced(line: str) -> bool:
    return any(line.count(o) > line.count(c) for o, c in _OPEN_CLOSE.items() if o != c)


def _detached(line: str) -> bool:
    """A caption or heading standing between two halves of a broken paragraph."""
    return (
        _is_caption(line)
        or _is_byline(line)
        or _is_heading(line)
        or (len(line) <= DETACHED_MAX and not _is_terminal(line))
    )


def _is_broken(line: str, long_line: int) -> bool:
    """Did page layout cut this line mid-sentence? Headings, bylines, captions and table rows never are."""
    if _is_terminal(line) or _is_byline(line) or _is_caption(line) or _MD_HEADING.match(line):
        return False
    if _is_table_row(line) or _is_heading(line):
        return False
    if len(line) >= long_line or _unbalanced(line):
        return True
    # a short line with an in-sentence comma and no title-style spacing is a sentence cut short
    return bool(re.search(r"[，,]", line)) and " " not in line


def _rejoin(lines: list[str]) -> list[str]:
    pending = list(lines)
    out: list[str] = []
    while pending:
        current = pending.pop(0)
        while _is_broken(current, LONG_LINE):
            j = _continuation_index(current, pending)
            if j is None:
                break
            nxt = pending.pop(j)
            if _lost_between(current, nxt):
                # the page lost the words between: marked, and the stray tail of the lost sentence left out
                current = current + LOST + nxt[2:].lstrip()
                continue
            current = _glue(current, nxt)
        out.append(current)
    return _attach_orphans(out, LONG_LINE)


def _lost_between(left: str, right: str) -> bool:
    """The page lost words between two pieces of a broken sentence: the next piece opens with one character that
    ends a sentence and makes no word with the end of the broken one (……示范培训班和全市 ‖ 任。同时，……), where a
    word cut by the layout runs on (……便捷、高效的服 ‖ 务。目前，……: 服务)."""
    m = re.match(rf"([\u3400-\u9fff])[{END_MARKS}]", right)
    if not m or not re.search(r"[\u3400-\u9fff]$", left):
        return False
    return len(lexical.pos_tags(left[-3:] + m.group(1))[-1][0]) == 1


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


def document_from_bytes(
    data: bytes,
    file_name: str,
    meta: dict | None = None,
    limits: Limits | None = None,
    progress: Progress | None = None,
) -> Document:
    """Parse (within `limits`) and clean one file; the same path for every upload and `assistant index`."""
    meta = dict(meta or {})
    parsed = extract_raw(data, Path(file_name).suffix, limits, progress)
    text = clean_text(parsed.text, parsed.layout)
    if len(re.sub(r"\W", "", text)) < 2:
        if parsed.ocr:
            raise EmptyDocument(
                f"“{file_name}”经文字识别（OCR）未识别出文字：请上传清晰的扫描件（建议 300 dpi、文字端正）。"
            )
        raise EmptyDocument(f"“{file_name}”中没有可提取的文字：请确认文件包含正文。")
    title = meta.get("title") or guess_title(text, file_name)
    return Document(
        doc_id=doc_id_for(text),
        text=text,
        title=title,
        source=meta.get("source") or file_name,
        file=file_name,
        # what the operator gave, else what the text says of itself (a dateline, a title's place)
        region=meta.get("region") or ner.title_region(title),
        date=str(meta.get("date") or guess_date(text)),
        meta=meta,
        parser=parsed.parser,
    )


def load_document(path: Path, meta: dict | None = None, limits: Limits | None = None) -> Document:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AssistantError(f"无法读取文件 {path}：{exc.strerror}。请检查路径和权限。") from exc
    return document_from_bytes(data, path.name, meta, limits)


# what a saved web page or e-paper opens with instead of a title: a breadcrumb (当前位置：首页 > 冬奥 >), a page
# label (第01版:要闻 本版新闻), a numbered part of a longer text (四、强化工作要求 of a page that starts there), a
# chart's or table's caption and credit (…… 制图 某某, 表：……, 图 2 ……, 数据来源：……), a byline (京报体育 | 记者 某某,
# 撰文 / ……), a search snippet's date (Dec 18, 2022 ...), the page's footer or chrome (版权所有, 京ICP备……, 举报,
# 分享, 相关热词搜索：, 欢迎关注……, 时间：……), an appendix (附：……), a table row (14 前卫 ……), or body text (a full
# stop inside the line, a chatty ending ~, a figure cut at its decimal point: ……增长0.)
_NOT_A_TITLE = re.compile(
    r"首页|当前位置|[>›»]\s*$|^\s*[>›»]|本版新闻|图文数据库|^\s*第\s*\d+\s*版"
    r"|^\s*(?:[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十]{1,3}[）)])|(?:^|\s)制图(?:\s|$)|来源\s*[:：/／]|。|\d\.$|[~～]$"
    r"|^\s*(?:表|图\s*\d+)\s*[:：\s]|[|｜/／]\s*(?:记者|作者|撰文|文|图)|(?:记者|撰文|作者)\s*[/／:：]?\s*[\u4e00-\u9fff]{2,3}(?:\s|$)"
    r"|^\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2},\s*\d{4}"
    r"|版权|ICP|公网安备|许可证|举报|转载|\s#\S|@|联系(?:我们|方式)|^\s*分享|热词|相关(?:推荐|阅读)|欢迎关注|订阅号|最新评论|推荐阅读|责任编辑|查看更多"
    r"|^\s*(?:时间|日期|搜索)\s*[:：\s]|^\s*附|^\s*\d+\s+\S|^\s*[：:，,、》】）)|｜]"
)


_BODY_LINE = re.compile(r"[。！？!?][”」』）)]*$")


_CN_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0}
_CN_NUMBER = "[〇零一二三四五六七八九十]"
_DATE = re.compile(
    rf"(?P<y>(?:19|20)\d{{2}}|{_CN_NUMBER}{{4}})\s*(?:年\s*(?P<m>\d{{1,2}}|{_CN_NUMBER}{{1,3}})\s*月\s*"
    rf"(?P<d>\d{{1,2}}|{_CN_NUMBER}{{1,3}})\s*日|[-/.](?P<m2>\d{{1,2}})[-/.](?P<d2>\d{{1,2}})(?!\d))"
    r"(?:\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?"
)
# what may stand beside a document's own date on its line: a label, a publisher, a separator
_DATE_BEFORE = re.compile(r"(?:^|[\s(（【\[|｜]|(?:发布|更新|成文|印发)?(?:时间|日期)\s*[:：]\s*|发布于\s*)$")
_DATE_AFTER = re.compile(r"\s*(?:$|[\s)）】\]|｜])")
_HEAD_LINES = 8
_DATE_LINE_MAX = 80


def _number(text: str) -> int:
    """12, 十二, 二十三, 〇五: the Arabic or Chinese numerals of a date's part."""
    if text.isdigit():
        return int(text)
    if "十" not in text:
        return int("".join(str(_CN_DIGITS[c]) for c in text))
    tens, _, ones = text.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def _own_date(line: str, alone: bool) -> str:
    """The ISO date a metadata line gives (2022年02月11日15:18 | 来源:人民网; （2023年5月10日）), "" for a line of
    body text that mentions one (2023年1月1日起施行, 2022年5月,安顺市……)."""
    line = unicodedata.normalize("NFKC", line).strip()
    if len(line) > _DATE_LINE_MAX or re.search(r"[。！？!?]", line):
        return ""
    for m in _DATE.finditer(line):
        if not (_DATE_BEFORE.search(line[: m.start()]) and _DATE_AFTER.match(line, m.end())):
            continue
        if alone and re.sub(r"[\s()（）\[\]【】]", "", line[: m.start()] + line[m.end() :]):
            continue
        try:
            day = datetime.date(_number(m["y"]), _number(m["m"] or m["m2"]), _number(m["d"] or m["d2"]))
        except (KeyError, ValueError):
            continue
        return day.isoformat()
    return ""


def guess_date(text: str) -> str:
    """The document's own date (ISO): on a line of its head that gives a date beside a label or a publisher
    only, or on one of its last lines that is a date alone (an official document's 成文日期 under its issuer).
    Never a date its body mentions; "" when there is none."""
    lines = [line for line in text.split("\n") if line.strip()]
    for line in lines[:_HEAD_LINES]:
        if found := _own_date(line, alone=False):
            return found
    for line in reversed(lines[-3:]):
        if found := _own_date(line, alone=True):
            return found
    return ""


def guess_title(text: str, file_name: str) -> str:
    """The first short line without end punctuation (a heading) that is no page chrome, taken only from the
    document's head (a snippet that opens with body text has no title there, and a subheading further down is
    none), else the file name. A title laid out on two lines (……破千万， / 只是统计口径变了) is read whole."""
    lines = [line.strip() for line in text.split("\n") if line.strip()][:4]
    for k, line in enumerate(lines):
        if _BODY_LINE.search(line) and len(line) > 15 and not _is_caption(line) and not _is_byline(line):
            break  # the body has begun
        if line.endswith(("，", ",")) and k + 1 < len(lines) and not _is_terminal(lines[k + 1]):
            line = line + lines[k + 1]
        if (
            4 <= len(line) <= 60
            and not _is_terminal(line)
            and not _is_byline(line)
            and not _is_caption(line)
            and not _unbalanced(line)
            and not _NOT_A_TITLE.search(line)
            and not re.search(r"(?:\S*\d\S*\s+){2,}\S*\d", line)  # a table row (小麦 23518.5 13772.3 ……)
            and not line.endswith(("，", ","))
        ):
            return line
    return Path(file_name).stem
