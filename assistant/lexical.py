"""Jieba tokens, the same function for chunks and queries, and BM25 over them (term statistics of our own).

Quoted domain phrases (“碧·有服务”, “一中心一张网十联户”) are kept whole as extra tokens, because jieba splits
them into common pieces that match everywhere.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from itertools import combinations

import jieba
import jieba.posseg
import numpy as np

jieba.setLogLevel(logging.WARNING)
_init_lock = threading.Lock()
_initialised = False

# A quoted phrase worth indexing whole (“碧·有服务”, 《条例》): 2–20 characters inside quotation marks or
# title marks, on one line. `QUOTATION` below is any short quotation with its marks (names, slogans), to be
# masked: 0–30 characters, single quotation marks too, no title marks.
_QUOTED = re.compile(r"[“\"「『《]([^“”\"」』《》\n]{2,20})[”\"」』》]")
_WORD = re.compile(r"\w")
# a content word holds a letter or a digit: a blank to fill in (建成____个) says nothing of what is asked
_CONTENT = re.compile(r"[^\W_]")
# function words and question words: never evidence that a passage answers
STOPWORDS = frozenset(
    """的 了 是 在 和 与 及 等 也 都 就 还 又 把 被 让 对 为 以 从 向 于 由 将 其 之 而 或 并 但 这 那 这个 那个 这些 那些
    这样 那样 一个 一些 有 有的 没有 吗 呢 吧 啊 呀 么 哪 哪个 哪些 哪里 哪儿 哪家 哪位 哪种 哪一 哪一年 哪一天 哪年 哪天
    什么 什么样 啥 如何 怎么 怎样 怎么样 为什么 为何 多少 几 几个 几项 几种 谁 何 何时 何地 是否 是不是 分别 各 各自
    一共 共 总共 具体 主要 都有 有哪些 请问 介绍 一下 情况 内容 方面 呢 中 上 下 个 名 项 后 前 时 里 所 给 用 做 做了
    哪几 哪几个 哪几项 哪五项 哪三项 哪四项 它 他 她 他们 它们 我们 你们 这里 那里 当时 目前 现在 后来 曾 已 已经 会 能 可以
    要 应 应该 得 着 过 来 去 到 说 称 叫 叫做 名字 一样 吗 ？ ? ， , 。""".split()
)


# a yes-no question's verb doubled around its negation (有没有, 好不好, 是不是, 能不能): it asks, it names nothing,
# even where a document quotes it (从“做没做”“有没有”向“好不好”转变)
_A_NOT_A = re.compile(r"(\w{1,2})[不没]\1")


def asks_yes_no(word: str) -> bool:
    return bool(_A_NOT_A.fullmatch(word))


_USERDICT = "data/userdict.txt"  # domain terms the segmenter keeps whole, with set counts


def _ensure_jieba() -> None:
    global _initialised
    if _initialised:
        return
    with _init_lock:
        if not _initialised:
            jieba.initialize()
            with resources.files("assistant").joinpath(_USERDICT).open("r", encoding="utf-8") as fh:
                jieba.load_userdict(fh)
            _initialised = True


def normalise(text: str) -> str:
    """Matching copy only: full-width → half-width (NFKC), lower case. Stored text is never changed.

    Remembered: each answer normalises every sentence of its retrieved chunks and their documents, mostly the
    same popular ones from question to question (~3 ms of a ~50 ms ask). Long texts (whole documents) get a
    small cache of their own, so that the memory it holds stays bounded."""
    return (_normalise_short if len(text) <= _SHORT_TEXT else _normalise_long)(text)


_SHORT_TEXT = 2000


@lru_cache(maxsize=32768)
def _normalise_short(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


@lru_cache(maxsize=32)
def _normalise_long(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


@lru_cache(maxsize=1)
def _to_simplified():
    from opencc import OpenCC  # opencc-python-reimplemented: OpenCC's dictionaries, pure Python

    converter = OpenCC("t2s")
    converter.convert("發")  # it loads its tables on first use: loaded here, before threads share it
    return converter


@lru_cache(maxsize=32768)
def simplified(text: str) -> str:
    """Traditional characters read as simplified ones (同時也規範了 → 同时也规范了; a news page may mix them),
    character for character, so the length and every offset stay the same. An analysis copy, like `normalise`'s:
    stored and quoted text is never changed."""
    if text.isascii():
        return text
    return _to_simplified().convert(text)


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
    return [w for w in jieba.cut(normalise(text)) if _CONTENT.search(w) and w not in STOPWORDS]


@lru_cache(maxsize=4096)
def sub_words(word: str) -> tuple[str, ...]:
    """The shorter words of two characters or more inside a word (招聘 of 招聘会), as jieba's search mode cuts it."""
    _ensure_jieba()
    return tuple(w for w in jieba.cut_for_search(word) if len(w) >= 2 and w != word)


