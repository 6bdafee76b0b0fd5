"""Course packs as a trainer reads them: the headings, notes and document groups the review page shows
(`ui/pack.py`), and the Markdown, DOCX and JSON files the API, CLI and UI export (`export`)."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from urllib.parse import quote as url_quote

from .coursepack import FORMATS, validate_format
from .coursepack_records import CoursePack, PackItem, Part, Section

_ORDINALS = "一二三四五六七八九十"


def _ordinal(index: int) -> str:
    return _ORDINALS[index] if index < len(_ORDINALS) else str(index + 1)


def part_heading(index: int, part: Part) -> str:
    return f"{_ordinal(index)}、{part.topic}"


def section_heading(index: int, section: Section) -> str:
    return f"（{_ordinal(index)}）{section.kind}（{len(section.items)} 条）"


def context_note(item: PackItem) -> str:
    """Set before the quote, apart from it: the quote stays verbatim."""
    said = "；".join(n for n in (item.context, item.introduced) if n)
    return f"〔上文：{said}〕" if said else ""


def related_note(item: PackItem) -> str:
    return f"（相关素材：未直接提到“{item.topic}”）" if item.related else ""


def also_note(item: PackItem) -> str:
    return f"（另见主题：{'、'.join(f'“{t}”' for t in item.also)}）" if item.also else ""


def intro(pack: CoursePack) -> str:
    n_items, n_docs = len(pack.items), len(pack.references)
    return (
        f"主题：{'、'.join(pack.topics)}。共 {n_items} 条素材（每个主题最多 {pack.max_items} 条，按相关程度排序），"
        f"摘自 {n_docs} 篇文档，每条均为原文摘录，每句标注出处编号。生成时间：{pack.generated_at}。"
    )


def notes(pack: CoursePack) -> list[str]:
    return [n for n in (pack.warning, pack.notice, pack.summaries_note) if n]


def groups(section: Section) -> list[tuple[PackItem, list[PackItem]]]:
    """Consecutive items of one document: (first item, items); the document's title is shown once."""
    out: list[tuple[PackItem, list[PackItem]]] = []
    for item in section.items:
        if not out or out[-1][0].doc_id != item.doc_id:
            out.append((item, []))
        out[-1][1].append(item)
    return out


def _parts_with_items(pack: CoursePack) -> list[Part]:
    return [p for p in pack.parts if p.items] or []


def to_markdown(pack: CoursePack) -> str:
    lines = [f"# {pack.title}", "", f"> {intro(pack)}", ""]
    for note in notes(pack):
        lines += [f"> {note}", ""]
    for p_index, part in enumerate(_parts_with_items(pack)):
        lines += [f"## {part_heading(p_index, part)}", ""]
        if part.lead_text():
            lines += [f"**导语**：{_md_escape_cited(part.lead_text())}", ""]
        s_index = 0
        for section in part.sections:
            if not section.items:
                continue
            lines += [f"### {section_heading(s_index, section)}", ""]
            s_index += 1
            if section.summary_text():
                lines += [f"**要点**：{_md_escape_cited(section.summary_text())}", ""]
            for first, items in groups(section):
                lines += [f"#### {first.label or first.title}", ""]
                for item in items:
                    body = "".join(f"{_md_escape(t)}[{item.n}]" for t in item.sentence_texts())
                    lines.append(
                        f"- {_md_escape(context_note(item))}{body}"
                        f"{_md_escape(related_note(item) + also_note(item))}"
                    )
                lines.append("")
    if pack.references:
        lines += ["## 参考资料", ""]
        lines += [f"{ref.n}. {ref.label or ref.title}" for ref in pack.references]
        lines.append("")
    return "\n".join(lines)


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def _md_escape_cited(text: str) -> str:
    """Escape prose but keep its [n] markers."""
    return re.sub(r"\\\[(\d+)\\\]", r"[\1]", _md_escape(text))


# East Asian fonts with CJK Extension A (㮾 U+3BBE): Noto CJK (Debian fonts-noto-cjk). Word/WPS without them
# substitute their default Song/Hei faces, which cover Extension A as well (GB18030).
BODY_FONT = "Noto Serif CJK SC"
HEADING_FONT = "Noto Sans CJK SC"
LATIN_FONT = "Times New Roman"


