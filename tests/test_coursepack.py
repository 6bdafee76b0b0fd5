"""Course packs: gathering quality on the dev topics, the record, Markdown/DOCX exports (re-opened, rendered to
PDF by LibreOffice), and the same pack through the CLI and POST /api/coursepack.

Recall of a topic = share of its evidence spans covered (assistant.evaluation.covered) by some pack item.
Precision = share of pack items that support one of the topic's spans or are on topic by this file's rule:
the item names one of the topic's specific words (jieba search-mode words of two or more characters found in
at most a quarter of the chunks, so 社区/服务/管理 do not count) or a quoted phrase of the topic's evidence.
The numbers go to test-artifacts/coursepack.json; recall is enforced, precision reported.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from conftest import ASSISTANT_BIN, ROOT, TOPICS_DEV, cli_env
from http_utils import serve_app

from assistant import coursepack as cp
from assistant.api import create_app
from assistant.errors import AssistantError
from assistant.evaluation import covered
from assistant.lexical import normalise, quoted_phrases, tokenize

MIN_RECALL = 0.80
CJK = re.compile(r"[\u4e00-\u9fff]")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", normalise(text))


def _topics() -> list[dict]:
    return [json.loads(line) for line in TOPICS_DEV.read_text("utf-8").splitlines() if line.strip()]


def _specific_words(topic: str, assistant) -> list[str]:
    chunks = [normalise(assistant.snapshot.text_of(c)) for c in assistant.snapshot.chunks]
    out = []
    for word in dict.fromkeys(tokenize(topic)):
        if len(word) >= 2 and sum(word in t for t in chunks) <= 0.25 * len(chunks):
            out.append(word)
    return out


# ------------------------------------------------------------------------------------------ quality


@pytest.fixture(scope="module")
def dev_packs(assistant):
    """Each dev topic's pack (built once), with its build time."""
    assistant.course_pack(["预热"])  # first call builds the per-snapshot sentence view and loads jieba
    packs = []
    for topic in _topics():
        started = time.perf_counter()
        pack = assistant.course_pack([topic["topic"]])
        packs.append((topic, pack, time.perf_counter() - started))
    return packs


def test_recall_and_precision_on_dev_topics(dev_packs, assistant):
    rows = []
    for topic, pack, seconds in dev_packs:
        texts = [item.text for item in pack.items]
        found = [any(covered(ev, t) for t in texts) for ev in topic["evidence"]]
        words = _specific_words(topic["topic"], assistant)
        phrases = {p for ev in topic["evidence"] for p in quoted_phrases(ev)}
        supports = [any(covered(ev, t) for ev in topic["evidence"]) for t in texts]
        on_topic = [
            s or any(w in normalise(t) for w in words) or any(p in normalise(t) for p in phrases)
            for s, t in zip(supports, texts)
        ]
        rows.append(
            {
                "topic": topic["topic"],
                "recall": sum(found) / len(found),
                "precision": sum(on_topic) / max(len(texts), 1),
                "strict_precision": sum(supports) / max(len(texts), 1),
                "items": len(texts),
                "counts": {s.kind: len(s.items) for s in pack.sections},
                "ms": round(1000 * seconds, 1),
                "missed": [ev for ev, ok in zip(topic["evidence"], found) if not ok],
            }
        )
    summary = {
        k: round(statistics.fmean(r[k] for r in rows), 4)
        for k in ("recall", "precision", "strict_precision", "items")
    }
    summary["build_ms_p50"] = round(statistics.median(r["ms"] for r in rows), 1)
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    (ROOT / "test-artifacts" / "coursepack.json").write_text(
        json.dumps({"summary": summary, "topics": rows}, ensure_ascii=False, indent=1), "utf-8"
    )
    print(f"\ncourse packs on {len(rows)} dev topics: {summary}")
    for r in rows:
        print(f"  {r['topic']}: recall {r['recall']:.2f} precision {r['precision']:.2f} items {r['items']}")
    assert summary["recall"] >= MIN_RECALL, rows
    assert all(r["items"] > 0 for r in rows)


def test_every_item_is_a_verbatim_cited_sentence(dev_packs, assistant):
    documents = assistant.snapshot.documents
    for _, pack, _ in dev_packs:
        refs = {r.n: r for r in pack.references}
        assert sorted(refs) == list(range(1, len(refs) + 1))
        ids = [item.id for item in pack.items]
        assert len(ids) == len(set(ids))
        for section in pack.sections:
            assert section.kind in cp.KINDS
            for item in section.items:
                text = documents[item.doc_id]["text"]
                assert text[item.start : item.end] == item.quote
                assert (
                    refs[item.n].doc_id == item.doc_id
                    and refs[item.n].source == documents[item.doc_id]["source"]
                )
                assert _squash(item.text) == _squash(item.quote)
        for a, b in zip(pack.items, pack.items[1:]):  # no two items overlap in a document
            assert a.doc_id != b.doc_id or a.end <= b.start or b.end <= a.start


