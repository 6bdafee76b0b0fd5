"""Readable source names (assistant/sources.py): the one rule the chat, the copied answer, /v1's 参考资料,
`assistant ask` and the course pack name documents by — title, place and date, never a stored hash name."""

from __future__ import annotations

import re

from assistant.answer.citations import Citation
from assistant.retrieval import DocumentTexts, StoredDocument
from assistant.sources import (
    cited_document,
    is_machine_name,
    readable_file,
    references_block,
    source_label,
    with_references,
)

HASH_NAME = re.compile(r"\d{3}_[0-9a-f]{16}\.txt")


def stored(doc_id, title, region="", date="", file="001_0123456789abcdef.txt", source=""):
    return StoredDocument(
        doc_id, file, source or file, title, region, date, 4, "2026-01-01T00:00:00+0800", "", 1,
        texts=DocumentTexts.held({doc_id: "引文一。"}),
    )  # fmt: skip


def cite(n, doc_id, title="标题甲", quote="引文一。"):
    return Citation(
        n=n, doc_id=doc_id, title=title, source="001_0123456789abcdef.txt", chunk_id=f"{doc_id}:0",
        text=quote, quote=quote, start=0, end=len(quote), score=0.5,
    )  # fmt: skip


def test_readable_source_helper():
    assert is_machine_name("002_e3e3c721f5a2a88d.txt") and is_machine_name("e3e3c721f5a2a88d0a1b.pdf")
    assert not is_machine_name("观山湖区打造特色党建品牌综述.md")
    doc = {
        "title": "标题",
        "region": "湖南省长沙市",
        "date": "2022-02-11",
        "source": "004_d70784d2eddda7ba.txt",
    }
    assert source_label(doc) == "《标题》（湖南省长沙市，2022-02-11）"
    assert (
        source_label({"title": "", "source": "004_d70784d2eddda7ba.txt", "file": "报告.docx"}) == "报告.docx"
    )
    assert source_label({"source": "004_d70784d2eddda7ba.txt"}) == "未命名文档"
    assert readable_file({"source": "通知.pdf", "file": "abc.pdf"}) == "通知.pdf"


def test_references_name_title_place_and_date_never_the_stored_file():
    documents = {"d": stored("d", "标题甲", "贵州省安顺市", "2022-02-11"), "e": stored("e", "标题乙")}
    block = references_block([cite(1, "d"), cite(2, "e", "标题乙", "引文二。")], documents)
    assert block == (
        "参考资料：\n[1] 《标题甲》（贵州省安顺市，2022-02-11）：“引文一。”\n[2] 《标题乙》：“引文二。”"
    )
    assert not HASH_NAME.search(block)
    # a citation read back from JSON (the chat's state) is named the same way
    assert references_block([cite(1, "d").to_dict()], documents) == block.split("\n[2]")[0]


def test_a_deleted_document_is_named_by_its_citation():
    assert cited_document(cite(1, "gone"), {})["title"] == "标题甲"
    assert references_block([cite(1, "gone")], {}) == "参考资料：\n[1] 《标题甲》：“引文一。”"
    # no title anywhere: a file name a person gave, else 未命名文档, never the hash name
    untitled = {"d": stored("d", "", file="001_0123456789abcdef.txt", source="通知.pdf")}
    assert references_block([cite(1, "d", title="")], untitled) == "参考资料：\n[1] 通知.pdf：“引文一。”"
    assert "未命名文档" in references_block([cite(1, "gone", title="")], {})


def test_answer_with_references_and_links_neutralised():
    documents = {"d": stored("d", "标题甲", "贵州省安顺市")}
    assert with_references("答案。", [], documents) == "答案。"
    text = with_references("答案[1]。", [cite(1, "d", quote="见[点击](javascript:alert(1))。")], documents)
    assert text.startswith("答案[1]。\n\n参考资料：\n[1] 《标题甲》（贵州省安顺市）：")
    assert "](javascript" not in text and "［点击］（javascript:alert(1)）" in text
