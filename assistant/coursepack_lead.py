"""A part's lead-in without an LLM: the places and units it covers and their key figures, each a verbatim clause
of an item that speaks of the topic itself, every line cited."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import coursepack_kinds as material
from . import coursepack_names as names
from . import coursepack_text as ct
from . import ner
from .lexical import QUOTATION, normalise, pos_tags

if TYPE_CHECKING:
    from .coursepack_records import PackItem, Part


@dataclass
class Claim:
    """A sentence of a summary or lead-in and the documents it cites (numbers follow the pack)."""

    text: str
    doc_ids: list[str]


# a clause ends at a comma, but not at one grouping thousands (215，755辆: one figure)
_CLAUSE_CUT = re.compile(r"(?<!\d)[，,]|[，,](?!\d{3}(?!\d))|[；;。！？!?]|(?<!\d)[：:]|[：:](?!\d)")
# a clause opening on a condition (如果达成，RCEP将会形成人口约35亿……): what the figure depends on has not happened
_CONDITION = re.compile(r"\s*(?:如果|假如|假若|倘若|若是?(?!干)|要是|一旦|如若)")


def lead_in(
    part: Part, specific: list[list[str]] | None = None, max_places: int = 6, max_figures: int = 3
) -> list[Claim]:
    """An extractive overview: the places/units the part covers, then their key figures (verbatim clauses) of
    what was done — only from items and sentences that speak of the topic itself (`specific`, its carrying words): an
    item on 新就业群体 may open with another measure's figure (推动39个农村党组织……) before its sentence on
    the topic, and a stock index beside a vaccine is no figure of 疫苗. Targets (拟培育……) are no figures."""
    items = sorted((i for i in part.items if not i.related), key=lambda i: -i.score)
    if not items:
        return []
    named = [_acting_places(item.text, part.topic) for item in items]  # each item's places, read once
    places = _places(items, part.topic, specific, max_places)
    claims = []
    if places:
        cited = list(dict.fromkeys(d for ds in places.values() for d in ds))
        claims.append(Claim(f"涉及{'、'.join(places)}等地方和单位", cited))
    used: set[str] = set()
    # the results first (数据成效), then a measure's or a case's figures: a key figure is what was achieved, where
    # a measure's (在全市159个城市社区全覆盖建立群团组织) says how far it reached
    by_kind = sorted(zip(named, items), key=lambda pair: pair[1].kind != "数据成效")
    for item_places, item in by_kind:
        if item.planned or (item.kind != "数据成效" and not material.FIGURE.search(item.text)):
            continue
        for sentence in item.sentence_texts():
            if len(used) >= max_figures:
                break
            if specific and not names.says_topic(normalise(sentence), specific):
                continue
            if material.planned(sentence):
                continue
            clause = _figure_clause(sentence, (w for group in specific or [] for w in group))
            if not clause or _restated_figure(clause, used) or material.plans(clause) or _dangling(clause):
                continue
            # whose figure: the place its sentence names before it; a sentence without a subject of its own
            # (累计受理申请……) goes on about the item's place, when the item names just one; else the place
            # the document reports on (全市共有居民小区789个 in a report on 安顺市)
            who = _figure_owner(sentence, clause, part.topic)
            if not who and names.omits_subject(sentence) and len(set(item_places)) == 1:
                who = item_places[0]
            region = names.region_place(item.region)
            if (
                not who
                and not item.context
                and not (region and _WHOLE_PLACE.match(names.past_opening(sentence)))
                and _unnamed_subject(clause)
            ):
                # 获得11项提名, 公司在全国设有20家分公司: whose, the lead-in cannot say; a sentence on the whole
                # place (全市共有居民小区789个，有物业管理的小区273个) speaks of the document's region
                continue
            who = who or item.context or region
            used.add(clause)
            shown = _scoped(sentence, clause)
            prefix = f"{who}：" if who and who not in shown else ""
            year = _year_before(sentence, shown)
            label = f"数据（{year}）" if year else "数据"
            claims.append(Claim(f"{label}：{prefix}{shown}{_dated(shown, item.date)}", [item.doc_id]))
    return claims


# a subject named by its kind alone (公司在全国设有……, 该企业……): who it is, the sentences before say
_KINDS = frozenset(
    {"公司", "企业", "集团", "银行", "学校", "医院", "机构", "单位", "平台", "比赛", "赛事", "球队", "活动"}
)


# the whole of the place a text reports on, as its subject (全市共有……, 本区……)
_WHOLE_PLACE = re.compile(rf"[全本](?:{names.LEVELS})")


def _unnamed_subject(text: str) -> bool:
    """The sentence names no one it reports on: it leaves its subject out (累计受理……) or gives only its kind."""
    words = [w for w, _ in pos_tags(names.past_opening(text))]
    words = words[1:] if words[:1] == ["的"] else words  # 2015年的比赛: the day's 的 left by the opening
    kind = (
        words[1] if words[:1] in (["该"], ["本"], ["这家"]) and len(words) > 1 else words[0] if words else ""
    )
    return names.omits_subject(text) or kind in _KINDS


def _acting_places(text: str, topic: str) -> list[str]:
    """The places and units the text names other than as the source of a count (据证券业协会统计，……)."""
    return [
        name
        for name in names.places(text, topic)
        if any(not _SOURCE.search(text, 0, m.start()) for m in re.finditer(re.escape(name), text))
    ]


def _places(
    items: list[PackItem], topic: str, specific: list[list[str]] | None, most: int
) -> dict[str, list[str]]:
    """The places/units the lead-in names, best items first, each with the documents naming it: where each item
    naming the topic itself (`names.says_topic`) happened (`_item_place`); only while those give fewer than two,
    also of items holding a word that alone still points at the topic (`names.narrowing`). A place of an item
    reached through a general word or a compound's head alone is seldom one on the topic (the men's 世界杯 under
    女足世界杯, 环境 of a park under 营商环境), and neither is one of an item holding only a word much of the corpus
    uses (党组织 of 党组织书记培训)."""
    places: dict[str, list[str]] = {}
    for tier in _place_tiers(items, specific):
        for item in tier:
            name = _item_place(item, topic, specific)
            if name and not any(names.same_name(name, p) for p in places) and len(places) < most:
                places.setdefault(name, []).append(item.doc_id)
        if len(places) >= 2:
            break
    return places


def _item_place(item: PackItem, topic: str, specific: list[list[str]] | None = None) -> str:
    """Where the item happened: the place or unit its first sentence naming one acts through (`_figure_owner`: not
    one it lists past its opening, 吸引了佳兆业、世茂集团等企业前来考察, nor who speaks when another is named; the unit
    alone where it is named inside its place), else the place the text before it names (`PackItem.context`). A
    sentence that reports several places in turn (甲社区……;乙社区……;丙县推行“三单”服务模式) is read from the part
    naming the topic, where that part names a place."""
    for sentence in item.sentence_texts():
        parts = re.split(r"(?<=[；;])", sentence)
        if specific and len(parts) > 1:
            part = next((p for p in parts if names.says_topic(normalise(p), specific)), "")
            if part and (owner := _figure_owner(part, part, topic)):
                return _WITHIN.sub("", owner)  # the part naming the topic names its own place
        if owner := _figure_owner(sentence, sentence, topic):
            return _WITHIN.sub("", owner)  # 明珠社区 of 青龙山街道辖区的明珠社区: a list names the unit
    return item.context


_WITHIN = re.compile(r"^.+(?:辖区)?的")


def _place_tiers(items: list[PackItem], specific: list[list[str]] | None) -> list[list[PackItem]]:
    """Which items the lead-in takes places from, in turn, best first: those naming the topic itself, then those
    holding a word that alone points at it; every item when the topic's carrying words are not known."""
    if not specific:
        return [items]
    narrowing = names.narrowing(specific)
    saying, pointing = [], []
    for item in items:
        norm = normalise(item.text)
        if names.says_topic(norm, specific):
            saying.append(item)
        elif names.holds_specific([norm], narrowing):
            pointing.append(item)
    return [saying, pointing]