def test_json_shape_is_the_contract(dev_packs):
    _, pack, _ = dev_packs[0]
    data = json.loads(json.dumps(pack.to_dict(), ensure_ascii=False))
    assert {"title", "topics", "sections", "references"} <= set(data)
    assert [s["kind"] for s in data["sections"]] == list(cp.KINDS)
    item = (
        data["sections"][0]["items"][0] if data["sections"][0]["items"] else data["sections"][2]["items"][0]
    )
    assert {"text", "n", "doc_id", "title", "source", "quote", "start", "end"} <= set(item)
    assert set(data["references"][0]) >= {"n", "doc_id", "title", "source"}


def test_select_drops_reorders_and_renumbers(dev_packs):
    _, pack, _ = dev_packs[0]
    first_doc = pack.references[0].doc_id
    dropped = [i.id for i in pack.items if i.doc_id == first_doc]
    chosen = pack.select(dropped, ["工作举措", "数据成效"])
    assert [s.kind for s in chosen.sections] == ["工作举措", "数据成效", "典型案例"]
    assert first_doc not in {i.doc_id for i in chosen.items}
    assert len(chosen.items) == len(pack.items) - len(dropped)
    assert [r.n for r in chosen.references] == list(range(1, len(chosen.references) + 1))
    assert {i.n for i in chosen.items} == {r.n for r in chosen.references}
    assert len(pack.items) > len(chosen.items)  # the original is untouched
    with pytest.raises(AssistantError, match="类别"):
        pack.select([], ["案例"])


def test_sentences_joined_back_where_the_splitter_cut(assistant):
    """Units cover the text in order; pieces cut at the length limit or by a layout line break are rejoined."""
    snap = assistant.snapshot
    joined = 0
    for doc_id, doc in snap.documents.items():
        text = doc["text"]
        units = list(cp._whole_sentences(text, snap.sentence_spans[doc_id], 600))
        assert [u[:2] for u in units] == sorted(u[:2] for u in units)
        assert "".join(re.sub(r"\s", "", text[s:e]) for s, e, _, _ in units) == re.sub(r"\s", "", text)
        for (s, e, _, heading), nxt in zip(units, units[1:]):
            whole = (
                heading
                or re.search(r"[。！？!?…][”’」』）)》\"']*$", text[s:e])
                or nxt[3]
                or nxt[1] - s > 600
            )
            assert whole, text[s:e]
        joined += sum(1 for s, e, _, _ in units if e - s > assistant.settings.max_sentence_chars)
    assert joined > 0


# ------------------------------------------------------------------------------------------ input and sorting


@pytest.mark.parametrize(
    "topics, message",
    [
        ([], "至少输入一个主题"),
        ([""], "主题为空"),
        (["  "], "主题为空"),
        ([f"主题{i}" for i in range(11)], "主题过多"),
        (["网格" * 30], "主题过长"),
        ({"topic": "网格"}, "主题列表"),
    ],
)
def test_bad_topics_are_chinese_errors(topics, message):
    with pytest.raises(AssistantError, match=message) as err:
        cp.validate_topics(topics)
    assert err.value.status == 400


def test_topics_are_trimmed_and_deduplicated():
    assert cp.validate_topics(["  网格化管理 ", "网格化管理", "物业党建"]) == ["网格化管理", "物业党建"]
    assert cp.validate_topics("物业党建") == ["物业党建"]


def test_unknown_format_is_rejected():
    assert cp.validate_format("docx") == "docx" and cp.validate_format(None) == "json"
    for bad in ("pdf", "DOCX", " md"):
        with pytest.raises(AssistantError, match=f"不支持的导出格式“{bad}”"):
            cp.validate_format(bad)


@pytest.mark.parametrize(
    "sentence, kind",
    [
        ("截至目前,累计受理申请320件,调解成功290件。", "数据成效"),
        ("全区共建成12个党群服务站,服务群众4000余人次。", "数据成效"),
        ("辖区居民满意度达到96%。", "数据成效"),
        ("以春晖街道为例,该街道组建了“红管家”服务队。", "典型案例"),
        ("碧湖社区探索“楼栋长+网格员”联动机制。", "典型案例"),
        ("建立健全网格员培训考核机制,推动服务下沉。", "工作举措"),
        ("2021年,研究制定“1+1+N”网格党支部模式。", "工作举措"),  # a year and a programme name are not figures
        ("提高物业服务企业和业委会党组织的覆盖率。", "工作举措"),  # 物业服务企业 is no named unit
    ],
)
def test_classification(sentence, kind):
    assert cp.classify(sentence) == kind


