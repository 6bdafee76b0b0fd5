"""Who and where a text names: the topic itself (more than half of one alternative's carrying words, not inside
a place's name), places and units (a proper name before a unit word, LAC's administrative places), and who a
person is (the role the text gave before the name). Pure text rules on jieba's and LAC's readings; the course
pack asks them of its candidates, its items' context notes and its lead-in."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from . import coursepack_text as ct
from . import ner
from .lexical import UNIT_WORDS, generic_name, named_units, pos_tags

if TYPE_CHECKING:
    from .coursepack_units import DocView


def says_topic(norm: str, groups: list[list[str]], holds=str.__contains__) -> bool:
    """The text holds more than half of one alternative's specific words: it speaks of the topic itself."""
    return any(2 * sum(holds(norm, t) for t in g) > len(g) for g in groups)


def holds_specific(norms: Iterable[str], specific: list[list[str]], holds=str.__contains__) -> bool:
    """Some text holds one of the words that carry the topic (`holds`: as `says_topic`'s)."""
    return any(holds(norm, word) for norm in norms for group in specific for word in group)


ADMIN_KINDS = ner.ADMIN_KINDS


_ADMIN_SUFFIX = re.compile(f"(?:{ADMIN_KINDS})")


_ADMIN_END = re.compile(f"(?:{ADMIN_KINDS})$")


def named_outside_places(norm: str, word: str) -> bool:
    """The text holds the word other than inside the name of a place or a unit that goes on past it (……自治县,
    ……自治县环翠街道党工委, 经济 of 双龙航空港经济区); a place's own name before its kind is the place (南明 of 南明区,
    清镇 of 贵州清镇市)."""
    spots = [m.end() for m in re.finditer(re.escape(word), norm)]
    if not spots or not all(_ADMIN_SUFFIX.match(norm, end) for end in spots):
        return bool(spots)  # the segmenter is asked only when every occurrence runs into an admin suffix
    names = ner.entities(norm, ("LOC", "ORG"))
    return not any(
        word in name and not (_ADMIN_END.sub("", name).endswith(word) and _own_name(word))
        for name, _ in names
    )


# jieba's tags of proper names: of persons, places, bodies and others (南明 ns, 花溪 nr, 双龙 nz)
PROPER_TAGS = ("nr", "ns", "nt", "nz")


def _own_name(word: str) -> bool:
    """The word is a name of its own (南明 of 南明区), not a common word that makes a zone's kind with the
    suffix (经济 of 双龙航空港经济区, 开发 of 经济技术开发区): jieba reads it as a proper name or not as one word."""
    tags = pos_tags(word)
    return len(tags) != 1 or tags[0][1] in PROPER_TAGS


@lru_cache(maxsize=1 << 12)
def _broad_alone(word: str) -> bool:
    """A modifier that alone names far more than the topic: a place (jieba's ns: 日本, 贵阳), all of a country's
    or a city's news, or a distinguishing word (b: 新型 of 新型城镇化, 公共 of 公共服务). Cached: asked for every
    candidate of a topic, about the same few words. So is a colour (`_COLOUR`)."""
    tags = pos_tags(word)
    return (len(tags) == 1 and tags[0][1] in ("ns", "b")) or bool(_COLOUR.fullmatch(word))


# a colour used as a modifier (红色物业, 绿色发展): a figure of speech, not a field of its own (jieba reads it as n)
_COLOUR = re.compile(r"[红绿蓝金白黑黄橙紫灰银]色")


def narrowing(specific: list[list[str]]) -> list[list[str]]:
    """The carrying words that alone still point at the topic: 足球 of 足球|主教练, not the head 主教练 (another
    sport's coach), nor a place or a distinguishing word that narrows it (日本 of 日本首相遇袭, 新型 of 新型城镇化);
    a one-word alternative's word."""
    return [[w for w in group[:-1] if not _broad_alone(w)] if len(group) > 1 else group for group in specific]