# a time the text counts from its own day (目前, 去年以来, 下届): out of its report, a lead-in line needs that day
_RELATIVE_TIME = re.compile(
    r"目前|当前|(?<![体实表出发])现在|日前|近日|近期|今年|去年|前年|明年|本月|上月|本周|上周|今天|昨天|明天|今日|昨日|[本上下]届|本次|此前|至今"
)


def _dated(figure: str, date: str) -> str:
    """（资料日期：2022年2月11日） after a figure that counts its time from its document's day, when known."""
    if not date or not _RELATIVE_TIME.search(figure):
        return ""
    parts = [int(p) for p in re.findall(r"\d+", date)[:3]]
    if not parts or not 1900 < parts[0] < 2200:
        return ""
    return "（资料日期：" + "".join(f"{n}{unit}" for n, unit in zip(parts, "年月日")) + "）"


_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}\s*年(?![\d代])(?:以来|至今|起|后|末|底)?")


def _year_before(sentence: str, shown: str) -> str:
    """The year its sentence gave before a figure clause that gives none (2022年全国新注册登记机动车3478万辆，新注册登记
    汽车2323万辆), with the span it opens (从2014年至今): quoted alone, the clause would not say which year it counts."""
    at = sentence.find(shown)
    if at <= 0 or _YEAR.search(shown):
        return ""
    years = _YEAR.findall(sentence[:at])
    return re.sub(r"\s+", "", years[-1]) if years else ""