@lru_cache(maxsize=4096)
def first_word(text: str) -> str:
    """The text's first precise-mode word (如 of 如某区……, but 如何 whole)."""
    _ensure_jieba()
    return next(iter(jieba.cut(text.lstrip()[:12])), "")


SHORTENED = range(4, 9)  # the lengths of words short forms are made of: 2^(n-2) forms, so never a long phrase


def shortenings(word: str) -> dict[str, list[str]]:
    """The ways Chinese shortens a word of four to eight characters, each with the words of it that the form leaves
    out whole: its first and last characters with some of those between, in order, each of its words either left
    out or kept from its first character on (业委会 of 业主|委员会, 新群体 of 新|就业|群体 leaving out 就业, 奥斯卡奖 of
    奥斯卡|金像|奖); never a piece the word holds as it is. A form that keeps a word's tail without its head names
    something else (冬奥会 of 冬|残奥会, 世界杯赛 of 世界杯|决赛)."""
    if len(word) not in SHORTENED:
        return {}
    pieces = _pieces(word)
    head_of = [s for s, e in pieces for _ in range(s, e)]  # each character's word's first character
    inner = range(1, len(word) - 1)
    forms: dict[str, list[str]] = {}
    for n in range(1, len(word) - 2):
        for keep in combinations(inner, n):
            kept = {0, *keep, len(word) - 1}
            form = "".join(word[i] for i in sorted(kept))
            if all(head_of[i] in kept for i in kept) and form not in word and form not in forms:
                forms[form] = [word[s:e] for s, e in pieces if s not in kept]
    return forms


def initials(word: str) -> str:
    """The word's words by their first characters (国企 of 国有|企业, 北大 of 北京|大学): the other way Chinese
    shortens a name, when each of its words has two characters or more; "" otherwise."""
    pieces = _pieces(word) if len(word) in SHORTENED else []
    if len(pieces) < 2 or any(e - s < 2 for s, e in pieces):
        return ""
    return "".join(word[s] for s, _ in pieces)


def _pieces(word: str) -> list[tuple[int, int]]:
    """The word's smallest words as (start, end): its precise-mode words, one of four or more characters cut into
    the search-mode words it holds that hold no smaller one (联欢晚会 → 联欢|晚会; 奥斯卡金像奖 → 奥斯卡|金像|奖),
    a character no such word covers standing alone."""
    _ensure_jieba()
    out, at = [], 0
    for segment in jieba.cut(word, HMM=False):
        start, at = at, at + len(segment)
        if len(segment) < 4:
            out.append((start, at))
            continue
        subs = {w for w in jieba.cut_for_search(segment) if 2 <= len(w) < len(segment)}
        atoms = sorted(
            (m.start() + start, m.start() + start + len(w))
            for w in smallest_words(subs)
            for m in re.finditer(re.escape(w), segment)
        )
        i = start
        for s, e in atoms:
            if s < i:
                continue  # overlapping atoms: the first one stands
            out.extend((j, j + 1) for j in range(i, s))
            out.append((s, e))
            i = e
        out.extend((j, j + 1) for j in range(i, at))
    return out


def smallest_words(words: Iterable[str]) -> list[str]:
    """The words that hold none of the others (联欢 and 晚会 of 联欢, 晚会, 联欢晚会): what a text is tiled by."""
    words = list(words)
    return [w for w in words if not any(o != w and o in w for o in words)]