def named_before(view: DocView, start: int, first: str, reach: int = 20) -> str:
    """Where an item happened when its first sentence names no place or unit (社区党组织统筹……, 通过实施……计划,
    充分发挥街道“龙头”作用……): the place its section names last before it, up to `reach` units back and its
    heading, so a trainer reading the excerpt alone knows; "" when the item names its own, or opens with a
    quotation (who said it follows it). A place, not a unit: the company a specialist helped in the sentence before
    (贵州金玖生物技术有限公司) is not where 8名科技特派员坚持每周到企业指导."""
    if first.lstrip()[:1] in _QUOTE_OPENERS or any(_a_name(n, first) for n in _unit_names(first)):
        return ""
    entities = [name for name, _ in ner.entities(first, ("LOC", "ORG"))]
    if not all(map(_unnamed, entities)):
        return ""
    # 全市共有……, 区委…… or 街道相关负责人表示: the place of that level, not the county the sentence before named
    scope = (
        _SCOPE.search(first)
        or next(filter(None, map(_LEVEL_BODY.match, entities)), None)
        or _LEVEL_SUBJECT.match(first.lstrip())
    )
    k = view.covering(start, start + 1).start
    for j in range(k - 1, max(k - 1 - reach, -1), -1):
        unit = view.units[j]
        sentence = view.text[unit.start : unit.end]
        names = [
            n
            for n in places_and_admin(sentence)
            if _PLACE_END.search(n)
            and (not scope or _of_level(n, scope.group(1)))
            and not listed(sentence, (at := sentence.find(n)), at + len(n))
        ]
        if names:
            return names[-1]
        # a sentence before it naming no place but its level as who acts (街道相关负责人表示，……): of that level
        scope = scope or _LEVEL_SUBJECT.match(sentence.lstrip())
        if unit.heading and not (j > 0 and view.units[j - 1].heading):
            break  # the first line of the heading block over the item's section
    return ""


LEVELS = "省|市|州|县|区|镇|乡|街道"  # the administrative levels a text names a place by
# a level as the sentence's subject (街道相关负责人表示，……; 街道从……四个方面为出发点): which street office is still to
# say, and the county the text named before (邀请了长沙县建设工程质量安全监督站) is not it
_LEVEL_SUBJECT = re.compile(
    rf"({LEVELS})(?=相关|负责人|党|干部|工作人员|还|也|将|已|从|把|在|以|通过|积极|坚持|先后|共|累计|[，,])"
)
# a body named by its level only (区委、区政府全局统筹推进……): which district is still to say
_LEVEL_BODY = re.compile(rf"^({LEVELS})(?:委|政府|人大|政协|纪委|党委|党工委|办事处)")


# a mass organisation every place has (建立工会、团委、妇联): LAC reads it as an organisation, it names no place
_MASS_BODY = re.compile(r"^(?:妇联|团委|工会|共青团|残联|科协|侨联|文联|红十字会)$")


def _unnamed(entity: str) -> bool:
    """LAC's place or organisation names a kind, not which one: a level's body (区委), a mass organisation (妇联), a
    kind of unit (城市社区) or a unit word alone (街道)."""
    return bool(
        _LEVEL_BODY.match(entity)
        or _MASS_BODY.match(entity)
        or generic_name(entity)
        or not _UNIT_SUFFIX.sub("", entity)
    )


# a place the sentence names by its level only (全市共有……, 该区……): the place before it must be of that level
_SCOPE = re.compile(rf"(?:全|该|本)({LEVELS})")


def _of_level(name: str, level: str) -> bool:
    return name.endswith(level) and not (level == "区" and name.endswith(("社区", "小区")))


def _a_name(name: str, text: str) -> bool:
    """The unit is named, not a kind that jieba reads as a name (完整温馨社区, 养老服务站, 落实中小学校 of
    落实中小学校党组织领导下的……): `_proper`, or LAC tags a word before its unit word a proper noun (碧海|社区)."""
    if _proper(name, text):
        return True
    at, head = text.find(name), len(_UNIT_SUFFIX.sub("", name) or name)
    return at >= 0 and any(
        tag in _ENTITY_TAGS + ("nz",) and begin < at + head and at < end
        for begin, end, _, tag in tagged_spans(text)
    )