def _restated_figure(clause: str, used: Iterable[str]) -> bool:
    """The clause is one already quoted, or reports only figures one already did (建成59个网格党支部 twice)."""
    figures = {m.group() for m in material.FIGURE.finditer(clause)}
    return any(
        clause == u or (figures and figures <= {m.group() for m in material.FIGURE.finditer(u)}) for u in used
    )


def _figure_owner(sentence: str, clause: str, topic: str = "") -> str:
    """Whose figure the clause reports: the first place its sentence names before the figure, read on through
    the places it holds named right after it (西秀区新太社区, 青龙山街道辖区的明珠社区); not one of a list past
    the sentence's opening (吸引了佳兆业、世茂集团等企业……), which its subject acted on, nor the source of the
    count (据证券业协会统计，……); who speaks of it only when the sentence names no other (某社区书记说：“……满意度
    提高到80%”)."""
    at = sentence.find(clause)
    end = at + len(clause) if at >= 0 else len(sentence)
    opening = len(sentence) - len(names.past_opening(sentence))  # past 近年来，
    found = {
        (m.start(), m.end())
        for name in names.places(sentence, topic)
        for m in re.finditer(re.escape(name), sentence)
    }
    spans = sorted(
        (a, b)
        for a, b in found
        if a < end and not any(c <= a and b <= d and (c, d) != (a, b) for c, d in found)
    )
    owners = []
    # the place the pack is on, named within the owner's (贵阳市南明区花果园)
    within = re.compile(rf"(?:辖区)?的?{re.escape(topic.strip())}") if names.one_place(topic) else None
    title = _OPENING_TITLE.match(sentence, opening)
    if title and title.end() <= at:  # the work the sentence is about (《某片》……，中国内地票房是39.79亿元)
        owners.append((False, title.group()))
    for k, (a, b) in enumerate(spans):
        if names.listed(sentence, a, b) and not (k == 0 and a <= opening):
            continue
        if _SOURCE.search(sentence, 0, a):
            continue  # 据证券业协会统计，……: who counted, not whose figure
        for c, d in spans[k + 1 :]:
            if not _HOLDS.fullmatch(sentence[b:c]):
                break
            b = d
        if within and (held := within.match(sentence, b)):
            b = held.end()
        owners.append((bool(_SPEAKS.match(sentence, b)), sentence[a:b]))
    return min(owners, key=lambda o: o[0])[1] if owners else ""  # the first one not speaking, if any


_OPENING_TITLE = re.compile(r"《[^《》]{1,30}》")
_SOURCE = re.compile(r"(?:根据|依据|据)$")
# who speaks, not who acted (观山湖区委组织部相关负责人说，……全区7个街道……)
_SPEAKS = re.compile(f"[^，,。；;：:]{{0,10}}?(?:{ct.SPEECH_VERBS})[，,：:]")


_HOLDS = re.compile(r"(?:辖区)?的?")  # 西秀区新太社区, 青龙山街道辖区的明珠社区


# a change with no quantity of its own (增长2.0%, 比上年增长11.5%, 同比下降了3%): of what, the clause before says
_BARE_CHANGE = re.compile(
    r"^(?:同比|环比|(?:比|较)[^，,。；;]{0,12}?)?(?:增长|下降|提高|减少|上升|增加|降低|下滑|回落|增|降|涨|跌)(?:了|至|到)?\s*\d"
)


def _dangling(clause: str) -> bool:
    """A figure clause that reads only with what came before it: it opens with a conjunction or a pronoun
    (虽然……, 其中……, 我们……), is the first half of a range (从九章共61条，增至……) or a bare change (增长2.0%); or
    with what comes after it: it ends in a prepositional phrase, its verb in the next clause (全区7个街道88个社区均
    根据各自实际情况, 在全市159个城市社区)."""
    tags = pos_tags(clause)
    return (
        not tags
        or tags[0][1][:1] in ("c", "r")
        or tags[0][0] in ("从", "自")
        or bool(_BARE_CHANGE.match(clause))
        or _unfinished(tags)
        or ct.anaphoric(clause)
    )


def _unfinished(tags: list[tuple[str, str]]) -> bool:
    """No verb (nor an idiom or set phrase, jieba's i and l) follows the clause's last preposition."""
    last = max((k for k, (_, flag) in enumerate(tags) if flag == "p"), default=None)
    return last is not None and not any(flag[:1] in ("v", "i", "l") for _, flag in tags[last + 1 :])


