"""Fusion settings: one object built from `Settings`, passed whole to `search` (issue 15)."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from test_incremental_index import TEXTS, NoVectors, _full

from assistant.config import Settings
from assistant.retrieval import Fusion, search

QUESTION = "物业收费率提高到多少？"  # names no quoted phrase of TEXTS: BM25 alone ranks (NoVectors)


def test_fusion_defaults_are_the_settings_defaults():
    defaults = {f.name: Settings.model_fields[f.name].default for f in fields(Fusion)}
    assert Fusion(**defaults) == Fusion()


def test_fusion_is_built_from_settings():
    settings = Settings(candidates=7, rrf_k=20, dense_weight=2.0, bm25_weight=0.5, phrase_weight=0.0)
    assert Fusion.from_settings(settings) == Fusion(
        candidates=7, rrf_k=20, dense_weight=2.0, bm25_weight=0.5, phrase_weight=0.0
    )


def test_search_follows_its_fusion():
    snap = _full(TEXTS)
    every = search(snap, NoVectors(), QUESTION, np.zeros(4), top_k=10)
    one = search(snap, NoVectors(), QUESTION, np.zeros(4), top_k=10, fusion=Fusion(candidates=1))
    assert len(every) > 1 and [h.chunk for h in one] == [every[0].chunk]
    # the score is relative to the best possible fused score: BM25 alone counts once dense weighs nothing
    keywords_only = Fusion(dense_weight=0.0, phrase_weight=0.0)
    assert search(snap, NoVectors(), QUESTION, np.zeros(4), top_k=1, fusion=keywords_only)[0].score == 1.0
    assert every[0].score == 0.5  # first by BM25, absent from the (empty) dense list


def test_a_keyword_typed_as_the_documents_write_it_ranks_its_chunk():
    """㮾梨 拆迁清零 项目数: 拆迁清零 is written whole in one long chunk only; short chunks holding 拆迁 alone win
    on BM25, but the chunk holding the typed keyword whole is ranked as one holding a domain phrase."""
    from snapshots import snapshot_of

    from assistant.retrieval import typed_phrases

    long = "街道" + "围绕党建聚合力工程扎实推进各项工作，" * 12 + "全面完成25个项目拆迁清零，腾地2400余亩。"
    shorts = ["完成42户房屋拆迁工作。", "拆迁工作创下新纪录。", "项目拆迁用时两个月。"]
    text = long + "".join(shorts)
    cuts, at = [len(long)], len(long)
    for s in shorts:
        at += len(s)
        cuts.append(at)
    snap = snapshot_of([text], cuts=[cuts])
    query = "㮾梨 拆迁清零 项目数"
    assert typed_phrases(snap, query) == ["拆迁清零"]
    assert typed_phrases(snap, "拆迁清零项目数") == []  # a question typed whole is no keyword query
    first = search(snap, NoVectors(), query, np.zeros(4), top_k=4, typed=True)[0]
    assert "拆迁清零" in first.text
    without = search(snap, NoVectors(), query, np.zeros(4), top_k=4)[0]
    assert "拆迁清零" not in without.text  # a course-pack topic's reading: no typed keywords


def test_an_answer_keeps_bm25s_clear_best_chunk_that_fusion_ranked_low():
    from assistant.retrieval import Hit
    from assistant.service import _lexical_anchor

    def hit(n: int, bm25: float) -> Hit:
        return Hit(chunk=n, doc=None, text=str(n), score=1.0 - n / 100, bm25=bm25)  # type: ignore[arg-type]

    found = [hit(0, 3.0), hit(1, 4.0), hit(2, 2.0), hit(3, 8.4)]
    assert [h.chunk for h in _lexical_anchor(found, top_k=2)] == [3]  # 8.4 leads 4.0 by far
    close = [hit(0, 3.0), hit(1, 4.0), hit(2, 2.0), hit(3, 5.0)]
    assert _lexical_anchor(close, top_k=2) == []  # a close first place: fusion decides
    assert _lexical_anchor(found, top_k=4) == []  # already among the top k
