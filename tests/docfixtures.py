"""Real documents built on the fly: .docx by python-docx, PDFs and legacy formats by LibreOffice, scans by
rendering known Chinese text with a Noto CJK font at 300 dpi. Shared by the parser tests and the benchmarks.

The texts are invented for the tests (no third-party data), but shaped like real files: numbered headings,
curly quotes, CJK mixed with Latin letters and figures, page headers and footers with page numbers.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import zipfile
import zlib
from pathlib import Path

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
CJK_FONT = next(
    (
        p
        for p in (
            "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
            "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        )
        if Path(p).is_file()
    ),
    None,
)

TITLE = "关于推进“网格吹哨”社区服务管理的工作报告"
HEADER = "某市人民政府办公室文件"
# (kind, text): "h" headings, "p" body paragraphs
BODY = [
    ("h", "一、总体情况"),
    (
        "p",
        "2023年以来，全市共划分基础网格1268个，配备专职网格员2536名，推行“网格吹哨、部门报到”机制，"
        "群众诉求平均办结时间缩短至3.5天。",
    ),
    (
        "p",
        "试点街道引入OA办公系统和12345热线数据，对接API接口47个，实现“一网通办”事项326项，"
        "群众满意度达到98.6%。",
    ),
    ("h", "（一）着力完善网格体系，推动服务力量下沉"),
    (
        "p",
        "各区按照“人往网中去、事在格中办”的要求，将楼栋长、单元长纳入网格力量，"
        "全年走访群众15.2万户次，化解矛盾纠纷4300余件。",
    ),
    (
        "p",
        "在老旧小区推行“红色物业”试点，成立业主委员会党支部58个，物业服务投诉量同比下降21%。",
    ),
    ("h", "（二）着力提升数字治理能力"),
    (
        "p",
        "建设城市运行管理平台2.0版本，汇聚人口、房屋、事件等数据1.3亿条，"
        "通过AI算法自动派单，事件处置率达到99.2%。",
    ),
    (
        "p",
        "平台按“日研判、周调度、月通报”运行，全年发布预警信息860条，其中“高温天气”预警42条。",
    ),
    ("h", "二、存在的问题"),
    (
        "p",
        "部分网格员身兼数职，工作负担较重；个别部门数据共享不及时，“数据烟囱”问题仍然存在。",
    ),
    ("h", "三、下一步工作安排"),
    (
        "p",
        "2024年将新增智能感知设备5000台，完成全部社区“15分钟便民生活圈”建设，"
        "并在第四季度开展网格员能力培训3期，每期不少于120人。",
    ),
]


def body_text(repeat: int = 1) -> str:
    """The document's own text (title + body), one paragraph per line, as a reader would type it."""
    lines = [TITLE]
    for r in range(repeat):
        for _kind, text in BODY:
            lines.append(text if r == 0 else text.replace("。", f"（第{r + 1}轮）。", 1))
    return "\n".join(lines)