def introduced_before(view: DocView, start: int, first: str) -> str:
    """Who the person the item's first sentence names without a role is (李璐隔三差五便会下户……), as the text
    before it introduced them (花园村53号网格党支部书记李璐): a trainer reading the excerpt alone would not know.
    "" when the item gives the role itself (科技特派员王瑞) or the text before never did."""
    person = next(((b, w) for b, _, w, tag in tagged_spans(first) if tag == "PER"), None)
    if person is None or _role_before(first[: person[0]]):
        return ""
    earlier = view.text[:start]
    for m in re.finditer(re.escape(person[1]), earlier):
        role = _role_before(earlier[: m.start()])
        if role:
            return role + person[1]
    return ""


# jieba's tags of the words a role is made of: nouns, names of places and bodies, numbers and measures (花园村
# 53号网格党支部书记, 青龙山街道党建服务中心主任); a role ends in a noun (书记, 主任 tagged b, 党支部 tagged j)
_ROLE_TAGS = ("n", "m", "q", "j", "b", "eng")


_ROLE_HEAD_TAGS = ("n", "b", "j")


def _role_before(text: str, reach: int = 24) -> str:
    """The role that stands right before a name: the run of noun-like words ending the text, back to a verb,
    a particle or punctuation, and back to the start of a place or organisation LAC reads in it (贵州味特食品有限公司
    总经理, where jieba reads 特 as an adverb); "" when none ends in a noun of two characters or more."""
    window = text[-reach:]
    words = pos_tags(window)
    run: list[str] = []
    for word, flag in reversed(words):
        if not flag.startswith(_ROLE_TAGS) or not word.strip():
            break
        run.insert(0, word)
    if not run:
        return ""
    head, head_flag = words[-1]
    if len(head) < 2 or head_flag.startswith("nr") or not head_flag.startswith(_ROLE_HEAD_TAGS):
        return ""
    start = len(window) - len("".join(run))
    for begin, end, _, tag in tagged_spans(window):
        if tag in ("ORG", "LOC") and begin < start < end:
            start = begin
    cut = start == 0 and len(text) > reach  # it may run on before the window: no whole role
    return "" if cut else window[start:]


_QUOTE_OPENERS = frozenset('“"「『‘')


_PLACE_END = re.compile(f"(?:{ADMIN_KINDS}|社区|村|小区|居委会|管委会)$")  # where things happen, not who


def places_and_admin(text: str) -> list[str]:
    """`places`, and the administrative places LAC finds (安顺市, 乌当区), in reading order."""
    found = {text.find(n): n for n in places(text)}
    for at, _, word, tag in tagged_spans(text):
        if tag == "LOC" and ner.administrative(word) and not generic_name(word):
            if not any(a <= at < a + len(n) for a, n in found.items()):
                found[at] = word
    return [found[a] for a in sorted(found) if a >= 0]


def same_name(a: str, b: str) -> bool:
    """One name holds the other, or is its short form (重庆两江航空投资集团 of 重庆两江航空产业投资集团有限公司:
    the same start, the shorter one's characters in order)."""
    short, long = sorted((a, b), key=len)
    if short in long:
        return True
    rest = iter(long)
    return short[:2] == long[:2] and all(ch in rest for ch in short)


_LISTED_AFTER = re.compile(r"\s*(?:、|等)")


def listed(text: str, start: int, end: int) -> bool:
    """text[start:end] is one of a list (……高科技重点企业、经开区企业进行走访): what was acted on, not who acted."""
    return text[start - 1 : start] == "、" or bool(_LISTED_AFTER.match(text, end))


_REGION_PART = re.compile(f".{{2,}}?(?:{ADMIN_KINDS})")


