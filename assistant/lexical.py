"""Jieba tokens, the same function for chunks and queries, and BM25 over them.

Quoted domain phrases (“碧·有服务”, “一中心一张网十联户”) are kept whole as extra tokens, because jieba splits
them into common pieces that match everywhere.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections import Counter
from importlib import resources

import bm25s
import jieba
import jieba.posseg
import numpy as np

jieba.setLogLevel(logging.WARNING)
logging.getLogger("bm25s").setLevel(logging.WARNING)
_init_lock = threading.Lock()
_initialised = False

_QUOTED = re.compile(r"[“\"「『《]([^“”\"」』《》\n]{2,20})[”\"」』》]")
_WORD = re.compile(r"\w")
# function words and question words: never evidence that a passage answers
STOPWORDS = frozenset(
    """的 了 是 在 和 与 及 等 也 都 就 还 又 把 被 让 对 为 以 从 向 于 由 将 其 之 而 或 并 但 这 那 这个 那个 这些 那些
    这样 那样 一个 一些 有 有的 没有 吗 呢 吧 啊 呀 么 哪 哪个 哪些 哪里 哪儿 哪家 哪位 哪种 哪一 哪一年 哪一天 哪年 哪天
    什么 什么样 啥 如何 怎么 怎样 怎么样 为什么 为何 多少 几 几个 几项 几种 谁 何 何时 何地 是否 是不是 分别 各 各自
    一共 共 总共 具体 主要 都有 有哪些 请问 介绍 一下 情况 内容 方面 呢 中 上 下 个 名 项 后 前 时 里 所 给 用 做 做了
    哪几 哪几个 哪几项 哪五项 哪三项 哪四项 它 他 她 他们 它们 我们 你们 这里 那里 当时 目前 现在 后来 曾 已 已经 会 能 可以
    要 应 应该 得 着 过 来 去 到 说 称 叫 叫做 名字 一样 吗 ？ ? ， , 。""".split()
)


def _ensure_jieba() -> None:
    global _initialised
    if _initialised:
        return
    with _init_lock:
        if not _initialised:
            jieba.initialize()
            with resources.files("assistant").joinpath("data/userdict.txt").open("r", encoding="utf-8") as fh:
                jieba.load_userdict(fh)
            _initialised = True


def normalise(text: str) -> str:
    """Matching copy only: full-width → half-width (NFKC), lower case. Stored text is never changed."""
    return unicodedata.normalize("NFKC", text).lower()


def quoted_phrases(text: str) -> list[str]:
    return [re.sub(r"\s+", "", normalise(m.group(1))) for m in _QUOTED.finditer(text)]


def tokenize(text: str) -> list[str]:
    """BM25 tokens: jieba search-mode words (compounds and their parts) plus whole quoted phrases."""
    _ensure_jieba()
    norm = normalise(text)
    tokens = [w for w in jieba.cut_for_search(norm) if _WORD.search(w) and w not in STOPWORDS]
    tokens.extend(q for q in quoted_phrases(text) if q)
    return tokens


def words(text: str) -> list[str]:
    """Precise-mode content words (副主任 stays one word), for term coverage in answers and refusals."""
    _ensure_jieba()
    return [w for w in jieba.cut(normalise(text)) if _WORD.search(w) and w not in STOPWORDS]


def pos_tags(text: str) -> list[tuple[str, str]]:
    _ensure_jieba()
    return [(p.word, p.flag) for p in jieba.posseg.cut(text)]


class BM25Index:
    """BM25 over chunk token lists, rebuilt in memory from committed tokens (milliseconds)."""

    def __init__(self, token_lists: list[list[str]]):
        self.size = len(token_lists)
        self.doc_freq = Counter(t for tokens in token_lists for t in set(tokens))
        self._bm25 = None
        if self.size:
            self._bm25 = bm25s.BM25()
            self._bm25.index([tokens or ["∅"] for tokens in token_lists], show_progress=False)

    def idf(self, term: str) -> float:
        """Smoothed idf; a term the corpus never uses gets the highest weight."""
        return math.log(1 + (self.size + 1) / (self.doc_freq.get(term, 0) + 0.5))

    def scores(self, tokens: list[str]) -> np.ndarray:
        if not self._bm25 or not tokens:
            return np.zeros(self.size, dtype=np.float32)
        known = [t for t in tokens if t in self.doc_freq]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