def spelled_out(text: str) -> list[str]:
    """What the numbered abbreviations in the text stand for (一老一小 → 老年人, 养老, 儿童, 托育), from
    `data/abbreviations.txt`; the longest abbreviation wins where two overlap (两新组织 over 两新)."""
    found, taken = [], []
    for abbreviation, parts in _abbreviations():
        for m in re.finditer(re.escape(abbreviation), text):
            if not any(m.start() < e and s < m.end() for s, e in taken):
                taken.append((m.start(), m.end()))
                found.extend(p for p in parts if p not in found)
    return found


def abbreviating(words: list[str]) -> list[str]:
    """The numbered abbreviations one of whose parts holds all the words but those the abbreviation holds itself
    (双报到 of 在职 in 在职党员 …, and of 在职 报到): a report names the concept once and its abbreviation after,
    so the abbreviation speaks of what the words do."""
    return [
        a
        for a, parts in _abbreviations()
        if any(any(w in p for w in words) and all(w in p or w in a for w in words) for p in parts)
    ]


@lru_cache(maxsize=1)
def _abbreviations() -> tuple[tuple[str, tuple[str, ...]], ...]:
    pairs = data_pairs("abbreviations.txt")
    return tuple(sorted(((k, tuple(v.split())) for k, v in pairs), key=lambda p: -len(p[0])))


