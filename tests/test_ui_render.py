"""The chat's HTML without a browser: readable references, grouped refusals, plain follow-up notes.
(The same screens in a real browser: tests/test_ui.py.)"""

from __future__ import annotations

import re

from assistant.answer.citations import Answer
from assistant.ui import answer_html, chat

HASH_NAME = re.compile(r"\d{3}_[0-9a-f]{16}\.txt")


def citation(n, doc_id, quote, title="标题甲", region="贵州省安顺市", date="2022-02-11", start=0):
    return {
        "n": n,
        "doc_id": doc_id,
        "title": title,
        "source": f"00{n}_0123456789abcdef.txt",
        "chunk_id": f"{doc_id}:0",
        "quote": quote,
        "start": start,
        "end": start + len(quote),
        "score": 0.5,
        "region": region,
        "date": date,
    }


def done_turn(answer, citations, grounded=True, **extra):
    return {
        "question": "问题",
        "state": "done",
        "answer": answer,
        "grounded": grounded,
        "citations": citations,
    }


def test_references_show_title_place_and_date_not_file_names():
    turn = done_turn("答案[1]。", [citation(1, "a", "引文一。")])
    out = answer_html._render_answer(turn)
    assert "《标题甲》" in out and "贵州省安顺市，2022-02-11" in out
    assert not HASH_NAME.search(out) and "文件：" not in out
    # place and date are left out when unknown, without empty separators
    bare = answer_html._render_answer(
        done_turn("答案[1]。", [citation(1, "a", "引文一。", region="", date="")])
    )
    assert "qa-ref-meta" not in bare


def test_refusal_lists_each_document_once_and_each_passage_once():
    cites = [
        citation(1, "a", "同一句。", title="文档甲"),
        citation(2, "b", "另一篇的句子。", title="文档乙"),
        citation(3, "a", "同一句。", title="文档甲", start=0),
        citation(4, "a", "文档甲的另一句。", title="文档甲", start=10),
    ]
    answer = "资料中未找到能够直接回答该问题的内容。以下是最相关的段落，供参考：《文档甲》[1]；《文档乙》[2]；《文档甲》[3]。"
    out = answer_html._render_answer(done_turn(answer, cites, grounded=False))
    assert "以下是" not in out and "资料中未找到能够直接回答该问题的内容。" in out
    assert (
        out.count("<details") == 1 and "<details open" not in out
    )  # static/chat.js opens it on wide screens
    assert out.count('class="qa-near-doc"') == 2
    assert out.count("《文档甲》") == 1 and out.count("《文档乙》") == 1
    assert out.count("“同一句。”") == 1 and "“文档甲的另一句。”" in out
    assert "2 篇文档 · 3 段" in out


def test_follow_up_note_only_for_a_rewritten_question():
    places = {"d": {"region": "湖南省长沙市", "date": ""}}
    extractive = Answer(
        answer="答。", citations=[], grounded=False, mode="extractive", query="碧海社区 十五条措施 那它呢？"
    )
    assert chat._finished_turn(extractive, "那它呢？", places)["understood"] == ""
    llm = Answer(
        answer="答。",
        citations=[],
        grounded=False,
        mode="llm",
        query="碧海社区推行“碧·有服务”的具体做法是什么？",
    )
    turn = chat._finished_turn(llm, "那它的具体做法呢？", places)
    assert turn["understood"] == "碧海社区推行“碧·有服务”的具体做法是什么？"
    html = answer_html._render_answer({**turn, "question": "那它的具体做法呢？"})
    assert "结合上文，理解为：碧海社区推行" in html and "已结合上文检索" not in html


class _OneDocument:
    """The one `Assistant` method the source panel calls."""

    def __init__(self, doc):
        self.doc = doc

    def document(self, doc_id):
        return self.doc


def test_source_panel_names_the_document_readably_and_marks_the_quote():
    from assistant.retrieval import DocumentTexts, StoredDocument

    text = "第一句。被引用的一句。第三句。"
    doc = StoredDocument(
        "d", "003_0123456789abcdef.txt", "003_0123456789abcdef.txt", "003_0123456789abcdef", "湖南省长沙市",
        "", len(text), "2026-01-01T00:00:00+0800", "", 1, texts=DocumentTexts.held({"d": text}),
    )  # fmt: skip
    out = answer_html.render_source(_OneDocument(doc), {"doc_id": "d", "start": 4, "end": 11, "n": 2})
    assert '<mark class="qa-quote">被引用的一句。</mark>' in out
    assert "《未命名文档》" in out and "湖南省长沙市" in out and "0123456789abcdef" not in out


def test_copied_references_name_sources_as_the_chat_does():
    from assistant.answer.citations import Citation
    from assistant.retrieval import DocumentTexts, StoredDocument

    cite = Citation(
        n=1, doc_id="d", title="标题甲", source="001_0123456789abcdef.txt", chunk_id="d:0", text="引文一。",
        quote="引文一。", start=0, end=4, score=0.5,
    )  # fmt: skip
    doc = StoredDocument(
        "d", "001_0123456789abcdef.txt", "001_0123456789abcdef.txt", "标题甲", "贵州省安顺市", "2022-02-11", 4,
        "2026-01-01T00:00:00+0800", "", 1, texts=DocumentTexts.held({"d": "引文一。"}),
    )  # fmt: skip
    result = Answer(answer="答案[1]。", citations=[cite], grounded=True)
    turn = chat._finished_turn(result, "问题", {"d": doc})
    # the same text as /v1's answer and `assistant ask` (sources.with_references)
    assert turn["copy"] == "答案[1]。\n\n参考资料：\n[1] 《标题甲》（贵州省安顺市，2022-02-11）：“引文一。”"
    assert not HASH_NAME.search(turn["copy"])
    assert turn["citations"][0]["region"] == "贵州省安顺市" and "text" not in turn["citations"][0]
