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


# ---- names of places and units (龙洞堡街道, 碧海社区, 黔信律师事务所)

_PLACE_OR_UNIT = re.compile(
    r"([\u4e00-\u9fff·]{2,12}?)(县|区|镇|乡|村|街道|社区|小区|居委会|管委会|公司|集团|企业|党支部|党总支|党委|党工委|"
    r"服务中心|服务站|驿站|协会|学校|医院|律师事务所|工作室|合作社)"
)
_GENERIC_PREFIX = re.compile(
    r"^(全|该|各|本|每|此|其|所在|辖区|城市|农村|基层|所有|相关|有关|各类|多个|一个|个|新建|"
    r"示范|试点|老旧|封闭|超大型|社区|小区|街道|党员|居民|两新|非公|物业|企业|行政)"
)
_IN_QUOTES = re.compile(r"[“\"「『‘][^”\"」』’]{0,30}[”\"」』’]")
_NOT_NAME = set("vdpcuyeor")  # verbs, adverbs, prepositions, conjunctions, particles, pronouns
_PROPER = {"ns", "nr", "nz", "nt", "nrt", "nrfg", "j"}


def named_units(text: str) -> list[str]:
    """Specific places and units (龙洞堡街道, 碧海社区), not 全市/该街道/城市社区/物业服务企业.

    The words before a unit suffix must end in a run free of verbs and function words that holds a proper
    name by jieba's tags (ns nr nz nt) or is a noun compound of three characters or more (世纪城街道):
    “安顺市聚焦街道” and “提高物业服务企业” are not names.
    """
    body = _IN_QUOTES.sub("“”", text)
    found = []
    for m in _PLACE_OR_UNIT.finditer(body):
        run: list[tuple[str, str]] = []
        for word, flag in reversed(pos_tags(m.group(1))):
            if flag[:1] in _NOT_NAME or flag in ("vn", "m", "q"):
                break
            run.insert(0, (word, flag))
        name = "".join(w for w, _ in run)
        if len(name) < 2 or _GENERIC_PREFIX.match(name):
            continue
        if any(f in _PROPER for _, f in run) or (len(name) >= 3 and all(f[:1] == "n" for _, f in run)):
            found.append(name + m.group(2))
    return found
