"""Measured signals of how well one sentence answers a question: the features the answer model weighs.

Each feature is a number in [0, 1] (or a small count) with one meaning, computed the same way for every
corpus. Which of them matter, and how much, is fitted (`answer.fit`), never set by hand here.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from .. import ner
from ..lexical import normalise, quoted_phrases, sub_words
from ..punctuation import END_MARKS, QUOTE_CLOSERS
from ..retrieval import ChunkRow, Hit, Snapshot, StoredDocument
from .conversation import MEASURE_SENTENCE
from .question import (
    NUMERAL,
    PLACE_WORDS_ALT,
    TYPED,
    Question,
    compared_names,
    count_value,
    coverage,
    days_named,
    name_in,
)

FEATURES = (
    "cov_sentence",  # idf-weighted share of question terms in the sentence
    "cov_chunk",
    "cov_paragraph",
    "cov_document",  # title included
    "focus_sentence",  # the words next to the question word (多少名会员 → 会员) are in the sentence
    "rare_missing",  # share of the question's three rarest terms (by idf) the sentence lacks
    "ent_sentence",  # share of the question's names (places, units, years, phrases) in the sentence
    "ent_paragraph",
    "ent_missing_doc",  # share of the question's names its document never mentions
    "rare_missing_doc",  # share of the question's two rarest terms its document never mentions (考研 for 高考)
    "type_ok",  # holds the kind of answer asked (a figure of the asked unit, a date, a new person/place/name)
    "type_near",  # ... in a clause about what is asked
    "type_missing",  # a figure/date/person/place/name was asked and the sentence has none
    "type_other",  # a figure was asked and a clause about it gives one of another measure (增长40% for 多少亿元)
    "fused",  # fused retrieval score of its chunk (1 = first by every retriever)
    "rank",  # 1 / (1 + chunk rank)
    "cosine",  # dense similarity of its chunk
    "meaning",  # dense similarity of the sentence itself (catches paraphrase: 下课后没人照看 ~ 放学后无人管理)
    "novelty",  # share of the sentence that restates nothing of the question
    "year_conflict",  # the question names a year; the sentence names only other years
    "heading",  # short, without end punctuation
    "length",  # log length, scaled
    "listing",  # list questions: an enumeration (、、)
    "measure",  # how-to questions: a sentence that states a measure
)
# what only the dense retriever measures: unknown (NaN, imputed by the model) while it is down
DENSE_FEATURES = ("cosine", "meaning")
_DENSE_AT = [FEATURES.index(f) for f in DENSE_FEATURES]


def dense_down(hits: list[Hit]) -> bool:
    """The dense retriever could not take part in this search (`retrieval.Hits.degraded`; a plain list of hits
    was searched normally): its signals are then unknown, not zero."""
    return getattr(hits, "degraded", False)


# a figure; not 一 of 每一户, 统一, 唯一 (every, unified, only: no count)
_NUM = r"(?:\d+(?:[.,]\d+)*|(?<![每同唯统逐])[零〇一二三四五六七八九十两百千万亿]+)"
_SCALE = r"\s*(?:多|余|近|超)?\s*(?:十|百|千|万|亿|万亿)?\s*"
# a bare 万/亿 may be money or people (2.2万, 3.5亿), unless a classifier of something else follows (1.6万余件)
_BARE_SCALE = r"\s*(?:万|亿)(?!\s*(?:余|多)?\s*(?:[件个项家次起批期场份套台辆吨斤亩株棵头只条篇册部所座块元人名位户]|平方|公里|千米|米))"
UNIT_PATTERNS = {
    "money": re.compile(
        _NUM + _SCALE + r"(?:元|美元|欧元|英镑|日元|港元|港币|卢布|块钱|块)|" + _NUM + _BARE_SCALE
    ),
    "people": re.compile(_NUM + _SCALE + r"(?:人次|人|名|位|户)|" + _NUM + _BARE_SCALE),
    # a share is also written as a fraction (4/5以上) or in words (五分之四, 八成)
    "percent": re.compile(
        _NUM
        + r"\s*(?:%|％|‰|成|个百分点)|百分之"
        + _NUM
        + r"|\d+\s*/\s*\d+|[一二三四五六七八九十]+分之[一二三四五六七八九十]+|[一二三四五六七八九]成"
    ),
    "ordinal": re.compile(
        r"第\s*" + _NUM + r"|首(?=[个家批位届次所座])|冠军|亚军|季军|" + _NUM + r"\s*强"
    ),  # 首家: 第一
    # a class hour (学时, 课时) is an hour to a reader asking 多少个小时
    "duration": re.compile(
        _NUM + _SCALE + r"(?:个)?(?:分钟|小时|钟头|学时|课时|天|日|周|星期|个月|月|年)|半(?:年|天|小时)"
    ),
    "count": re.compile(_NUM + _SCALE + r"[\u4e00-\u9fff%]?|\d+"),
    "score": re.compile(r"(?<![\d.\-–—/])\d{1,3}\s*(?:[:：比]|[-–—](?!\d{1,2}[-–—]))\s*\d{1,3}(?![\d.])"),
}
_DATE = re.compile(
    r"\d{4}\s*年|\d{1,2}\s*月\s*\d{0,2}|\d{1,2}\s*日|\d{4}[-./]\d{1,2}|[一二三四五六七八九十]+月|"
    r"[上中下]旬|年初|年底|年末|春节|元旦|"
    r"(?<!\d)\d{1,2}\s*[:：]\s*\d{2}(?!\d)|(?<![\d.])\d{1,2}\s*点(?:半|钟|\d{1,2}分)?"  # a time of day (8:30, 9点半)
)
# a date precise to the day (12月16日, 2022-12-16, 十二月十六日, 16日): what 日期/哪天/几号 asks for
_DAY_DATE = re.compile(
    r"\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\d{4}[-./]\d{1,2}[-./]\d{1,2}|[一二三四五六七八九十]+月[一二三四五六七八九十]+[日号]|"
    r"(?<![\d月])\d{1,2}\s*[日号]"
)
# a day of the week (每周一至周六, 星期天): the date a question about a week's days asks (一周哪几天开饭)
_WEEKDAY = re.compile(r"(?:周|星期|礼拜)[一二三四五六日天]")
_ASKS_WEEKDAYS = re.compile(r"周|星期|礼拜")
_CLAUSE = re.compile(f"[，,；;：:{END_MARKS}]")
_END_PUNCT = re.compile(f"[{END_MARKS}；;{QUOTE_CLOSERS}]\\s*$")
_ENTITY_TAGS = {
    "person": ("PER", "ORG", "nz"),
    "place": ("LOC", "ORG"),
    "name": ("PER", "LOC", "ORG", "nz", "nw"),
}


@dataclass
class Candidate:
    """One sentence of a retrieved chunk, with its features."""

    hit: Hit
    rank: int
    span: tuple[int, int]
    text: str
    paragraph: str
    x: np.ndarray  # features, in FEATURES order
    score: float = 0.0  # the model's probability that it answers the question
    kind_ok: bool = True  # follow-ups: holds what the follow-up itself asks

    def feature(self, name: str) -> float:
        return float(self.x[FEATURES.index(name)])


def clauses(sentence: str) -> list[str]:
    return [c for c in _CLAUSE.split(sentence) if c.strip()]


def paragraph_bounds(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """Where the paragraph holding `span` starts and ends in `text` (paragraphs part at a blank line)."""
    end = text.find("\n\n", span[1])
    return text.rfind("\n\n", 0, span[0]) + 1, end if end >= 0 else len(text)


def paragraph_of(text: str, span: tuple[int, int]) -> str:
    start, end = paragraph_bounds(text, span)
    return text[start:end]


def _as_deputy(q: Question, word: str, before: str) -> bool:
    """The word follows 副 (副主任 for 主任) and the question did not ask for the deputy."""
    return before.endswith("副") and "副" + word not in q.norm


def _names_role(q: Question, word: str, clause_norm: str) -> bool:
    """`word` occurs in the clause, and not as its deputy (主任 ≠ 副主任) unless the question asks for that."""
    return any(
        not _as_deputy(q, word, clause_norm[: m.start()]) for m in re.finditer(re.escape(word), clause_norm)
    )


# a word ending so names a body or a place (服务中心, 管委会, 南明区): the role that follows is that body's
_BODY_END = re.compile(
    r"(?:中心|委员会|委|会|局|厅|办|部|处|科|所|站|队|公司|集团|党组|支部|总支|社区|街道|村|镇|乡|县|区|市|省)$"
)


# offices held along with the asked one, written between it and their body (清镇市委副书记、市长)
_TITLE_CHAIN = re.compile(
    r"(?:党工委|党委|党组|委)?(?:常务)?副?(?:书记|主任|主席|部长|局长|秘书长|常委|委员|组长)[、,，]$"
)


def _another_body(q: Question, before: str) -> bool:
    """An office written right after a body that is not the asked one (服务中心主任 for 管委会主任; 清镇市委副书记、
    市长 for 贵阳市市长: the offices one person holds share the body written first). A title (冠军, 金牌得主) is
    won at an event, which is rarely written just before it: no owner to check."""
    if not q.role_owner or _TITLE_ROLE.search(q.role):
        return False
    while m := _TITLE_CHAIN.search(before):
        before = before[: m.start()]
    return bool(_BODY_END.search(before)) and not name_in(q.role_owner, before[-12:])


# an office that holds another one (选聘社区党支部书记任协会会长): the answer to who holds that one
_OFFICE = r"(?:书记|主任|主席|部长|局长|委员|组长|队长|负责人|干部|党员|法官|律师|专家)"


def _by_whom(q: Question, clause: str) -> bool:
    """The clause says who does the asked deed or holds the asked role (是谁包联的: ……由县(区)党政主要领导包联;
    会长是谁当的: ……书记任协会会长): an office answers 谁 as a name does, the documents seldom naming the person
    (not 会长叫啥名字, which asks the name)."""
    if not q.role:
        return False
    role = re.escape(q.role)
    return bool(
        re.search(f"由[^，,；;。]{{2,24}}?{role}", clause)
        or ("谁" in q.text and re.search(f"{_OFFICE}(?:兼任|担任|任)[^，,；;。]{{0,8}}?{role}", clause))
    )


def _holds_role(q: Question, clause_norm: str) -> bool:
    """The clause names the asked role, not its deputy (主任 ≠ 副主任) and not the same role of another body
    (asked 管委会主任: 服务中心主任 is not it; 当选市长 may be)."""
    for m in re.finditer(re.escape(q.role), clause_norm):
        before = clause_norm[: m.start()]
        if _as_deputy(q, q.role, before):
            continue
        if _another_body(q, before):
            continue
        return True
    return False


def _about(q: Question, clause_norm: str) -> bool:
    """The clause is about what is asked: it holds a focus word (a role word not as its deputy)."""
    if not q.focus:
        terms = [t for t in q.terms if len(t) >= 2 and not t.isdigit()]
        return not terms or any(t in clause_norm for t in terms)  # nothing named to check: any clause
    return any(_names_role(q, word, clause_norm) for word in q.focus)


# a year as written (2022年, 2021“年度……”)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:\s*[“”\"]?\s*年)")
# the verbs a figure is stated as a change by
_CHANGE_VERBS = "增长|增加|下降|减少|提高|上升|降低|回落|上涨|下跌|下滑"
# a change stated against a year (比2022年同期增长4.5%): that year is the base, not the figure's own
_CHANGE = re.compile(f"{_CHANGE_VERBS}|增幅|降幅")
_DATE_PART = re.compile(r"\d\s*[年月日号时点]$")


def _unit_pattern(q: Question) -> re.Pattern:
    """The figures of the asked unit (a count when none was asked)."""
    return UNIT_PATTERNS.get(q.unit_class or "count", UNIT_PATTERNS["count"])


def _figures(q: Question, sentence: str) -> Iterator[tuple[str, re.Match]]:
    """Each figure of the asked measure in the sentence with its clause: no year, no date's part, none the
    question gives."""
    for clause in clauses(sentence):
        for m in _unit_pattern(q).finditer(clause):
            token = m.group(0)
            if token and not (_is_year(token) or _DATE_PART.search(token) or _inside_question(q, token)):
                yield clause, m


def figure_years(q: Question, sentence: str) -> list[str | None]:
    """Each figure of the asked measure with its own year: the last year written before it in its clause, None
    when there is none or a change lies between (比2022年增长4.5% is this year's change). 2023年春节档票房超过
    2022年春节档总票房60.39亿元: the figure is 2022's."""
    out: list[str | None] = []
    for clause, m in _figures(q, sentence):
        years = list(_YEAR.finditer(clause[: m.start()]))
        own = years[-1] if years else None
        out.append(None if own is None or _CHANGE.search(clause[own.end() : m.start()]) else own.group(1))
    return out


# words naming one side of a pair the other side of which is a different thing to count or name (女单 is no 男单,
# 农村居民 no 城镇居民, 自由滑 no 短节目): general usage
_SIDES = (
    *((f"男{s}", f"女{s}") for s in "单双团子篮足排乒队"),
    ("城镇", "农村"),
    ("进口", "出口"),
    ("上半年", "下半年"),
    ("上半场", "下半场"),
    ("一季度", "二季度", "三季度", "四季度"),
    ("冠军", "亚军", "季军"),
    ("金牌", "银牌", "铜牌"),
    ("短节目", "自由滑"),
)


def other_side(q: Question, sentence: str) -> bool:
    """The question names one side of a pair (`_SIDES`) and the sentence another side, never the asked one, not
    even by the character that tells it apart (男、女单打 names 男单 too)."""
    text = normalise(sentence)
    for sides in _SIDES:
        asked = [s for s in sides if s in q.norm]
        if len(asked) != 1 or asked[0] in text:
            continue
        others = [s for s in sides if s != asked[0]]
        own = set(asked[0]) - set("".join(others))
        if any(s in text for s in others) and not own & set(text):
            return True
    return False


# a figure given as a change (增加1295万亩, 下降14.8%): it answers how much something changed, not how much it is
_CHANGED_BY = re.compile(f"(?:{_CHANGE_VERBS}|增|减|降|涨)了?$")
_ASKS_CHANGE = re.compile(r"增|减|降|涨|提高|上升|变化|多了|少了|多出|差")


def change_for_level(q: Question, sentence: str) -> bool:
    """Asked how much something is, the sentence gives the asked measure only as changes (粮食播种面积增加1295万亩
    for 粮食播种面积是多少)."""
    if q.kind != "number" or _ASKS_CHANGE.search(q.text):
        return False
    changes = [
        bool(_CHANGED_BY.search(clause[max(0, m.start() - 4) : m.start()].rstrip()))
        for clause, m in _figures(q, sentence)
    ]
    return bool(changes) and all(changes)


# an edition of an event (第57届, 第二十四届, 第3季): another edition is another event, as another year is
_EDITION = re.compile(r"第\s*(\d+|[一二两三四五六七八九十]+)\s*([届季])")


def _editions(text: str) -> set[tuple[int, str]]:
    return {(value, kind) for n, kind in _EDITION.findall(text) if (value := count_value(n)) is not None}


def other_edition(q: Question, sentence: str) -> bool:
    """The question names an edition (第95届) and the sentence names other editions of that kind only."""
    asked = _editions(q.text)
    named = _editions(sentence) if asked else set()
    kinds = {kind for _, kind in asked}
    return bool(named) and not named & asked and any(kind in kinds for _, kind in named)


def year_conflict(q: Question, sentence: str) -> bool:
    """The sentence is about another year, day or side than the one asked: the question names a year (or a day:
    1月3日) and the sentence names years (days), none the asked one; or, asking a figure, every figure of the
    asked measure the sentence gives is another year's; or it names another side of a pair only (`other_side`) or
    another edition of the event (`other_edition`)."""
    if other_side(q, sentence) or other_edition(q, sentence) or change_for_level(q, sentence):
        return True
    years = set(_YEAR.findall(sentence))
    if q.years and years and not years & set(q.years):
        return True
    if q.kind == "number" and q.years and years:
        own = figure_years(q, sentence)
        if own and all(own) and not set(own) & set(q.years):
            return True
    if not q.days:
        return False
    days = set(days_named(sentence))
    return bool(days) and not days & set(q.days)


# classifiers of happenings, each of which a report may count in another (上门服务了多少次: 上门服务213件)
_EVENTS = "次件起场回例"


# 个 is said of any thing, which a report counts in its own classifier (多少个党群服务站: 59处; 几个企业: 21家)
_THINGS = "个处家座所项支条套台栋间"


def _same_count(q: Question) -> str:
    """The classifiers a text may count the asked things in: any of its kind, and for a thing the last character
    of what is counted (多少支球队: 24个国家, 24队)."""
    if q.classifier in _EVENTS:
        return _EVENTS
    if q.classifier in _THINGS:
        counted = q.focus[0] if q.focus else ""
        return _THINGS + (counted[-1] if len(counted) >= 2 and "\u4e00" <= counted[-1] <= "\u9fff" else "")
    return q.classifier


# a short quoted name (打通服务群众的“最后一公里”, “一中心一张网十联户”): a figure inside it is part of the name
_QUOTED_NAME = re.compile(r"“[^“”]{1,16}”")


def _figure_matches(q: Question, clause: str) -> bool:
    """The clause gives a figure of the asked measure (of its classifier, if one was asked), not a year, not one the
    question gives, not one inside a quoted name."""
    clause = _QUOTED_NAME.sub(" ", clause)
    pattern = _unit_pattern(q)
    if q.unit_class == "count" and q.classifier:
        pattern = re.compile(_NUM + _SCALE + f"[{re.escape(_same_count(q))}]")
    return any(
        m.group(0) and not _is_year(m.group(0)) and not _inside_question(q, m.group(0))
        for m in pattern.finditer(clause)
    )


def _other_measure(q: Question, sentence: str) -> bool:
    """A clause about what is asked states a figure, but not of the asked measure."""
    return any(
        _about(q, normalise(c)) and any(not _is_year(m.group(0)) for m in _ANY_FIGURE.finditer(c))
        for c in clauses(sentence)
    )


_ANY_FIGURE = re.compile(r"\d+(?:\.\d+)?")


def _is_year(token: str) -> bool:
    return bool(re.fullmatch(r"(?:19|20)\d{2}", token.strip()))


def _inside_question(q: Question, token: str) -> bool:
    return normalise(token.strip()) in q.norm


# roles a team or an organisation can hold too; any other role (书记, 导演, 总理) is held by a person
_TITLE_ROLE = re.compile(r"冠军|亚军|季军|得主|获得者|赢家|创始|创立|开发|研发|出品|发行")


def _answer_tags(q: Question) -> tuple[str, ...]:
    if q.kind == "person" and q.role and not _TITLE_ROLE.search(q.role):
        return ("PER",)
    return _ENTITY_TAGS[q.kind]


def _novel_entities(q: Question, sentence: str) -> list[str]:
    """Names of the asked type in the sentence that the question does not already contain."""
    names = [normalise(w) for w, _ in ner.entities(sentence, _answer_tags(q))]
    if q.kind == "name":
        names += quoted_phrases(sentence)
    return [n for n in names if n not in q.norm]


# 哪个社区 / 哪家企业: the question asks which particular unit
ASKED_UNIT = re.compile(
    r"哪(?:一|几)?(?:个|家|些|所|座)?(小区|社区|街道|村|乡镇|镇|单位|部门|企业|公司|学校|地方|县|市|区)"
)
_UNNAMED = re.compile(r"(?:该|本|此|这个|这些|全|各|每个|所在|[^\w])$")


_QUOTE_CLOSE = re.compile(r"[”》」』\"]$")


# common nouns that end in a one-character place word: 碧海社区 names a 社区, not a 区
_ENDS_IN_PLACE_WORD = re.compile(
    r"(?:社|小|园|片|景|城|辖|校|街|厂|矿|营)区$|(?:城|超|门|股|集)市$|(?:农|乡|山)村$|(?:城|乡)镇$"
)


def names_unit(sentence: str, unit: str) -> bool:
    """Does the sentence name a particular <unit> (朝庭四季花园小区, “挑夫”精神), not just say 小区 or 该项目?"""
    for m in re.finditer(re.escape(unit), sentence):
        written = sentence[: m.start()]
        if len(unit) == 1 and _ENDS_IN_PLACE_WORD.search(sentence[: m.end()]):
            continue
        if _QUOTE_CLOSE.search(written):
            return True
        if re.search(r"[\u4e00-\u9fff]{2}$", written) and not _UNNAMED.search(written):
            return True
    return False


def answer_type(q: Question, sentence: str) -> tuple[bool, bool]:
    """(the sentence holds the kind of answer asked, it does so in a clause about what is asked)."""
    if q.kind == "number":
        hits = [c for c in clauses(sentence) if _figure_matches(q, c)]
    elif q.kind == "date":
        dates = [_DAY_DATE if q.wants_day else _DATE]
        if _ASKS_WEEKDAYS.search(q.text):
            dates.append(_WEEKDAY)
        hits = [
            c
            for c in clauses(sentence)
            if any(not _inside_question(q, m.group(0)) for date in dates for m in date.finditer(c))
        ]
    elif q.kind in _ENTITY_TAGS:
        novel = _novel_entities(q, sentence)
        unit = ASKED_UNIT.search(q.text)
        hits = [
            c
            for c in clauses(sentence)
            if any(n in normalise(c) for n in novel)
            or (unit and names_unit(c, unit.group(1)))
            or (q.kind == "person" and _by_whom(q, c))
        ]
        spoke = (
            q.kind == "person" and bool(ASKED_WHO_SAID.search(q.text)) and any(_spoke(c, novel) for c in hits)
        )
        if q.role:  # the person must stand with the role asked about (主任, not 副主任)
            return bool(hits), spoke or any(_holds_role(q, normalise(c)) for c in hits)
        if q.head:  # 什么项目: a particular 项目 must be named (空中技巧项目), not 该项目
            named = [c for c in clauses(sentence) if names_unit(c, q.head)]
            return bool(hits or named), bool(named)
    elif q.kind == "define":
        return spells_out(q.defined, sentence)
    else:
        return False, False
    if q.kind == "person" and spoke:
        return True, True
    return bool(hits), any(_about(q, normalise(c)) for c in hits)


# what a person is asked to have said (谁介绍的, 是谁说的, 哪位书记讲的)
_SAYING = r"介绍|说|讲|表示|透露|谈到|指出"
ASKED_WHO_SAID = re.compile(rf"(?:谁|哪位|哪个)[^，,。？?]{{0,8}}?(?:{_SAYING})")


def _spoke(clause: str, novel: list[str]) -> bool:
    """Asked who said or told something (“碧·有服务”是谁介绍的, `ASKED_WHO_SAID`), the clause has a person the
    question does not name saying it (碧海社区党支部书记徐媛介绍,……): the speaker is the answer, whatever the
    clause's other words."""
    return any(re.search(re.escape(n) + rf"\s*(?:{_SAYING})", normalise(clause)) for n in novel)


_ENUMERATION = re.compile(r"[、；;]|[一二三四五六七八九十]是")
# between a scheme's name and its parts: 即、是指、分别是、包括, a colon, or an opening bracket
_SPELLS = re.compile(
    f"^[^{END_MARKS}]{{0,16}}?(?:即|也就是|就是|是指|指的是|具体为|具体是|分别是|分别为|包括|涵盖|[:：（(])"
)


# a scheme's parts written right before its name (“群众点单、社区派单、党员接单”的“三单”)
_PARTS_BEFORE = re.compile(r"“?([^，,。；;：:“”、]{2,24}(?:、[^，,。；;：:“”、]{2,24})+)”?\s*的?\s*“?$")


def spells_out(name: str, sentence: str) -> tuple[bool, bool]:
    """(the sentence names the scheme and an enumeration follows it, the enumeration is introduced as its
    parts: 按照“四个一”的模式……即:一套管理班子、一处党建阵地…; or as many parts right before it:
    “群众点单、社区派单、党员接单”的“三单”). A scheme only mentioned (完善“三张清单”) is not spelled out."""
    norm = normalise(sentence)
    listed = introduced = False
    numeral = NUMERAL.match(name)
    for m in re.finditer(re.escape(name), norm):
        before = _PARTS_BEFORE.search(norm[: m.start()])
        if before and numeral and count_value(numeral.group(0)) == before.group(1).count("、") + 1:
            listed = introduced = True  # its parts right before it, as many as it counts
        after = norm[m.end() : m.end() + 160]
        if len(_ENUMERATION.findall(after)) >= 2:
            listed = True
            marker = _SPELLS.search(after)
            introduced = introduced or bool(marker and len(_ENUMERATION.findall(after[marker.end() :])) >= 2)
    return listed, introduced


def _share(names: list[str], text_norm: str) -> float:
    return sum(name_in(n, text_norm) for n in names) / len(names) if names else 0.0


RARE_TERMS = 3


def rare_missing(q: Question, text_norm: str, n: int = RARE_TERMS) -> float:
    rare = sorted((t for t in q.terms if len(t) >= 2), key=lambda t: -q.weights.get(t, 0.0))[:n]
    return sum(_missing(t, text_norm) for t in rare) / len(rare) if rare else 0.0


# a role a text often names by the deed (由某某执导 for 导演, 某某饰演 for 演员): general usage, not a document's
_ROLE_DEEDS = {
    "导演": ("执导",),
    "主演": ("饰演", "出演", "领衔"),
    "演员": ("饰演", "出演", "扮演"),
    "作者": ("撰写", "创作", "所著", "著有"),
    "创始人": ("创办", "创立", "创建", "创始"),
}


def _missing(term: str, text_norm: str) -> float:
    """1 for a term the text lacks, half for one it holds a word of (招聘会 of 招聘活动, 闹矛盾 of 矛盾纠纷), none
    for a role whose deed it names (执导 for 导演)."""
    if term in text_norm or any(deed in text_norm for deed in _ROLE_DEEDS.get(term, ())):
        return 0.0
    return 0.5 if any(w in text_norm for w in sub_words(term)) else 1.0


def features(
    q: Question, hit: Hit, rank: int, sentence: str, paragraph: str, doc: tuple[float, float, float]
) -> np.ndarray:
    """The signals of one sentence; `doc` (the document's coverage and share of the question's names it never
    mentions, title included) is computed once per document."""
    sn, pn = normalise(sentence), normalise(paragraph)
    typed = q.kind in TYPED
    ok, near = answer_type(q, sentence) if typed else (False, False)
    restated = sum(len(t) for t in q.terms if len(t) >= 2 and t in sn)
    values = {
        "cov_sentence": coverage(q, sentence),
        "cov_chunk": coverage(q, hit.text),
        "cov_paragraph": coverage(q, paragraph),
        "cov_document": doc[0],
        "focus_sentence": _share(q.focus, sn),
        "rare_missing": rare_missing(q, sn),
        "ent_sentence": _share(q.entities, sn),
        "ent_paragraph": _share(q.entities, pn),
        "ent_missing_doc": doc[1],
        "rare_missing_doc": doc[2],
        "type_ok": float(ok),
        "type_near": float(near),
        "type_missing": float(typed and not ok),
        "type_other": float(q.kind == "number" and not near and _other_measure(q, sentence)),
        "fused": hit.score,
        "rank": 1.0 / (1 + rank),
        "cosine": max(hit.cosine, 0.0),
        "meaning": meaning(hit.cosine),  # the chunk's until `candidates` has the sentence's own
        "novelty": max(0.0, 1.0 - restated / max(len(sn), 1)),
        "year_conflict": float(year_conflict(q, sentence)),
        "heading": float(not _END_PUNCT.search(sentence) and len(sentence) < 40),
        "length": min(math.log1p(len(sentence)) / math.log1p(200), 1.5),
        "listing": float(q.kind == "list" and sentence.count("、") >= 2),
        "measure": float(q.kind in ("howto", "list") and bool(MEASURE_SENTENCE.search(sentence))),
    }
    return np.array([values[f] for f in FEATURES], dtype=np.float64)


def _document_signals(q: Question, doc_norm: str) -> tuple[float, float, float]:
    """(coverage of the question's terms, share of its names never mentioned, share of its two rarest terms
    never mentioned) of one whole document."""
    missing_names = (1.0 - _share(q.entities, doc_norm)) if q.entities else 0.0
    return coverage(q, doc_norm), missing_names, rare_missing(q, doc_norm, DOCUMENT_RARE_TERMS)


DOCUMENT_RARE_TERMS = 2


def _document_norm(doc: StoredDocument) -> str:
    """A document's title and text, normalised: what its names and terms are looked up in."""
    return normalise(doc.title + "\n" + doc.text)


_A_PLACE = re.compile(f"(?:{PLACE_WORDS_ALT}|居委会|管委会)$")


def names_elsewhere(q: Question, doc: StoredDocument, snapshot: Snapshot) -> bool:
    """The document (title included) names none of the places the question asks about (a name ending in a place
    word; where it names none, its units and schemes), and another document names one: its figures and office
    holders are another place's (青龙山街道的产值 read in 㮾梨街道's report; 碧海社区's 物业收费率 read in 明珠社区's,
    which has the term). Of a comparison every name counts, and a document naming either side is about it."""
    names = [n for n in q.entities if not n.isdigit()]
    if len(compared_names(q)) < 2:  # of one place: its places decide, not a term another report shares
        names = [n for n in names if len(_A_PLACE.sub("", n)) >= 2 and _A_PLACE.search(n)] or names
    if not names:
        return False
    text = _document_norm(doc)
    if any(name_in(n, text) for n in names):
        return False
    return any(snapshot.mentions(normalise(n)) for n in names)


MIN_SENTENCE_CHARS = 6  # shorter "sentences" (a numbered item's 一、) answer nothing


def sentence_spans(snapshot: Snapshot, chunk: ChunkRow, text: str) -> list[tuple[int, int]]:
    """The chunk's sentences that can answer a question (`text` is its document's text)."""
    return [s for s in snapshot.sentences_in(chunk) if len(text[s[0] : s[1]].strip()) >= MIN_SENTENCE_CHARS]


# sentences of a hit's paragraph past either end of its chunk that are candidates too (a bound on the cost)
PARAGRAPH_REACH = 3


def _with_rest_of_paragraph(
    snapshot: Snapshot, hit: Hit, text: str, hits: list[Hit]
) -> list[tuple[tuple[int, int], Hit]]:
    """The chunk's answering sentences, then those of its first and last paragraphs that the chunk's start or end
    cut off and no other hit holds (at most `PARAGRAPH_REACH` each way): a paragraph often ends in its result
    (……目前，全市26个街道已全部完成街道管理体制变革。) or opens with the measure its next sentences detail (……按照
    “四个一”的模式进行规范化建设，即：……), which another chunk holds. Each comes with a hit on the chunk holding it,
    so it is cited there, scored as the retrieved one."""
    own = sentence_spans(snapshot, hit.chunk, text)
    out = [(span, hit) for span in own]
    if not own:
        return out
    doc_id = hit.chunk.doc_id
    spans = snapshot.sentence_spans[doc_id]
    paragraph_start, _ = paragraph_bounds(text, own[0])
    _, paragraph_end = paragraph_bounds(text, own[-1])
    before = bisect_left(spans, (hit.chunk.start, -1))
    after = bisect_left(spans, (hit.chunk.end, -1))
    for span in [*spans[max(0, before - PARAGRAPH_REACH) : before], *spans[after : after + PARAGRAPH_REACH]]:
        if not paragraph_start <= span[0] < paragraph_end or hit.chunk.start <= span[0] < hit.chunk.end:
            continue  # another paragraph, or the chunk's own
        if len(text[span[0] : span[1]].strip()) < MIN_SENTENCE_CHARS:
            continue
        if any(
            h.chunk.doc_id == doc_id and h.chunk.start <= span[0] and span[1] <= h.chunk.end for h in hits
        ):
            continue  # another retrieved chunk holds it: a candidate of that hit
        chunk = snapshot.chunk_holding(doc_id, span)
        if chunk is not None:
            out.append((span, replace(hit, chunk=chunk, text=snapshot.text_of(chunk))))
    return out


def candidates(q: Question, hits: list[Hit], snapshot: Snapshot) -> list[Candidate]:
    """Every answering sentence of the retrieved chunks with its signals; `hits.similarity`, when the
    retrieval gives one (`retrieval.Hits`), scores each sentence's own meaning."""
    out = []
    docs: dict[str, tuple[float, float, float]] = {}
    for rank, hit in enumerate(hits):
        text = hit.doc.text
        if hit.chunk.doc_id not in docs:
            docs[hit.chunk.doc_id] = _document_signals(q, _document_norm(hit.doc))
        for span, holder in _with_rest_of_paragraph(snapshot, hit, text, hits):
            sentence = text[span[0] : span[1]]
            paragraph = paragraph_of(text, span)
            x = features(q, holder, rank, sentence, paragraph, docs[hit.chunk.doc_id])
            out.append(Candidate(holder, rank, span, sentence, paragraph, x))
    if dense_down(hits):
        for c in out:
            c.x[_DENSE_AT] = np.nan
    else:
        _add_sentence_similarity(out, getattr(hits, "similarity", None))
    return out


def meaning(cosine: float) -> float:
    """An e5 cosine as a signal: e5's similarities of related Chinese texts lie in about 0.80–0.95, mapped onto
    0–1 like the other signals so that the fit's regularisation treats it alike."""
    return max(-1.0, (cosine - 0.80) / 0.15)  # an unrelated text (cosine ≤ 0.65) is simply unrelated


def _add_sentence_similarity(cands: list[Candidate], similarity) -> None:
    """Each sentence's own similarity to the question, when the retrieval can give it."""
    cosines = similarity([c.text for c in cands]) if similarity and cands else None
    if cosines is None:
        return
    at = FEATURES.index("meaning")
    for c, cosine in zip(cands, cosines):
        c.x[at] = meaning(float(cosine))
