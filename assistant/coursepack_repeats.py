"""When one item adds nothing to another: the same report reprinted, a shorter restatement, or the same figures in
other words. Compared on squashed text (no spaces or punctuation, simplified characters), remembered per pair."""

from __future__ import annotations

import re
from decimal import Decimal
from difflib import SequenceMatcher
from functools import lru_cache

from .lexical import normalise, simplified


def squashed(text: str) -> str:
    """Normalised text without spaces or punctuation, in simplified characters: what two reprints of one report
    share (one of them may be in traditional ones)."""
    return re.sub(r"\W+", "", simplified(normalise(text)))


@lru_cache(maxsize=1 << 15)
def near_duplicate(a: str, b: str, ratio: float = 0.8) -> bool:
    """Two squashed items say the same: one holds the other, or they share most of their characters in order
    (one report reprinted by two outlets with a few words changed). Remembered: packs on related topics, and
    the fit's thousands of trial packs, compare the same pairs again."""
    short, long = sorted((a, b), key=len)
    return not short or short in long or _similar(_matcher(short, long), ratio)


def _matcher(short: str, long: str) -> SequenceMatcher:
    return SequenceMatcher(None, short, long, autojunk=False)


def _similar(matcher: SequenceMatcher, ratio: float = 0.8) -> bool:
    return matcher.quick_ratio() >= ratio and matcher.ratio() >= ratio


_FIGURES = re.compile(r"\d+")


RESTATED_SHARE = 0.75


RESTATED_RUN = 4


def restates(a: str, b: str) -> bool:
    """Squashed item `a` says nothing `b` lacks: most of its characters, in order, and every figure of it (2022年春运
    将于1月17日开始至2月25日结束 beside a longer report of the same dates). A figure of its own (总票房破65亿 beside
    破61亿) is news, whatever else they share; a longer `b` is never restated by a shorter `a`."""
    return bool(a) and len(a) <= len(b) and _restated(a, b, _matcher(a, b))


def _restated(a: str, b: str, matcher: SequenceMatcher) -> bool:
    if matcher.quick_ratio() * (len(a) + len(b)) / 2 < RESTATED_SHARE * len(a):
        return False  # an upper bound on what they share: cheap, and most pairs stop here
    if set(_FIGURES.findall(a)) - set(_FIGURES.findall(b)):
        return False
    shared = sum(block.size for block in matcher.get_matching_blocks() if block.size >= RESTATED_RUN)
    return shared >= RESTATED_SHARE * len(a)  # runs of a few characters: scattered ones match any long text


# a figure as written: digits with thousands separators and decimals, scaled by 万/亿 (4.8万 = 48,000); a count
# below 100 or a year (2021年, 2011-2012赛季) says nothing alone
_AMOUNT = re.compile(r"(?<![\d.])(\d{1,3}(?:[,，]\d{3})+|\d+)(\.\d+)?\s*(万亿|亿|万)?(?!\d)")


_SCALE = {"万": 10**4, "亿": 10**8, "万亿": 10**12}


def figure_values(text: str) -> frozenset[Decimal]:
    """The telling figures of a text as values: 69.6% and 4.8万辆 of one report, 69.6 and 48000 of another."""
    values = set()
    for m in _AMOUNT.finditer(normalise(text)):
        whole, decimals, scale = m.groups()
        value = Decimal(whole.replace(",", "").replace("，", "") + (decimals or "")) * _SCALE.get(
            scale or "", 1
        )
        year = not decimals and not scale and 1900 <= value <= 2100
        if decimals or (value >= 100 and not year):
            values.add(value.normalize())
    return frozenset(values)


def restates_figures(item: frozenset, taken: frozenset, least: int = 2) -> bool:
    """Every telling figure of the item, two at least, is one an item already taken gives: the same facts
    reported in other words (新能源车型销量超48,000辆，同比增长69.6% beside ……超过了4.8万辆，同比增长69.6%)."""
    return len(item) >= least and item <= taken


@lru_cache(maxsize=1 << 15)
def repeats(item: str, taken: str) -> bool:
    """The item adds nothing to one already taken: the same report (`near_duplicate`), or a shorter restatement
    of it (`restates`), decided on one matcher of the pair. Remembered, as `near_duplicate` is."""
    short, long = sorted((item, taken), key=len)  # stable: an item as long as the one taken is `short`
    if not short or short in long:
        return True
    matcher = _matcher(short, long)
    return _similar(matcher) or (len(item) <= len(taken) and _restated(item, taken, matcher))
