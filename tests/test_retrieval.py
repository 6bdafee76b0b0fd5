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