def data_pairs(name: str) -> list[tuple[str, str]]:
    """The `key = value` lines of `assistant/data/<name>`, comments (#) left out."""
    lines = resources.files("assistant").joinpath(f"data/{name}").read_text("utf-8").splitlines()
    pairs = [line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#")]
    return [(k.strip(), v.strip()) for k, v in pairs]


def word_frequency(word: str) -> int:
    """How common the word is in general Chinese (jieba's dictionary count; 0 when unknown): 志愿 3801 against
    愿者 5, the search-mode piece of 志愿者 that is no word of its own."""
    _ensure_jieba()
    return jieba.get_FREQ(word) or 0


AT_LARGE = 2000  # jieba's count of the ~4,000 commonest words of Chinese


def word_at(text: str, j: int) -> str:
    """The word (jieba's cut of `text`) that holds its character j."""
    _ensure_jieba()
    at = 0
    for word in jieba.cut(text):
        if at <= j < at + len(word):
            return word
        at += len(word)
    return text[j : j + 1]


def at_large(word: str) -> bool:
    """One of the commonest words of Chinese (`AT_LARGE`): alone it names things at large (引进, 企业, 改善). Not a
    term of our user dictionary, whose counts are set to make the segmenter keep it whole (网格员), not counted."""
    return word_frequency(word) >= AT_LARGE and word not in _domain_terms()


@lru_cache(maxsize=1)
def _domain_terms() -> frozenset[str]:
    text = resources.files("assistant").joinpath(_USERDICT).read_text("utf-8")
    return frozenset(line.split()[0] for line in text.splitlines() if line.strip())


def pos_tags(text: str) -> list[tuple[str, str]]:
    _ensure_jieba()
    return [(p.word, p.flag) for p in jieba.posseg.cut(text)]


ADD_BATCH = 4096  # chunks tokenised into ids at once (bounded memory on a full load)


def sorted_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values ascending and how often each occurs (a plain sort: numpy's hashing unique is slower)."""
    values = np.sort(values)
    if not len(values):
        return values, values
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    return values[starts], np.diff(np.append(starts, len(values)))


def _token_list(tokens: list[str] | str) -> list[str]:
    if isinstance(tokens, str):
        tokens = tokens.split("\t") if tokens else []
    return tokens or [BM25Index.EMPTY]


class BM25Index:
    """BM25 over chunk token lists, as term statistics: adding or removing a document costs O(that document).

    bm25s (used before) can only index a whole corpus at once; its scores are reproduced exactly here (Lucene
    variant: idf × tf / (tf + k1 (1 - b + b len / avg len)), k1 1.5, b 0.75, float32 per-term scores summed
    in query order). Chunks live in slots numbered in the order they were added; a removed chunk's slot is
    dead until the index is rebuilt. Immutable: `added` and `removed` return a new index sharing every
    posting list the change did not touch.
    """

    K1 = 1.5
    B = 0.75
    EMPTY = "∅"  # the token of a chunk without any (bm25s needs one)

    def __init__(self, token_lists: list[list[str]] = ()):
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # term → (slots int32, tfs float32)
        self._lengths = np.zeros(0, dtype=np.float64)  # tokens per slot
        self._alive = np.zeros(0, dtype=bool)
        self._total = 0.0  # tokens of the live chunks
        self.size = 0  # live chunks
        if token_lists:
            self.__dict__.update(self.added(token_lists).__dict__)

    @property
    def slots(self) -> int:
        """Slots ever used, live or dead (the length of `scores`)."""
        return len(self._alive)

    @property
    def dead(self) -> int:
        return self.slots - self.size

    def _copy(self) -> BM25Index:
        new = object.__new__(BM25Index)
        new.__dict__.update(self.__dict__)
        new._postings = dict(self._postings)
        return new

    def added(self, token_lists: list[list[str] | str]) -> BM25Index:
        """A new index with these chunks in the next free slots (slot numbers `slots`, `slots + 1`, ...).
        A chunk's tokens may also be given as stored (tab-joined): a full load then never holds them all."""
        new = self._copy()
        vocab: dict[str, int] = {}
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        lengths: list[np.ndarray] = []
        for start in range(0, len(token_lists), ADD_BATCH):
            batch = [_token_list(t) for t in token_lists[start : start + ADD_BATCH]]
            sizes = np.fromiter(map(len, batch), dtype=np.int64, count=len(batch))
            ids = np.fromiter(
                (vocab.setdefault(t, len(vocab)) for tokens in batch for t in tokens),
                dtype=np.int64,
                count=int(sizes.sum()),
            )
            first = self.slots + start
            slots = np.repeat(np.arange(first, first + len(batch), dtype=np.int64), sizes)
            pairs, tfs = sorted_counts((ids << 32) | slots)  # (term, slot) → tf
            parts.append((pairs >> 32, pairs & 0xFFFFFFFF, tfs))
            lengths.append(sizes)
        if parts:
            terms, slots, tfs = (np.concatenate(p) for p in zip(*parts))
            order = np.argsort(terms, kind="stable")  # slots stay ascending within a term
            terms, slots, tfs = terms[order], slots[order].astype(np.int32), tfs[order].astype(np.float32)
            bounds = [0, *(np.flatnonzero(np.diff(terms)) + 1).tolist(), len(terms)]
            names = list(vocab)
            for lo, hi in zip(bounds, bounds[1:]):
                term = names[terms[lo]]
                fresh = (slots[lo:hi], tfs[lo:hi])
                old = new._postings.get(term)
                new._postings[term] = (
                    fresh if old is None else tuple(np.concatenate(p) for p in zip(old, fresh))
                )
        added = np.concatenate(lengths).astype(np.float64) if lengths else np.zeros(0)
        new._lengths = np.concatenate([self._lengths, added])
        new._alive = np.concatenate([self._alive, np.ones(len(added), dtype=bool)])
        new._total = self._total + float(added.sum())
        new.size = self.size + len(added)
        return new

    def removed(self, slots: list[int]) -> BM25Index:
        """A new index without these chunks (their slots stay dead until a rebuild)."""
        slots = [s for s in dict.fromkeys(slots) if self._alive[s]]
        new = self._copy()
        new._alive = self._alive.copy()
        new._alive[slots] = False
        new._total = self._total - float(self._lengths[slots].sum())
        new.size = self.size - len(slots)
        return new

    def _live_postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        posting = self._postings.get(term)
        if posting is None or not self.dead:
            return posting
        keep = self._alive[posting[0]]
        return (posting[0][keep], posting[1][keep]) if keep.any() else None

    @property
    def doc_freq(self) -> DocFreq:
        """Live chunks holding each term (a mapping with `get`)."""
        return DocFreq(self)

    def idf(self, term: str) -> float:
        """Smoothed idf; a term the corpus never uses gets the highest weight."""
        return math.log(1 + (self.size + 1) / (self.doc_freq.get(term, 0) + 0.5))

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every slot (dead slots score 0), exactly as bm25s would over the live chunks."""
        scores = np.zeros(self.slots, dtype=np.float32)
        if not self.size:
            return scores
        avg_len = self._total / self.size
        for term in tokens:
            posting = self._live_postings(term)
            if posting is None:
                continue
            slots, tfs = posting
            df = len(slots)
            idf = np.float32(math.log(1 + (self.size - df + 0.5) / (df + 0.5)))
            norm = self.K1 * (1 - self.B + self.B * self._lengths[slots] / avg_len)
            tfc = tfs / (tfs + norm)  # Lucene leaves out the (k1 + 1) factor
            np.add.at(scores, slots, (idf * tfc).astype(np.float32))
        return scores


class DocFreq:
    """`doc_freq` of a `BM25Index`, counted on demand (dead slots excluded)."""

    def __init__(self, index: BM25Index):
        self._index = index

    def get(self, term: str, default: int = 0) -> int:
        posting = self._index._live_postings(term)
        return default if posting is None else len(posting[0])

    def __getitem__(self, term: str) -> int:
        n = self.get(term, 0)
        if not n:
            raise KeyError(term)
        return n

    def __contains__(self, term: str) -> bool:
        return self.get(term, 0) > 0


# ---- names of places and units (龙洞堡街道, 碧海社区, 黔信律师事务所)

UNIT_WORDS = (
    "县|区|镇|乡|村|街道|社区|小区|居委会|管委会|公司|集团|企业|党支部|党总支|党委|党工委|"
    "服务中心|服务站|驿站|协会|学校|医院|律师事务所|工作室|合作社"
)
_PLACE_OR_UNIT = re.compile(rf"([\u4e00-\u9fff·]{{2,12}}?)({UNIT_WORDS})")
_GENERIC_PREFIX = re.compile(
    r"^(全|该|各|本|每|此|其|所在|辖区|城市|农村|基层|所有|相关|有关|各类|多个|一个|个|新建|普通|一般|"
    r"示范|试点|老旧|封闭|超大型|社区|小区|街道|党员|居民|两新|非公|物业|企业|行政|农民|农户|群众|城中村|城乡|"
    r"智慧|智能|数字)"  # a kind of unit, not its name (智慧社区: jieba tags 智慧 as a person's name)
)
QUOTATION = re.compile(r"[“\"「『‘][^”\"」』’]{0,30}[”\"」』’]")  # a short quotation, marks included
_NOT_NAME = set("vdpcuyeor")  # verbs, adverbs, prepositions, conjunctions, particles, pronouns
_PROPER = {"ns", "nr", "nz", "nt", "nrt", "nrfg", "j"}


def generic_name(name: str) -> bool:
    """A unit named by a kind, not a name (全市, 该街道, 街道党工委, 城市社区, 农民专业合作社, 城中村, 普通高等学校)."""
    return bool(_GENERIC_PREFIX.match(name))


def named_units(text: str) -> list[str]:
    """Specific places and units (龙洞堡街道, 碧海社区), not 全市/该街道/城市社区/物业服务企业.

    The words before a unit suffix must end in a run free of verbs and function words that holds a proper
    name by jieba's tags (ns nr nz nt) or is a noun compound of three characters or more (世纪城街道):
    “安顺市聚焦街道” and “提高物业服务企业” are not names.
    """
    body = QUOTATION.sub("“”", text)
    found = []
    for m in _PLACE_OR_UNIT.finditer(body):
        run: list[tuple[str, str]] = []
        for word, flag in reversed(pos_tags(m.group(1))):
            if flag[:1] in _NOT_NAME or flag in ("vn", "m", "q") or asks_yes_no(word):  # 是不是 (l) asks
                break
            run.insert(0, (word, flag))
        name = "".join(w for w, _ in run)
        if len(name) < 2 or generic_name(name):
            continue
        if any(f in _PROPER for _, f in run) or (len(name) >= 3 and all(f[:1] == "n" for _, f in run)):
            found.append(name + m.group(2))
    return found