def make_docx(
    path: Path, repeat: int = 1, columns: int = 1, header: bool = True, table: bool = False
) -> Path:
    """A Word file with a title, numbered headings, curly quotes, a page header and a 'page X' footer."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    d = docx.Document()
    style = d.styles["Normal"]
    style.font.size = Pt(12)
    section = d.sections[0]
    if header:
        section.header.paragraphs[0].text = HEADER
        footer = section.footer.paragraphs[0]
        footer.add_run("第 ")
        _field(footer.add_run(), "PAGE")
        footer.add_run(" 页")
    if columns > 1:
        cols = section._sectPr.find(qn("w:cols"))
        if cols is None:
            cols = OxmlElement("w:cols")
            section._sectPr.append(cols)
        cols.set(qn("w:num"), str(columns))
        cols.set(qn("w:space"), "425")
    d.add_heading(TITLE, level=1)
    for r in range(repeat):
        for kind, text in BODY:
            text = text if r == 0 else text.replace("。", f"（第{r + 1}轮）。", 1)
            if kind == "h":
                d.add_heading(text, level=2)
            else:
                d.add_paragraph(text)
    if table:
        t = d.add_table(rows=2, cols=3)
        for i, cells in enumerate((("指标", "2022年", "2023年"), ("网格数", "1200", "1268"))):
            for j, value in enumerate(cells):
                t.cell(i, j).text = value
    d.save(str(path))
    return path


def _field(run, instr: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for tag, attr in (("w:fldChar", "begin"), ("w:instrText", instr), ("w:fldChar", "end")):
        el = OxmlElement(tag)
        if tag == "w:fldChar":
            el.set(qn("w:fldCharType"), attr)
        else:
            el.set(qn("xml:space"), "preserve")
            el.text = instr
        run._r.append(el)


def soffice_convert(src: Path, fmt: str, outdir: Path | None = None) -> Path:
    """LibreOffice headless conversion with a private profile (other processes may run soffice too)."""
    if SOFFICE is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    outdir = Path(outdir or src.parent)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        subprocess.run(
            [
                SOFFICE,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                fmt,
                "--outdir",
                str(outdir),
                str(src),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    out = outdir / (src.stem + "." + fmt.split(":")[0])
    if not out.is_file():
        raise RuntimeError(f"soffice produced no {fmt} for {src}")
    return out


def render_scan(lines: list[str], dpi: int = 300, size_pt: int = 14):
    """One A4 page image (PIL) with the given lines typeset in a CJK font, as a 300-dpi scanner would see it."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = int(8.27 * dpi), int(11.69 * dpi)
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(CJK_FONT, int(size_pt * dpi / 72))
    y = int(1.0 * dpi)
    for line in lines:
        draw.text((int(1.0 * dpi), y), line, font=font, fill=0)
        y += int(size_pt * dpi / 72 * 1.8)
    return img


def scan_pdf(path: Path, pages: list[list[str]], dpi: int = 300) -> Path:
    """A PDF of page images only (no text layer), like a scanned 红头文件."""
    images = [render_scan(lines, dpi).convert("RGB") for lines in pages]
    images[0].save(str(path), "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return path


def scan_lines(width: int = 28) -> list[str]:
    """The test body broken into lines that fit an A4 page in 14 pt."""
    out = []
    for _kind, text in BODY:
        for i in range(0, len(text), width):
            out.append(text[i : i + width])
    return out


def hand_pdf(pages: int = 1, inflated_mb: int = 0) -> bytes:
    """A valid PDF written by hand: `pages` empty pages (the 20,000-page attack), or one page whose content
    stream inflates to `inflated_mb` MB of spaces (a stream bomb, ~1000:1)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{i + 3} 0 R" for i in range(pages)).encode()
    objects.append(b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(pages).encode() + b" >>")
    if inflated_mb:
        page = f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents {pages + 3} 0 R >>".encode()
    else:
        page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"
    objects += [page] * pages
    if inflated_mb:
        z = zlib.compressobj()
        payload = b"".join(z.compress(b" " * (1 << 20)) for _ in range(inflated_mb)) + z.flush()
        head = f"<< /Length {len(payload)} /Filter /FlateDecode >>\nstream\n".encode()
        objects.append(head + payload + b"\nendstream")
    return pdf_file(objects)


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF of these objects (numbered from 1, the catalog first) with its cross-reference table."""
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def docx_bomb(inflated_mb: int = 200) -> bytes:
    """A .docx whose document.xml inflates to `inflated_mb` MB (the zip-bomb attack, ~1000:1)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr(
            "word/document.xml", b"<w:document><w:t>" + b"a" * (inflated_mb << 20) + b"</w:t></w:document>"
        )
    return buf.getvalue()


def text_pdf(pages: int, lines: int = 50) -> bytes:
    """A valid PDF written by hand whose `pages` pages each carry `lines` lines of Latin text (Helvetica):
    a long parse that is cheap to build (no LibreOffice)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{2 * i + 4} 0 R" for i in range(pages)).encode()
    objects.append(b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(pages).encode() + b" >>")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for p in range(pages):
        rows = b"".join(
            b"(Page %d line %d: the quick brown fox jumps over the lazy dog.) Tj 0 -14 Td " % (p + 1, k + 1)
            for k in range(lines)
        )
        stream = b"BT /F1 10 Tf 40 780 Td " + rows + b"ET"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {2 * p + 5} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    return pdf_file(objects)