def region_place(region: str) -> str:
    """The most specific place of a document's region (贵州省贵阳市观山湖区 → 观山湖区); empty when unknown."""
    parts = _REGION_PART.findall(region.strip())
    return parts[-1] if parts else region.strip()


# verbs and generic modifiers that jieba sometimes glues to a unit word (深化街道, 合理布局党群服务站, 智慧小区)
_VERBISH = re.compile(
    r"深化|发挥|发展|大力|布局|推进|落实|加强|完善|建设|打造|构建|优化|提升|健全|创新|智慧|规范|强化|全面"
)


def places(text: str, topic: str = "") -> list[str]:
    """Named places/units of a sentence: not a counted noun (59处党群服务站), not a verb phrase (深化街道,
    落实中小学校), not the topic's own words (智慧社区 in 智慧社区与数字化服务), not a piece of a longer word
    (司法部门县 of 县处级, 宝文化驿站 after 壹刻, Software公司 of From Software公司), and starting at its proper name
    (贵阳市区 of 距离省会贵阳市区)."""
    words = pos_tags(text)
    token_at: list[int] = []  # character offset → index of the jieba word holding it
    for k, (word, _) in enumerate(words):
        token_at += [k] * len(word)
    out = []
    for name in _unit_names(text):
        at = text.find(name)
        if at < 0 or (at > 0 and re.match(r"[0-9０-９一二三四五六七八九十百千万两余多]", text[at - 1])):
            continue  # not verbatim (it spans a quotation), or a counted noun
        if re.match(r"[A-Za-z]", name) and re.search(r"[A-Za-z][\s·.-]?$", text[:at]):
            continue  # the end of a Latin name cut (Software公司 of From Software公司)
        end = at + len(name)
        if len(token_at) == len(text):  # jieba's words cover the text character for character
            first, last = token_at[at], token_at[end - 1]
            if end < len(text) and token_at[end] == last and not words[last][1].startswith("n"):
                continue  # the unit word opens a longer word of another kind (司法部门|县处级)
            before = words[first - 1] if first > 0 else ("", "")
            if before[1] == "m" and re.fullmatch(r"[\u3400-\u9fff]{2,}", before[0]):
                continue  # after a numeral word (一家|科技公司) or glued to one (壹刻|宝文化驿站): no name
            proper = next((k for k in range(first, last + 1) if words[k][1] in PROPER_TAGS), first)
            if proper - first >= 2:  # common words before the proper name (距离|省会|贵阳市区)
                name = text[sum(len(w) for w, _ in words[:proper]) : end]
        tags = pos_tags(name)
        if not tags or tags[0][1][:1] in ("v", "a", "d", "p", "c") or _part_of_topic(name, topic):
            continue
        if _VERBISH.search(name) or generic_name(name) or not _proper(name, text):
            continue
        out.append(name)
    return out


@lru_cache(maxsize=1024)
def one_place(text: str) -> bool:
    """The whole text is one named place or body (龙吉社区; 花果园, as LAC reads it): a topic that is where things
    happened."""
    text = text.strip()
    tags = ner.tag(text) if text else ()
    return bool(text) and (places(text) == [text] or (len(tags) == 1 and tags[0][1] in ("LOC", "ORG")))


def _part_of_topic(name: str, topic: str) -> bool:
    """The name is one of the topic's own words (智慧社区 of 智慧社区与数字化服务), not the whole topic: a pack on a
    place (龙吉社区, 花果园) names it as where its items happened."""
    return bool(topic) and name in topic and name != topic.strip()


_UNIT_SUFFIX = re.compile(rf"(?:{UNIT_WORDS})$")


_ENTITY_TAGS = ("PER", "LOC", "ORG")  # LAC's proper names


def tagged_spans(text: str) -> list[tuple[int, int, str, str]]:
    """LAC's words of the text with where they stand in it: (begin, end, word, tag), in reading order."""
    spans, position = [], 0
    for word, tag in ner.tag(text):
        begin = text.find(word, position)
        if begin < 0:
            continue  # changed by LAC's NFKC (full-width digits): not verbatim
        position = begin + len(word)
        spans.append((begin, position, word, tag))
    return spans