def _scoped(sentence: str, clause: str) -> str:
    """The clause with the short phrase set off by a comma right before it in its sentence, when that phrase says
    what the figure counts over (近两届世界杯，克罗地亚队一共踢了14场比赛; 2021年末，全国人口为……): nouns, times and numbers
    only by LAC's reading — no verb (警方证实，), no place or unit that acts (观山湖区积极行动，), no 其中 —, or the time
    the count stood at (截至1月22日17时，)."""
    at = sentence.find(clause)
    cuts = [c for c in _CLAUSE_CUT.finditer(sentence) if c.end() <= at] if at > 0 else []
    if not cuts or sentence[cuts[-1].start()] not in "，," or sentence[cuts[-1].end() : at].strip():
        return clause
    start = cuts[-2].end() if len(cuts) > 1 else 0
    scope = sentence[start : cuts[-1].start()].strip()
    if _AS_OF.fullmatch(scope) or (
        0 < ct.content_chars(scope) <= _SCOPE_MAX and all(tag in _SCOPE_TAGS for _, tag in ner.tag(scope))
    ):
        return sentence[start : at + len(clause)].strip()
    return clause


# the time a running count stood at (截至1月22日17时，……首日票房达11.84亿元): without it a figure reads as final
_AS_OF = re.compile(
    r"(?:截至|截止到?)\s*(?:目前|今年|去年|(?=\d))(?:\d{4}年)?(?:\d{1,2}月)?(?:\d{1,2}日)?(?:\d{1,2}(?:时|点)(?:\d{1,2}分)?)?"
    r"(?:[上下]午|晚|前|底|末)?"
)


_SCOPE_MAX = 8
_SCOPE_TAGS = frozenset(
    {"TIME", "t", "m", "q", "a", "n", "nz", "nw"}
)  # LAC's times, numbers, nouns, adjectives


def _figure_clause(text: str, words: Iterable[str] = (), reach: int = 3) -> str:
    """The clause around a figure of a sentence, verbatim: the first one naming one of `words` (the topic's), else
    the nearest one within `reach` clauses of one naming it (针对新就业群体，某区建成驿站38个; 《某片》首日票房8.31亿元，成
    中国影史……电影……冠军); a figure further from what names the topic is of something else the sentence also reports
    (……帮助解决土地问题50亩 several clauses before 就业), so none. Without `words`, the first one. Never one cut
    inside a gloss (由序言、20个章节（包括) nor one under a condition (如果达成，……将会形成……)."""
    plain = QUOTATION.sub(
        lambda m: "“" * len(m.group()), material.DATE.sub(lambda m: "#" * len(m.group()), text)
    )
    bounds = [0, *(c.end() for c in _CLAUSE_CUT.finditer(text)), len(text)]
    clauses = []  # (the figure's clause, its index among the sentence's clauses)
    for m in material.FIGURE.finditer(plain):
        k = max(i for i, b in enumerate(bounds[:-1]) if b <= m.start())
        start = bounds[k]
        end_m = _CLAUSE_CUT.search(text, m.end())
        clause = text[start : end_m.start() if end_m else len(text)].strip()
        if not ct.balanced(clause):  # a quotation opened before the figure and closed after it
            clause = clause.strip('“”"「」『』')
        # a figure under a condition is a hypothesis (如果达成，……将会形成……GDP总和约为23万亿美元), no fact to state
        hypothetical = any(_CONDITION.match(text, bounds[j]) for j in (k - 1, k) if j >= 0)
        if 4 <= len(clause) <= 80 and ct.balanced(clause) and not hypothetical:  # not cut inside a gloss
            clauses.append((clause, k))
    words = list(words)
    if not words:
        return clauses[0][0] if clauses else ""

    def names(piece: str) -> bool:
        norm = normalise(piece)
        return any(w in norm for w in words)

    naming = [k for k in range(len(bounds) - 1) if names(text[bounds[k] : bounds[k + 1]])]
    if held := next((c for c, _ in clauses if names(c)), ""):
        return held
    if not naming:
        return ""
    # the nearest (恒生科技指数跌17.8%，俄罗斯在主要股指中跌幅居前，年跌幅高达30%: the last), one going on after the
    # clause naming the topic before one ending before it, else the first
    near = [
        (min(abs(k - j) for j in naming), not any(0 < k - j <= reach for j in naming), n, c)
        for n, (c, k) in enumerate(clauses)
    ]
    return min((x for x in near if x[0] <= reach), default=(0, False, 0, ""))[3]