@pytest.mark.parametrize("topic", ["量子计算芯片", "的"])
def test_topic_the_documents_never_mention_gives_an_empty_pack_with_a_warning(assistant, topic):
    pack = assistant.course_pack([topic])
    assert pack.items == [] and "资料中未找到" in pack.warning
    assert "资料中未找到" in cp.to_markdown(pack)
    assert pack.to_dict()["warning"] == pack.warning


# ------------------------------------------------------------------------------------------ exports


@pytest.fixture(scope="module")
def two_topic_pack(assistant):
    return assistant.course_pack(["网格化管理", "新就业群体"])


def test_markdown_export(two_topic_pack):
    pack = two_topic_pack
    md = cp.to_markdown(pack)
    assert md.startswith(f"# {pack.title}\n")
    for kind in cp.KINDS:
        if any(s.kind == kind and s.items for s in pack.sections):
            assert re.search(rf"^## .、{kind}（\d+ 条）$", md, re.M)
    for item in pack.items:
        assert f"{cp._md_escape(item.text)}[{item.n}]" in md
    refs = md.split("## 参考资料", 1)[1]
    for ref in pack.references:
        assert f"{ref.n}. 《{ref.title}》（来源文件：{ref.source}" in refs


def test_docx_reopens_with_cited_items_references_and_page_numbers(two_topic_pack, assistant, tmp_path):
    from docx import Document
    from docx.oxml.ns import qn

    pack = two_topic_pack
    path = tmp_path / "pack.docx"
    path.write_bytes(cp.to_docx(pack))
    doc = Document(str(path))
    documents = assistant.snapshot.documents
    assert doc.paragraphs[0].text == pack.title and doc.paragraphs[0].style.name == "Title"
    assert doc.core_properties.title == pack.title

    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings[-1] == "参考资料"
    assert [h.split("、", 1)[1].split("（")[0] for h in headings[:-1]] == [
        s.kind for s in pack.sections if s.items
    ]

    ref_lines = [p.text for p in doc.paragraphs[[p.text for p in doc.paragraphs].index("参考资料") + 1 :]]
    references = {}
    for line in ref_lines:
        m = re.match(r"\[(\d+)\] 《(.+)》（来源文件：([^，）]+)", line)
        assert m, line
        references[int(m.group(1))] = (m.group(2), m.group(3))
    by_source = {d["source"]: d for d in documents.values()}

    items = [p for p in doc.paragraphs if p.style.name == "List Bullet"]
    assert len(items) == len(pack.items)
    for para in items:
        marker = para.runs[-1]
        assert marker.font.superscript and re.fullmatch(r"\[\d+\]", marker.text)
        title, source = references[int(marker.text[1:-1])]
        cited = by_source[source]
        assert cited["title"] == title
        body = "".join(r.text for r in para.runs[:-1])
        assert _squash(body) in _squash(cited["text"]), body  # the quote is in the cited document

    footer_xml = doc.sections[0].footer._element.xml
    assert "PAGE" in footer_xml and "fldChar" in footer_xml
    fonts = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == cp.BODY_FONT


def _soffice() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        pytest.fail(
            "LibreOffice 未安装：运行 make system-deps（或 apt-get install -y --no-install-recommends "
            "libreoffice-writer fonts-wqy-microhei）后重试。"
        )
    return exe


