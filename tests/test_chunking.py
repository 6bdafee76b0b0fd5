"""Sentence spans and chunks: ordered, disjoint, covering, and always slices of the stored text."""

import re

from conftest import SEEDS
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant import corpus
from assistant.chunking import chunk_document, is_heading, split_sentences


def seed_docs():
    for name, path in SEEDS.items():
        text = corpus.clean_text(corpus.markdown_to_text(path.read_text("utf-8")))
        yield corpus.Document(corpus.doc_id_for(text), text, path.stem, name)


def assert_spans_valid(text, spans):
    last = 0
    for s, e in spans:
        assert last <= s < e <= len(text)
        assert not text[s].isspace() and not text[e - 1].isspace()
        last = e
    covered = "".join(text[s:e] for s, e in spans)
    assert re.sub(r"\s", "", covered) == re.sub(r"\s", "", text)


def assert_chunks_valid(doc, chunks, spans, max_chars=500):
    starts = {s for s, _ in spans}
    ends = {e for _, e in spans}
    for c in chunks:
        assert c.text == doc.text[c.start : c.end]
        assert c.start in starts and c.end in ends  # never cuts a sentence
        assert len(c.text) <= max_chars + 20
        assert c.chunk_id == f"{doc.doc_id}-{c.ordinal:04d}"
    # every sentence lies inside some chunk
    for s, e in spans:
        assert any(c.start <= s and e <= c.end for c in chunks)


def test_seed_sentences_and_chunks():
    for doc in seed_docs():
        spans = split_sentences(doc.text)
        assert_spans_valid(doc.text, spans)
        chunks = chunk_document(doc)
        assert_chunks_valid(doc, chunks, spans)
        assert sum(len(c.text) for c in chunks) / len(chunks) > 150


CHARS = st.sampled_from(
    list("党建引领社区治理网格服务群众的了是和。！？…，；“”（）《》 \n.3%") + ["\n\n", "他说：“好。”"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(CHARS, min_size=0, max_size=400))
def test_random_text_properties(pieces):
    text = "".join(pieces)
    spans = split_sentences(text, max_sentence_chars=60)
    assert_spans_valid(text, spans)
    doc = corpus.Document("f" * 16, text, "t", "s")
    assert_chunks_valid(doc, chunk_document(doc, 120, 200, 60), spans, max_chars=200)


def test_sentence_rules():
    text = "他说：“好。”增长3.5%。第二句！\n没有标点的标题\n最后一句"
    got = [text[s:e] for s, e in split_sentences(text)]
    assert got == ["他说：“好。”", "增长3.5%。", "第二句！", "没有标点的标题", "最后一句"]


def test_long_sentence_cut_at_a_comma():
    text = "，".join(["这是一个相当长的分句内容"] * 30) + "。"
    spans = split_sentences(text, max_sentence_chars=100)
    assert len(spans) > 1 and all(e - s <= 100 for s, e in spans)
    assert all(text[e - 1] == "，" for s, e in spans[:-1])


def test_heading_starts_a_chunk():
    body = "这是正文的一句话，内容比较长，用来凑够长度。" * 4
    text = f"第一部分标题\n\n{body}\n\n第二部分标题\n\n{body}"
    doc = corpus.Document("a" * 16, text, "t", "s")
    chunks = chunk_document(doc)
    assert any(c.text.startswith("第二部分标题") for c in chunks)
    assert is_heading(text, (0, 6))