def _unit_names(text: str) -> list[str]:
    """Names ending in a unit word, in reading order: `named_units`' (jieba's), read whole where LAC finds a
    longer place or organisation holding one (山西豪钢重工|股份有限公司, 国家统计局农村|社会经济调查司), and LAC's
    places and organisations ending in a unit word where jieba splits the name (乌|当区)."""
    found = {text.find(n): n for n in named_units(text)}
    taken = [(at, at + len(n)) for at, n in found.items() if at >= 0]
    for at, position, word, tag in tagged_spans(text):
        if tag not in ("LOC", "ORG") or generic_name(word) or any(t == "v" for _, t in pos_tags(word)):
            continue  # no place or organisation, or a kind of one (街道党工委, 产业集聚区)
        inside = [a for a, b in taken if at <= a and b <= position and b - a < len(word)]
        head = _UNIT_SUFFIX.sub("", word)
        if inside or (head != word and len(head) >= 2 and not any(a < position and at < b for a, b in taken)):
            for a in inside:
                del found[a]
            found[at] = word
    return [found[at] for at in sorted(found)]


def _proper(name: str, text: str, share: float = 0.75) -> bool:
    """The words before the unit word are mostly a proper name by LAC's tags (金馨园|社区, 刘明先|工作室), and the
    unit word ends a word: a kind of unit (普通高等学校, 上市企业, 养老服务站) or a noun run into one (中国|城镇化率)
    is no place."""
    head = len(_UNIT_SUFFIX.sub("", name) or name)
    at = max(text.find(name), 0)
    start = max(0, at - 12)
    window = text[start : at + len(name) + 12]
    lo, hi = at - start, at - start + len(name)  # the name's place in the window
    covered = 0
    for begin, end, _, tag in tagged_spans(window):
        if begin < hi < end and tag not in _ENTITY_TAGS:
            return False  # the unit word runs on into a longer word of another kind
        if begin < lo < end:
            return False  # the tail of a longer name (山西豪钢重工|股份有限公司)
        if begin < lo + head < end and tag not in _ENTITY_TAGS:
            return False  # the unit word is the end of a common word (国家统计局|农村)
        if tag in _ENTITY_TAGS:
            covered += max(0, min(end, lo + head) - max(begin, lo))
    return covered >= share * head


OPENING_TIME = re.compile(
    r"^\s*(?:截至|截止|到)?(?:目前|当前|今年|去年|近年来|近年|\d{4}年(?:\d{1,2}月)?(?:\d{1,2}日)?(?:以来|底|末|初)?)[，,]?"
)


def past_opening(sentence: str) -> str:
    """The sentence past its layout debris, connective and opening time (截至目前，)."""
    return OPENING_TIME.sub("", ct.trim_start(sentence)).lstrip()


def omits_subject(sentence: str) -> bool:
    """After its time (截至目前，), the sentence opens with a verb, an adverb, a preposition or a pronoun (累计受理……,
    共化解……, 该区……): Chinese leaves out a subject it shares with the sentences before. Read by jieba and by LAC,
    either: each mistakes some verbs for nouns (jieba: 指导12个新建社区……)."""
    text = past_opening(sentence)
    # the first word past a time or a number (全年, 目前, 12个)
    by_jieba = next((tag for _, tag in pos_tags(text) if tag not in ("t", "m", "x")), "")
    by_lac = next((tag for _, tag in ner.tag(text) if tag not in ("TIME", "m", "q", "w")), "")
    return any(tag[:1] in _SUBJECTLESS or tag == "ad" for tag in (by_jieba, by_lac))


# POS tags (jieba's and LAC's) a sentence without a subject opens with; also "ad", an adjective used as an adverb
# (科学选址……)
_SUBJECTLESS = ("v", "d", "p", "c", "r")