def test_docx_renders_chinese_in_libreoffice(two_topic_pack, tmp_path):
    from pypdf import PdfReader

    source = tmp_path / "pack.docx"
    source.write_bytes(cp.to_docx(two_topic_pack))
    profile = tmp_path / "lo-profile"
    result = subprocess.run(
        [
            _soffice(),
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    pdf = tmp_path / "pack.pdf"
    assert result.returncode == 0 and pdf.is_file(), result.stderr
    reader = PdfReader(str(pdf))
    assert len(reader.pages) >= 2
    first = reader.pages[0].extract_text()
    assert len(CJK.findall(first)) > 200, first[:500]
    assert _squash(two_topic_pack.title) in _squash(first)
    last = reader.pages[-1].extract_text()
    assert "参考资料" in last or any("参考资料" in p.extract_text() for p in reader.pages)
    assert re.search(rf"第\s*{len(reader.pages)}\s*页", last)  # the PAGE field was laid out


# ------------------------------------------------------------------------------------------ CLI and API


def _cli(dirs, *args):
    return subprocess.run(
        [str(ASSISTANT_BIN), *args],
        env=cli_env(corpus_dir=dirs[0], index_dir=dirs[1]),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _without_timestamp(md: str) -> str:
    return re.sub(r"生成时间：[^。]+。", "", md)


@pytest.fixture(scope="module")
def api_url(shared_dirs):
    from conftest import make_settings

    from assistant.service import Assistant

    with serve_app(create_app(Assistant(make_settings(*shared_dirs)), with_ui=False)) as url:
        yield url


def test_cli_and_api_export_the_same_pack(shared_dirs, api_url, tmp_path):
    out_md, out_docx = tmp_path / "pack.md", tmp_path / "课程.docx"
    result = _cli(shared_dirs, "coursepack", "网格化管理", "--topic", "新就业群体", "--out", str(out_md))
    assert result.returncode == 0, result.stderr
    assert "已生成课程素材" in result.stdout
    result = _cli(shared_dirs, "coursepack", "网格化管理", "--topic", "新就业群体", "--out", str(out_docx))
    assert result.returncode == 0, result.stderr

    body = {"topics": ["网格化管理", "新就业群体"]}
    md = httpx.post(f"{api_url}/api/coursepack", json={**body, "format": "md"}, timeout=120)
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert (
        "filename*=UTF-8''" in md.headers["content-disposition"]
        and ".md" in md.headers["content-disposition"]
    )
    assert _without_timestamp(md.text) == _without_timestamp(out_md.read_text("utf-8"))

    docx = httpx.post(f"{api_url}/api/coursepack", json={**body, "format": "docx"}, timeout=120)
    assert docx.status_code == 200
    assert docx.headers["content-type"] == cp.FORMATS["docx"]
    assert docx.content[:2] == b"PK" and out_docx.read_bytes()[:2] == b"PK"
    assert "attachment;" in docx.headers["content-disposition"]

    data = httpx.post(f"{api_url}/api/coursepack", json=body, timeout=120)
    assert data.status_code == 200 and data.headers["content-type"].startswith("application/json")
    pack = data.json()
    md_items = [line for line in md.text.splitlines() if line.startswith("- ")]
    assert len(md_items) == sum(len(s["items"]) for s in pack["sections"])
    for section in pack["sections"]:
        for item in section["items"]:
            doc = httpx.get(f"{api_url}/api/documents/{item['doc_id']}", timeout=30).json()
            assert doc["text"][item["start"] : item["end"]] == item["quote"]


def test_api_review_choices_shape_the_export(api_url):
    base = httpx.post(f"{api_url}/api/coursepack", json={"topics": ["矛盾纠纷调解"]}, timeout=120).json()
    dropped = [i["id"] for s in base["sections"] for i in s["items"]][:3]
    body = {"topics": ["矛盾纠纷调解"], "exclude": dropped, "sections": ["工作举措", "典型案例", "数据成效"]}
    chosen = httpx.post(f"{api_url}/api/coursepack", json=body, timeout=120).json()
    assert [s["kind"] for s in chosen["sections"]] == ["工作举措", "典型案例", "数据成效"]
    kept = {i["id"] for s in chosen["sections"] for i in s["items"]}
    assert not kept & set(dropped)
    assert len(kept) == sum(len(s["items"]) for s in base["sections"]) - len(dropped)
    md = httpx.post(f"{api_url}/api/coursepack", json={**body, "format": "md"}, timeout=120).text
    assert md.index("、工作举措（") < md.index("、典型案例（")


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"topics": []}, 400, "至少输入一个主题"),
        ({"topics": ["  "]}, 400, "主题为空"),
        ({"topics": [f"主题{i}" for i in range(11)]}, 400, "主题过多"),
        ({"topics": ["网格化管理"], "format": "pdf"}, 400, "不支持的导出格式"),
        ({"topics": ["网格化管理"], "sections": ["案例"]}, 400, "未知的素材类别"),
        ({"topics": "网格化管理"}, 422, "topics"),
        ({}, 422, "topics"),
        ({"topics": ["网格化管理"], "fmt": "md"}, 422, "不认识的字段"),
    ],
)
def test_api_bad_input_is_a_chinese_4xx(api_url, body, status, message):
    response = httpx.post(f"{api_url}/api/coursepack", json=body, timeout=60)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert message in detail and CJK.search(detail)


@pytest.mark.parametrize(
    "args, message",
    [
        (["", "--out", "x.md"], "主题为空"),
        (["网格化管理", "--out", "x.pdf"], "不支持的输出格式"),
        (["网格化管理", *sum([["--topic", f"主题{i}"] for i in range(10)], []), "--out", "x.md"], "主题过多"),
        (["网格化管理", "--out", "/no/such/dir/x.md"], "输出目录不存在"),
    ],
)
def test_cli_bad_input_is_a_chinese_error(shared_dirs, tmp_path, args, message):
    args = [a if a != "x.md" else str(tmp_path / "x.md") for a in args]
    result = _cli(shared_dirs, "coursepack", *args)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not any(Path(tmp_path).glob("x.*"))