def to_docx(pack: CoursePack) -> bytes:
    """Word/WPS/LibreOffice-clean DOCX: a heading per topic, section and document, [n] superscripts after each
    sentence, 参考资料, page footer."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    doc = Document()
    _set_fonts(doc)
    props = doc.core_properties
    props.title, props.subject, props.author = pack.title, "、".join(pack.topics), "政策问答助手"
    props.language, props.keywords = "zh-CN", "课程素材"

    doc.add_heading(pack.title, level=0)

    def note(para, text: str, size: int = 9) -> None:
        """A small grey run: the pack's notes, or one beside an item's quote (〔上文：……〕, （另见主题：……））."""
        if text:
            run = para.add_run(text)
            run.font.size = Pt(size)
            run.font.color.rgb = RGBColor(0x59, 0x59, 0x59)

    for text in (intro(pack), *notes(pack)):
        note(doc.add_paragraph(), text, size=10)

    def cited(para, text: str) -> None:
        for piece in re.split(r"(\[\d+\])", text):
            if piece:
                para.add_run(piece).font.superscript = bool(re.fullmatch(r"\[\d+\]", piece))

    for p_index, part in enumerate(_parts_with_items(pack)):
        doc.add_heading(part_heading(p_index, part), level=1)
        if part.lead_text():
            para = doc.add_paragraph()
            para.add_run("导语：").bold = True
            cited(para, part.lead_text())
        s_index = 0
        for section in part.sections:
            if not section.items:
                continue
            doc.add_heading(section_heading(s_index, section), level=2)
            s_index += 1
            if section.summary_text():
                para = doc.add_paragraph()
                para.add_run("要点：").bold = True
                cited(para, section.summary_text())
            for first, items in groups(section):
                doc.add_heading(first.label or first.title, level=3)
                for item in items:
                    para = doc.add_paragraph(style="List Bullet")
                    note(para, context_note(item))
                    for text in item.sentence_texts():
                        para.add_run(text)
                        para.add_run(f"[{item.n}]").font.superscript = True
                    note(para, related_note(item) + also_note(item))
    if pack.references:
        doc.add_heading("参考资料", level=1)
        for ref in pack.references:
            doc.add_paragraph(f"[{ref.n}] {ref.label or ref.title}")
    footer = doc.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("第 ")
    _add_field(footer, "PAGE")
    footer.add_run(" 页，共 ")
    _add_field(footer, "NUMPAGES")
    footer.add_run(" 页")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _set_fonts(doc) -> None:
    """East-Asian fonts on every style we use, so Chinese never falls back to a Latin font."""
    from docx.oxml.ns import qn

    styles = doc.styles
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3", "List Bullet", "Footer"):
        try:
            style = styles[name]
        except KeyError:
            continue
        east_asian = HEADING_FONT if name.startswith(("Title", "Heading")) else BODY_FONT
        style.font.name = LATIN_FONT
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.insert(0, fonts)
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(attr), None)
        fonts.set(qn("w:ascii"), LATIN_FONT)
        fonts.set(qn("w:hAnsi"), LATIN_FONT)
        fonts.set(qn("w:eastAsia"), east_asian)
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = rpr.makeelement(qn("w:lang"), {})
            rpr.append(lang)
        lang.set(qn("w:eastAsia"), "zh-CN")


def _add_field(paragraph, instruction: str) -> None:
    """A complex field (PAGE, NUMPAGES): Word, WPS and LibreOffice all update it when laying out pages."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def fld_char(kind: str):
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        return el

    begin = paragraph.add_run()
    begin._r.append(fld_char("begin"))
    instr = paragraph.add_run()
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    instr._r.append(text)
    sep = paragraph.add_run()
    sep._r.append(fld_char("separate"))
    paragraph.add_run("1")
    end = paragraph.add_run()
    end._r.append(fld_char("end"))


# ----------------------------------------------------------------------------------------------- export


@dataclass
class Export:
    data: bytes
    media_type: str
    filename: str

    @property
    def content_disposition(self) -> str:
        """RFC 6266: an ASCII fallback name plus the Chinese one, percent-encoded."""
        suffix = self.filename.rsplit(".", 1)[-1]
        return f"attachment; filename=\"coursepack.{suffix}\"; filename*=UTF-8''{url_quote(self.filename)}"


def export(pack: CoursePack, fmt: str) -> Export:
    fmt = validate_format(fmt)
    if fmt == "docx":
        data = to_docx(pack)
    elif fmt == "md":
        data = to_markdown(pack).encode("utf-8")
    else:
        data = json.dumps(pack.to_dict(), ensure_ascii=False, indent=2).encode("utf-8")
    return Export(data, FORMATS[fmt], f"{file_stem(pack.topics)}.{fmt}")


def file_stem(topics: list[str]) -> str:
    stem = "课程素材-" + "-".join(topics)
    stem = re.sub(r"[\\/:*?\"<>|\s]+", "_", stem)
    return stem[:60]
