"""Course packs: what the documents say on each topic, compact and ranked, sorted into cases, figures and measures.

1. Sentence units (`coursepack_units`): whole sentences of the stored text (a sentence cut at the splitter's
   length limit or a multi-sentence quotation is one unit), never across a paragraph break, so a sentence cut by
   the layout is never glued to another. `coursepack_text` decides which units are teaching material at all (no
   headings, captions, slogans, bylines, datelines, editors' notes, cut pieces) and where an item starts (after a
   dateline or a leading connective; a sentence that leans on the one before, 这是……, takes it along).
2. Each unit gets an item span: itself, or for a case (a named place or unit doing something) itself and the
   result the same paragraph reports right after it (每句都标注出处). What is only planned (将、拟、下一步……)
   is a measure, never a case or a result, and its figures (targets) never enter the lead-in
   (`coursepack_kinds` tells a sentence's kind).
3. Features per topic (`FEATURES`): the topic's words weighted by their lift in the best hybrid-search chunks
   (网格 in 网格化管理 counts, 管理 barely), the neighbours', paragraph's and heading block's coverage (all
   the heading lines over its section: title, subtitle, byline), terms that co-occur with the topic in the
   strongest sentences, the chunk's dense and fused rank, whether the item is a case, and whether it names the
   topic (人工 and 智能 of 人工智能; 智能 alone, or only its paragraph naming it, half; 环境 of 营商环境, a
   general word, nothing). The score is their
   weighted sum; the weights and threshold live in `coursepack_weights.py` (read into `coursepack_tuning`), fitted by
   `python -m assistant.coursepack_fit` on the dev topics (leave-one-topic-out checked, never per topic). The
   best `max_items` (default 25) items above the threshold (and below it, those naming the topic itself) make
   the topic's part; a candidate overlapping an item already taken extends it within its paragraph instead of
   taking a slot (and an item so grown into another becomes one excerpt with it).
   A topic the documents barely speak of (its specific words together in at most `scarce_chunks` retrieved
   chunks: 减负 of 基层减负 once) keeps only items that say them (or hold one in a paragraph that does), and the
   pack says so in its `warning`.
   Only the units of the topic's retrieved chunks (`top_n`) are scored, and a document's units are built when
   a topic first retrieves it and kept by document id: a pack costs what retrieval returns, not the corpus.
4. A multi-topic pack has one part per topic; an item found for two topics appears once, under the topic it
   scores higher for, noting the other. Each part opens with an extractive lead-in (places/units covered and
   their key figures, every sentence cited: `coursepack_lead`); sections list items by relevance, grouped by
   document. Whether a text names the topic, and which places and people it names, is `coursepack_names`.

Every item's quote is `document.text[start:end]`; `sentences` are the cited sentences inside it.
The pack record (`coursepack_records`) renders to JSON (docs/api.md); `coursepack_render` makes the Markdown and
DOCX files.
"""

from __future__ import annotations

import logging
import math
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from . import coursepack_kinds as material
from . import coursepack_names as names
from . import ner
from .coursepack_lead import lead_in
from .coursepack_records import (
    KINDS,
    CoursePack,
    PackItem,
    Part,
    Section,
    numbered,
)
from .coursepack_repeats import figure_values, repeats, restates_figures, squashed
from .coursepack_tuning import DEFAULT_MAX_ITEMS, FEATURES, TUNING, Tuning
from .coursepack_units import (
    DocView,
    Unit,
    normative,
    unquoted,
)
from .errors import AssistantError
from .lexical import (
    STOPWORDS,
    abbreviating,
    at_large,
    initials,
    normalise,
    pos_tags,
    shortenings,
    smallest_words,
    spelled_out,
    tokenize,
    word_frequency,
)
from .retrieval import Fusion, Snapshot, search
from .sources import source_label, source_title
from .store import DenseGuard

FORMATS = {
    "json": "application/json; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "md": "text/markdown; charset=utf-8",
}
MAX_TOPICS = 10
MAX_TOPIC_CHARS = 50
MAX_ITEMS_LIMIT = 100


log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------- input


# A topic needs one letter, digit or CJK character. Spelled out (not \w) so that Python and the ECMA regexes
# of JSON Schema validators agree on it; the API schema publishes the same pattern.
TOPIC_PATTERN = (
    "[0-9A-Za-z\u00c0-\u024f\u0370-\u04ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\x7f-\x9f]")


def validate_topics(topics) -> list[str]:
    """1–10 topics of 1–50 characters with some text; control characters dropped, duplicates merged.

    Raises Chinese 400 errors. The limits match the API schema exactly, so a request the schema accepts is
    accepted here and one it rejects is rejected here.
    """
    if isinstance(topics, str):
        topics = [topics]
    if not isinstance(topics, (list, tuple)):
        raise AssistantError('topics 应为主题列表，例如 ["网格化管理", "物业党建"]。')
    if len(topics) > MAX_TOPICS:
        raise AssistantError(f"主题过多（{len(topics)} 个）：一次最多 {MAX_TOPICS} 个，请分批生成课程素材。")
    cleaned: list[str] = []
    for i, topic in enumerate(topics, start=1):
        if not isinstance(topic, str) or not re.search(TOPIC_PATTERN, topic):
            raise AssistantError(
                f"第 {i} 个主题为空或没有可检索的文字：请输入中文或英文关键词，例如“网格化管理”。"
            )
        if len(topic) > MAX_TOPIC_CHARS:
            raise AssistantError(
                f"主题过长（{len(topic)} 字）：每个主题请控制在 {MAX_TOPIC_CHARS} 字以内，"
                "用几个关键词即可，例如“新就业群体”。"
            )
        topic = re.sub(r"\s+", " ", _NOT_XML.sub(" ", topic)).strip()
        if topic not in cleaned:
            cleaned.append(topic)
    if not cleaned:
        raise AssistantError("请至少输入一个主题，例如“网格化管理”。")
    return cleaned


def validate_format(fmt) -> str:
    value = "json" if fmt is None else str(fmt)
    if value not in FORMATS:
        raise AssistantError(f"不支持的导出格式“{fmt}”：请使用 json、docx 或 md。")
    return value


def _content_words(
    topic: str, known: Callable[[str], bool] | None = None, mentioned: Callable[[str], bool] | None = None
) -> list[str]:
    """The topic's search-mode words without the ones that straddle two of its words (部队 of 干部|队伍, 迁安 of
    搬迁|安置, 电影票 of 电影|票房): matched as substrings, such a word would pull in another subject entirely.
    Characters the segmenter leaves one by one (国|足 of 国足, kept whole inside a sentence) are one word.
    With `known` (the words the documents use), the segmenter's guess yields to a split into words they do use
    (快递|外卖|关爱 of 快递员外卖员关爱, which jieba reads 快递|员外|卖员|关爱). With `mentioned` (whether the
    documents' text holds it), a character the segmenter leaves alone joins its neighbour (`_lone_joined`)."""
    norm = normalise(topic)
    words = [t for t in dict.fromkeys(tokenize(topic)) if len(t) >= 2 and t not in STOPWORDS]
    if known is not None:
        words += _known_splits(norm, words, known)
    if mentioned is not None:
        # a part that is a word of the documents already (the short form 新群体 a reading adds) stays as it is
        loose = " ".join(part for part in norm.split() if known is None or not known(part))
        words += [w for w in _lone_joined(loose, words, mentioned) if w not in words and mentioned(w)]
    return _aligned(norm, [*words, *_left_single(norm, words)], known)


def _modifier(char: str) -> bool:
    """jieba tags the character alone a noun, an adjective, a numeral or a distinguishing word."""
    return pos_tags(char)[0][1] in ("n", "a", "m", "b")


def _topic_words(topic: str, snapshot: Snapshot) -> list[str]:
    return _content_words(topic, _known(snapshot), snapshot.mentions)


def _lone_joined(
    text: str, words: list[str], mentioned: Callable[[str], bool] = lambda text: True
) -> list[str]:
    """A character the segmenter leaves alone, no function word, with the next one left alone where the two make
    a word (报|到 of 党员报到, which jieba reads so at the end of a text), else with the word after it when it
    modifies that word (微|治理 of 社区微治理, 大|模型 of 人工智能大模型, 十|联户; not the verb 带 of 党建带群建),
    and the topic's last character with the word before it (广场|舞, 春节|档; inside a topic that joins junk:
    人工智能大 of 人工智能大模型), or between two words with the one before it where the documents never write it with
    the one after it (广场|舞|管理: 广场舞, no 舞管理; not 党建|带|群建, whose 带群建 they write): dropped, it would leave
    the topic's general words standing for it. The caller keeps what the documents hold."""
    covered = _covered(text, words)
    joined = []
    for i, ch in enumerate(text):
        if i in covered or ch in STOPWORDS or not "\u4e00" <= ch <= "\u9fff":
            continue
        after = [w for w in words if text.startswith(w, i + 1)]
        before = [w for w in words if text.endswith(w, 0, i)]
        if i + 1 < len(text) and i + 1 not in covered and word_frequency(text[i : i + 2]):
            joined.append(text[i : i + 2])
        elif after and _modifier(ch):
            joined.append(ch + max(after, key=len))
        elif before and not text[i + 1 :].strip():  # the topic's last character: 广场|舞, 春节|档
            joined.append(max(before, key=len) + ch)
        elif before and after and not mentioned(ch + max(after, key=len)):
            joined.append(max(before, key=len) + ch)
    return joined


def _known(snapshot: Snapshot) -> Callable[[str], bool]:
    """Whether the documents use a word (a token of the lexical index)."""
    return lambda word: bool(snapshot.bm25.doc_freq.get(word, 0))


def _absent_words(topic: str, weights: _TopicWeights, known: Callable[[str], bool]) -> list[str]:
    """The topic's words the documents never use, nor spell out in words they do use (积分 of 党员积分管理, 示范岗
    of 党员示范岗; not 资源整合, whose 资源 and 整合 they use): the pack gathers the rest of the topic only and
    says so."""
    present = list(weights.present)
    words = [w for w in _content_words(topic, known) if w not in weights.present and not _tiled(w, present)]
    return [_as_typed(w, topic) for w in words]


def _headless(topic: str, absent: list[str]) -> bool:
    """The documents never use a noun of the topic past its first word: the noun it ends in (汇率 of 人民币汇率, 积分
    of 志愿者积分) or one that makes its head (积分 of 党员积分管理). A Chinese compound is right-headed, so what is
    left only modified that noun and alone names other things (人民币 in any sum, 党员 and 管理 at large), as an
    absent proper name does. Not a leading modifier (村级 of 村级集体经济: the rest, 集体经济, is still the subject), a
    verb (调处 of 矛盾纠纷调处, 出舱 of 航天员出舱: what it acts on is) or a word that is no noun (后续 of 易地搬迁后续扶持),
    nor a topic of several alternatives (another may still be there). By LAC's tags."""
    parts = _alternatives(topic)
    if len(parts) != 1:
        return False
    part = parts[0]
    words = names.tagged_spans(part)
    for a in map(normalise, absent):
        start = part.find(a)
        if start > 0 and all(tag.startswith("n") for b, _, _, tag in words if start <= b < start + len(a)):
            return True
    return False


def _as_typed(word: str, topic: str) -> str:
    """The word as the topic spells it (NBA, which matching reads as nba)."""
    found = re.search(re.escape(word), unicodedata.normalize("NFKC", topic), re.IGNORECASE)
    return found.group() if found else word


def _a_proper_name(word: str) -> bool:
    """The word names one thing: jieba tags it a name, or it is an acronym in capitals (NBA, WTT). A topic about
    it is about nothing else, so the rest of the topic gathers nothing on it (NBA总决赛: other finals)."""
    tags = pos_tags(word)
    return bool(re.fullmatch(r"[A-Z]{3,}", word)) or (len(tags) == 1 and tags[0][1] in names.PROPER_TAGS)


def _known_splits(text: str, words: list[str], known: Callable[[str], bool], longest: int = 4) -> list[str]:
    """Words of Chinese (jieba's dictionary) in the text that the documents use and that cut through a word of
    its segmentation they never use (外卖 through 员外 and 卖员 of 快递|员外|卖员): candidates `_aligned` weighs."""
    unknown = [(m.start(), m.end()) for w in words if not known(w) for m in re.finditer(re.escape(w), text)]
    found = []
    for i in range(len(text)):
        for j in range(i + 2, min(i + longest, len(text)) + 1):
            piece = text[i:j]
            if piece in words or not word_frequency(piece) or not known(piece):
                continue
            if any(
                i < e and s < j and not (s <= i and j <= e) and not (i <= s and e <= j) for s, e in unknown
            ):
                found.append(piece)
    return found


def _left_single(text: str, words: list[str], longest: int = 4) -> list[str]:
    """Runs of two to `longest` Chinese characters no word of the text covers, split at function words."""
    covered = _covered(text, words)
    runs = re.findall(
        r"[\u4e00-\u9fff]+",
        "".join(ch if i not in covered and ch not in STOPWORDS else " " for i, ch in enumerate(text)),
    )
    return [r for r in runs if 2 <= len(r) <= longest]


def _aligned(text: str, words: list[str], known: Callable[[str], bool] | None = None) -> list[str]:
    """The words that cut through none of the text's best tiling by its smallest words: the tiling covers the
    most characters with words the documents use (`known`, when given), then the most characters, then uses the
    fewest words, then the commoner words (志愿 of 志愿者 and 业态 of 新业态, not the search-mode pieces 愿者 and
    新业 that are no words of their own)."""
    spans = {w: [(m.start(), m.start() + len(w)) for m in re.finditer(re.escape(w), text)] for w in words}
    atoms = [(s, e) for w in smallest_words(words) for s, e in spans[w]]
    # best[i]: ((characters covered, -words, how common its words are), tiling) of text[i:]
    best: list[tuple] = [((0, 0, 0, 0.0), ())] * (len(text) + 1)
    for i in range(len(text) - 1, -1, -1):
        best[i] = best[i + 1]
        for s, e in atoms:
            if s == i:
                (used, covered, pieces, common), tiles = best[e]
                option = (
                    (
                        used + (e - s if known is None or known(text[s:e]) else 0),
                        covered + e - s,
                        pieces - 1,
                        common + math.log1p(word_frequency(text[s:e])),
                    ),
                    ((s, e), *tiles),
                )
                best[i] = max(best[i], option, key=lambda o: o[0])
    tiling = best[0][1]

    def cuts(s: int, e: int) -> bool:  # overlaps a tile, and neither holds the other
        return any(
            s < te and ts < e and not (s <= ts and te <= e or ts <= s and e <= te) for ts, te in tiling
        )

    return [w for w in words if spans[w] and not any(cuts(s, e) for s, e in spans[w])]


def validate_max_items(value) -> int:
    """Items per topic: default 25, 1–100."""
    if value is None:
        return DEFAULT_MAX_ITEMS
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ITEMS_LIMIT:
        raise AssistantError(
            f"每个主题的条目上限 max_items 应为 1–{MAX_ITEMS_LIMIT} 之间的整数（默认 {DEFAULT_MAX_ITEMS}）。"
        )
    return value


# ----------------------------------------------------------------------------------------------- gathering


@dataclass
class _TopicWeights:
    present: dict[str, float]  # the topic's words the corpus uses, weighted
    missing: float  # summed weight of the words it never uses (they lower every sentence's share)
    coverage: float  # idf-weighted share of the topic's words the corpus uses at all


def _topic_weights(
    topic: str, snapshot: Snapshot, feedback_norms: list[str], tuning: Tuning
) -> _TopicWeights:
    """Topic words weighted by lift in the best chunks (x sqrt idf): the head of the topic dominates.
    Corpus frequencies come from the lexical index (O(1) per word); only a word no token of the index is (微治理,
    which the segmenter cuts) is counted in the chunks, through the character index, once per snapshot."""
    n = max(len(snapshot.chunks), 1)
    present, missing, used, total = {}, 0.0, 0.0, 0.0
    words = _topic_words(topic, snapshot)
    for term in words:
        df_top = sum(1 for t in feedback_norms if term in t)
        df = max(snapshot.bm25.doc_freq.get(term, 0) or snapshot.chunks_containing(term), df_top)
        idf = math.log(1 + (n + 1) / (df + 0.5))
        total += math.sqrt(idf)
        if not df:
            missing += tuning.lift_cap * math.sqrt(idf)
            continue
        used += math.sqrt(idf)
        # alone it names something else: 书记 and 第一 of 第一书记
        alone_elsewhere = _names_another(term, words) or _numeral_inside(term, words)
        lift = (df_top / max(len(feedback_norms), 1)) / (df / n) if not alone_elsewhere else 0.0
        present[term] = max(min(lift, tuning.lift_cap), 0.05) * math.sqrt(idf)
    return _TopicWeights(present, missing, used / total if total else 0.0)


_JOINERS = frozenset({"与", "和", "及", "或", "以及", "或者", "跟", "同"})


def _alternatives(topic: str) -> list[str]:
    """The topic's parts joined by a conjunction, a list mark or a space (智慧社区 | 数字化服务), split on whole
    words only: 和 in 和谐社区 or 与 in 参与 joins nothing."""
    parts, current = [], ""
    for word, _ in pos_tags(normalise(topic)):
        if word in _JOINERS or not re.search(r"\w", word):
            parts.append(current)
            current = ""
        else:
            current += word
    return [p for p in (*parts, current) if p]


def _as_alternatives(
    words: list[str], specific: list[list[str]], weights: _TopicWeights
) -> tuple[list[list[str]], _TopicWeights]:
    """The topic read as if it had named each word as an alternative of its own, weighing as its strongest word."""
    top = max(weights.present.values())
    return [*specific, *([w] for w in words)], replace(
        weights, present={**weights.present, **dict.fromkeys(words, top)}
    )


def _specific_words(topic: str, weights: _TopicWeights, share: float) -> list[list[str]]:
    """Per alternative of the topic (智慧社区 | 数字化服务 of 智慧社区与数字化服务), the words that carry it:
    weighted at least `share` of its strongest word (减负 of 基层减负, not 基层), none holding another (网格
    for 网格化/网格)."""
    return [g for part in _alternatives(topic) if (g := _part_specific(part, weights, share))]


def _part_specific(part: str, weights: _TopicWeights, share: float) -> list[str]:
    words = {
        t: w for t, w in weights.present.items() if t in part and not _numeral_inside(t, weights.present)
    }
    top = max(words.values(), default=0.0)
    strong = [t for t, w in words.items() if w >= share * top]
    carrying = [
        t
        for t in strong
        if not any(o != t and o in t and not _narrower(t, o) for o in strong)  # 网格 carries 网格化 too
        and not any(o != t and _narrower(o, t) for o in strong)  # 亚洲杯, not 亚洲, carries 亚洲杯
    ]
    return [_with_its_noun(carrying[0], part)] if len(carrying) == 1 else carrying


def _with_its_noun(word: str, part: str) -> str:
    """A verb that alone would carry the topic carries it with the noun it modifies there (流动党员 of 流动党员管理:
    流动 alone is the 双向流动 of cadres as well), where a noun carries it alone (网格 of 网格化管理)."""
    tags = pos_tags(normalise(part))
    for (w, tag), (noun, noun_tag) in zip(tags, tags[1:]):
        if w == word and tag.startswith("v") and noun_tag.startswith("n") and len(noun) >= 2:
            return word + noun
    return word


# suffixes that make a word of the same concept (网格化 of 网格, 志愿者 of 志愿), where another character is a head
# that narrows it (亚洲杯 of 亚洲, 世界杯 of 世界, 委员会 of 委员)
_DERIVING = frozenset("化性式型率度者")


# prefixes that make a word of the same concept or a mere title (老虎, 小王, 第一, 阿姨, 初一), where another
# character modifies it into a narrower one (新能源 of 能源, 大数据 of 数据)
_PREFIXES = frozenset("老小第阿初")


def _narrower(word: str, stem: str) -> bool:
    """`word` is `stem` with a head character (亚洲杯 of 亚洲) or a modifying one before it (新能源 of 能源), or
    with a numeral before it (第一书记 of 书记: a post of its own, not the first of the secretaries): a narrower
    concept, which alone carries the topic."""
    if word.endswith(stem) and len(word) > len(stem) and _a_numeral(word[: -len(stem)]):
        return True
    if len(word) != len(stem) + 1:
        return False
    if word.startswith(stem):
        return word[-1] not in _DERIVING
    return word.endswith(stem) and word[0] not in _PREFIXES


def _a_numeral(word: str) -> bool:
    """jieba reads the word as one numeral (第一, 一张, 十五条)."""
    return [tag for _, tag in pos_tags(word)] == ["m"]


def _numeral_inside(word: str, words: Iterable[str]) -> bool:
    """A numeral inside a longer word of the topic (第一 of 第一书记): alone it names nothing of it (排名全县第一).
    A numeral the topic holds as a word of its own (十五条 of 十五条措施) is what sets it apart, and stays."""
    return _a_numeral(word) and any(word in w and len(w) > len(word) for w in words)


def _names_another(stem: str, words: list[str], commoner: float = 2.0) -> bool:
    """The topic narrows the word with a head character (联合国 of 联合, 电影节 of 电影, 示范点 of 示范) and Chinese
    uses it alone far more (jieba's counts): alone it names something else (联合声明, 春节档电影, 示范培训班), so
    it weighs nothing of its own. Not 奥运 of 奥运会 nor 老年 of 老年人, which say the same."""
    return any(_narrower(w, stem) and word_frequency(stem) >= commoner * word_frequency(w) for w in words)


def _more_general(word: str, others: list[str], weights: _TopicWeights) -> bool:
    """More common in Chinese at large (jieba's counts) and weighing no more in these documents."""
    common = word_frequency(word) > max(map(word_frequency, others))
    return common and weights.present[word] <= max(weights.present[o] for o in others)


@dataclass
class _Broader:
    specific: list[list[str]]
    wording: str  # "" when no alternative has a word to drop
    weights: _TopicWeights  # the dropped words weigh as words the documents never use
    # a head was dropped: what is left only modified it, so only what names that is on the topic (旅游 of 旅游市场
    # is also a line of a trade report)
    headless: bool = False


def _broader(topic: str, weights: _TopicWeights, share: float) -> _Broader:
    """The topic without the more general word of each alternative that has two specific words or more: its
    leading modifier, where that is the more general word (a Chinese compound is right-headed: 新型城镇化 → 城镇化,
    智慧养老 → 养老; the documents do not use the modifier with the topic, so alone it ties nothing to it: 新型 of
    新型冠状病毒), else its head, where that is and a segmenter reads it as a word of its own (网格员队伍 → 网格员,
    篮球比赛 → 篮球: a head this general names the kind of thing said of the rest; not 人造卫星 → 人造, one word).
    Not 篮球联赛 → 联赛 or 篮球 (联赛 weighs more here); 减负 of 基层减负 is its only one. Never a word as common as
    the commonest of Chinese (`at_large`: 人才引进 → 引进 gathers every project brought in)."""
    groups, wording, dropped, headless = [], [], set(), False
    for part in _alternatives(topic):
        group = sorted(_part_specific(part, weights, share), key=part.find)
        if len(group) >= 2 and _more_general(group[0], group[1:], weights):
            kept = part[part.find(group[1]) :]
        elif (
            len(group) >= 2 and _more_general(group[-1], group[:-1], weights) and _a_word_of(group[-1], part)
        ):
            kept = part[: part.find(group[-1])]
            headless = True
        else:
            groups += [group] if group else []
            continue
        if at_large(kept):
            groups.append(group)  # 引进 of 人才引进, 企业 of 帮扶企业: alone it names things at large
            continue
        groups.append([w for w in group if w in kept])
        wording.append(kept)
        dropped |= {t for t in weights.present if t not in kept and t in part}
    present = {t: w for t, w in weights.present.items() if t not in dropped}
    missing = weights.missing + sum(w for t, w in weights.present.items() if t in dropped)
    return _Broader(groups, "、".join(wording), _TopicWeights(present, missing, weights.coverage), headless)


def _a_word_of(word: str, text: str) -> bool:
    """jieba or LAC reads the word as one of the text's words."""
    return word in (w for w, _ in pos_tags(text)) or word in (w for w, _ in ner.tag(text))


def _named(features: TopicFeatures) -> int:
    """How many candidates name the topic itself (all of them, for a topic the documents do cover)."""
    return len(features.units) - sum(features.related)


def _subjects(topic: str, title: Callable[[str], bool] = lambda word: False) -> str:
    """The topic with each alternative that opens with a verb cut to what it acts on (`_object_of`); "" when
    none does. Not a verb that is a title the documents quote (`title`: 《狂飙》 of 狂飙电视剧, which LAC reads
    as a verb): cut, the topic would be 电视剧 in general."""
    parts = _alternatives(topic)
    objects = [_object_of(p, title) or p for p in parts]
    return " ".join(objects) if objects != parts else ""


def _object_of(part: str, title: Callable[[str], bool] = lambda word: False) -> str:
    """What an alternative that opens with a verb acts on (居民群众参与社区治理 of 发动居民群众参与社区治理, 专业优势 of
    充分发挥专业优势, 垃圾分类 of 推进垃圾分类): a trainer's title often says what to do with a subject the documents
    speak of in their own verbs. "" when it opens with no verb of two characters or more (服务企业发展: 服务 is a
    verbal noun; 驻区单位), or what follows is no noun phrase or a word that alone names things at large (企业 of
    帮扶企业: `at_large`). By LAC's tags, which jieba's miss (发动 as vn)."""
    tags = list(ner.tag(part))
    k = 0
    while k < len(tags) and tags[k][1] in ("d", "ad"):
        k += 1  # 充分 of 充分发挥
    if k >= len(tags) - 1 or tags[k][1] != "v" or len(tags[k][0]) < 2 or title(tags[k][0]):
        return ""
    rest = tags[k + 1 :]
    if rest[0][1][:1] in ("v", "p", "c", "u", "d", "r") or not any(
        t[:1] == "n" or t in ("LOC", "ORG") for _, t in rest
    ):
        return ""
    obj = "".join(w for w, _ in rest)
    return obj if part.endswith(obj) and not at_large(obj) else ""


def _scarce(norms: list[str], specific: list[list[str]], words: list[str], most: int) -> bool:
    """Whether the documents barely cover the topic: at most `most` of its retrieved chunks name it
    (`names.says_topic`), where a word that carries it and is a compound of the topic's words counts as named when
    all its parts are (干部 and 队伍 of 干部队伍: 社区干部队伍建设 is no scarce topic for lack of that one spelling)."""
    parts = {}
    for word in (w for group in specific for w in group):
        inner = [t for t in words if t != word and t in word]
        if inner and _tiled(word, inner):
            parts[word] = inner

    def holds(norm: str, word: str) -> bool:
        return names.named_outside_places(norm, word) or (
            word in parts and all(p in norm for p in parts[word])
        )

    return sum(names.says_topic(norm, specific, holds) for norm in norms) <= most


def _tiled(word: str, parts: list[str]) -> bool:
    """The parts cover every character of the word (干部 + 队伍 of 干部队伍; not 网格 of 网格化)."""
    return len(_covered(word, parts)) == len(word)


def _covered(text: str, words: list[str]) -> set[int]:
    """The positions of the text's characters that an occurrence of one of the words covers."""
    return {i for w in words for m in re.finditer(re.escape(w), text) for i in range(m.start(), m.end())}


def _paragraph_norm(view: DocView, unit: Unit) -> str:
    return "".join(view.units[j].norm for j in view.para_units[unit.para])


def _on_scarce_topic(view: DocView, unit: Unit, specific: list[list[str]]) -> bool:
    """For a topic the documents barely speak of: the unit stands in a section on it (`_in_named_section`), or
    is named near it (`_named_near`)."""
    return _in_named_section(view, unit, specific) or _named_near(view, unit, specific)


def _named_near(view: DocView, unit: Unit, specific: list[list[str]]) -> bool:
    """The unit's item names the topic, or holds one of its specific words in a paragraph that names it (群众 and
    诉求 in two sentences of one paragraph, never in one). A word inside a place's name (自治 of
    紫云苗族布依族自治县 for 居民自治) does not name it: there one item would be the part."""
    held = _item_norms(view, unit)
    if any(names.says_topic(norm, specific, names.named_outside_places) for norm in held):
        return True
    return names.holds_specific(held, specific) and names.says_topic(
        _paragraph_norm(view, unit), specific, names.named_outside_places
    )


def _in_named_section(view: DocView, unit: Unit, specific: list[list[str]]) -> bool:
    """The unit stands in a section on the topic: its heading names it (法治护航 构筑协同治理新矩阵 over the
    report on lawyers and mediators; 构建能“上”能“下”双向流动机制 for 干部能上能下), or two of its paragraphs or more
    do, at least a third of them (直播带货 and 主播直播带货 in the report on a county's 融媒助农 base). That report
    speaks of the topic in its own terms elsewhere (the base, the hosts' columns); a passing mention does not
    make one."""
    if unit.head_of is None:
        return False
    if names.says_topic(view.heading_block(unit.index), specific, names.named_outside_places):
        return True
    paragraphs: dict[int, str] = {}
    for u in view.units:
        if u.head_of == unit.head_of and not u.heading:
            paragraphs[u.para] = paragraphs.get(u.para, "") + u.norm
    saying = [n for n in paragraphs.values() if names.says_topic(n, specific, names.named_outside_places)]
    return len(saying) >= max(2, len(paragraphs) / 3)


def _relating_words(specific: list[list[str]], snapshot: Snapshot, most: float = 0.5) -> list[list[str]]:
    """The words that carry the topic less the ones most chunks of the corpus hold: 基层 of 基层减负 in documents
    on 基层党建 relates nothing to 减负, where 就业 of 就业帮扶 is a subject of its own."""
    n = max(len(snapshot.chunks), 1)
    return [[w for w in g if snapshot.bm25.doc_freq.get(w, 0) <= most * n] for g in specific]


def _item_norms(view: DocView, unit: Unit) -> list[str]:
    return [view.units[j].norm for j in view.covering(*unit.span)]


def _specific_reach(view: DocView, unit: Unit, held: list[str], specific: list[list[str]]) -> float:
    """1 when the item names the topic (`names.says_topic`), 0.5 when it holds only one of the words that carry it or
    only its paragraph names it, else 0: an item reached through a general word alone (环境 of 营商环境, 智能 of
    人工智能 in 智能手机), a neighbour or the chunk's rank is less often on the topic. Nor does the head of a
    compound alone count (主教练 of 足球主教练, 经济 of 农村集体经济: a Chinese compound is right-headed, and its
    head alone names the kind, another sport's coach), while its modifier does (网格 of 网格化管理) unless it
    alone names far more (`_broad_alone`: 日本 of 日本首相遇袭, 新型 of 新型城镇化)."""
    if names.says_topic("".join(held), specific):
        return 1.0
    if names.holds_specific(held, names.narrowing(specific)) or names.says_topic(
        _paragraph_norm(view, unit), specific
    ):
        return 0.5
    return 0.0


def _lexical(norm: str, weights: _TopicWeights, tuning: Tuning) -> float:
    if not weights.present:
        return 0.0
    top, total = max(weights.present.values()), sum(weights.present.values()) + weights.missing
    # a word inside a place's name (经济 of 双龙航空港经济区) does not speak of the topic
    present = [w for t, w in weights.present.items() if names.named_outside_places(norm, t)]
    if not present:
        return 0.0
    repeats = sum(norm.count(t) for t, w in weights.present.items() if w >= 0.5 * top)
    score = tuning.head_share * max(present) / top + (1 - tuning.head_share) * sum(present) / total
    return min(score + tuning.repeat_bonus * min(max(repeats - 1, 0), 2), 1.5)


_PROGRAMME = re.compile(r"“[^”]{2,30}”")


def _programme(norm: str, weights: _TopicWeights, reach: int = 8) -> float:
    """A named programme of the topic: a quoted name holding a topic word or standing right next to one
    (“1+1+N”网格党支部, “先锋党建”), weighted like the word."""
    if not weights.present or "“" not in norm:
        return 0.0
    top = max(weights.present.values())
    best = 0.0
    for m in _PROGRAMME.finditer(norm):
        near = norm[max(0, m.start() - reach) : m.end() + reach]
        for term, w in weights.present.items():
            if term in near:
                best = max(best, w / top)
    return best


@dataclass(frozen=True)
class _Expansion:
    """Specific terms of the topic's strongest sentences (programme names, 户外劳动者): related sentences share
    them. `scores`: each term's strength, a ranking feature. `anchors`: the terms that tie a sentence holding no
    topic word to the topic — those of a heading naming the topic or of a titled document's strong sentence (a
    report whose title says what it is on), and those two strong sentences share. A term of one snippet's sentence
    naming the topic in passing (沙特阿拉伯 of a page cut from anywhere: ……包括首次参赛的沙特阿拉伯……天气暖和的国家)
    says nothing of it."""

    scores: dict[str, float]
    anchors: frozenset[str]

    def score(self, norm: str) -> float:
        return max((s for t, s in self.scores.items() if t in norm), default=0.0)

    def anchored(self, norm: str) -> bool:
        return any(t in norm for t in self.anchors)


def _expansion_terms(
    strong: list[tuple[str, float, bool]], snapshot: Snapshot, weights: _TopicWeights, tuning: Tuning
) -> _Expansion:
    """`strong`: the topic's strongest lines, each (text, lexical score, vouched for: a heading or a line of a
    titled document)."""
    max_df = max(4, round(tuning.expansion_df * len(snapshot.chunks)))
    scores: dict[str, float] = {}
    sentences: dict[str, set[str]] = {}
    vouched: set[str] = set()
    for text, lex, titled in strong:
        for term in set(tokenize(text)):
            if len(term) < 3 or re.search(r"\d", term) or any(w in term for w in weights.present):
                continue
            if 1 <= snapshot.bm25.doc_freq.get(term, 0) <= max_df:
                scores[term] = max(scores.get(term, 0.0), min(lex, 1.0))
                sentences.setdefault(term, set()).add(squashed(text))
                if titled:
                    vouched.add(term)
    return _Expansion(scores, frozenset(t for t, held in sentences.items() if len(held) >= 2 or t in vouched))


@dataclass
class TopicFeatures:
    """The candidate units of one topic and their feature rows (`FEATURES` order)."""

    topic: str
    units: list[Unit]
    matrix: np.ndarray
    spans: list[tuple[int, int]] = field(default_factory=list)  # each candidate's item (document offsets)
    sentences: list[list[tuple[int, int]]] = field(default_factory=list)  # its cited sentences
    texts: list[str] = field(default_factory=list)  # each candidate's item, squashed (`squashed`)
    scarce: bool = False  # the documents barely speak of the topic itself: what does, and what is `related`
    specific: list[list[str]] = field(default_factory=list)  # the words that carry it (`_specific_words`)
    says: list[bool] = field(
        default_factory=list
    )  # each candidate names the topic itself (`names.says_topic`)
    broader: str = ""  # the wording gathered by, when the documents barely use the topic's own (`_broader`)
    # the topic as gathered, when that differs: its typos corrected (`SpellingIndex.correct`), its request left
    # off (`_subject_of_request`)
    corrected: str = ""
    related: list[bool] = field(default_factory=list)  # of a scarce topic: holds its word, names it not
    kin: list[str] = field(default_factory=list)  # the documents' wordings for it, if any (`_kin_wordings`)
    absent: list[str] = field(default_factory=list)  # its words the documents never use (`_absent_words`)
    # each candidate's telling figures (`figure_values`)
    figures: list[frozenset] = field(default_factory=list)


def _retrieve(topic: str, snapshot: Snapshot, guard: DenseGuard, fusion: Fusion, tuning: Tuning) -> list:
    """The topic's best `top_n` chunks by hybrid search: the questions' fusion, `top_n` candidates a list. When
    the topic cannot be embedded (an embedding endpoint that is down) the guard is marked failed and the search
    is BM25's and phrases' alone, as for questions; the service then says so on the pack — never an error."""
    top_n = min(tuning.top_n, len(snapshot.chunks))
    vector = guard.question_vector(topic)
    return search(snapshot, guard, topic, vector, top_n, replace(fusion, candidates=top_n))


def _chunk_signals(hits: list) -> tuple[dict[str, float], dict[str, float]]:
    """Per retrieved chunk: fused score (1 = best) and dense cosine relative to the median retrieved chunk
    (1 = best, 0 = median); a chunk not retrieved counts as the worst retrieved one."""
    fused = {h.chunk.chunk_id: h.score for h in hits}
    peak = max(fused.values(), default=0.0)
    if peak > 0:
        fused = {c: s / peak for c, s in fused.items()}
    ranked = sorted((h.cosine for h in hits), reverse=True)
    top, ref = ranked[0], ranked[min(len(ranked) - 1, len(ranked) // 2)]
    dense = {h.chunk.chunk_id: (h.cosine - ref) / max(top - ref, 1e-6) for h in hits}
    return fused, dense


def topic_features(
    topic: str,
    snapshot: Snapshot,
    guard: DenseGuard,
    fusion: Fusion = Fusion(),
    tuning: Tuning = TUNING,
    broaden: bool = False,
) -> TopicFeatures:
    """Feature rows of the units in the topic's retrieved chunks that seed an item and the topic touches.

    `broaden`: when the documents barely speak of the topic, gather it by its broader wording (`_broader`) if
    they do speak of that.
    Only the retrieved chunks' documents are looked at (their views built on first use and kept), so the cost
    follows `top_n`, not the size of the corpus."""
    empty = TopicFeatures(topic, [], np.zeros((0, len(FEATURES))))
    if not snapshot.chunks:
        return empty
    # typed by pinyin (志原服务 for 志愿服务): corrected as questions are
    corrected = _initialled(snapshot.spelling.correct(topic, term=True), snapshot)
    reading = _reading(corrected, snapshot)
    hits = _retrieve(reading, snapshot, guard, fusion, tuning)
    if not hits:
        return empty
    norms = [unquoted(normalise(h.text)) for h in hits]
    weights = _topic_weights(reading, snapshot, norms[: tuning.feedback], tuning)
    if weights.coverage < tuning.min_coverage:
        return empty  # the corpus lacks most of the topic's words (量子计算芯片 vs one 云计算): nothing on it
    absent = _absent_words(corrected, weights, _known(snapshot))
    if any(map(_a_proper_name, absent)) or _headless(corrected, absent):
        # NBA总决赛 where no document names the NBA: other finals only; 人民币汇率 where none names 汇率: any sum
        return replace(empty, absent=absent)
    specific = _specific_words(reading, weights, tuning.specific_share)
    # an alternative the topic names whole, which a numbered abbreviation the documents use spells out (在职 of
    # 在职党员到社区报到 and 双报到 = 在职党员 单位党组织): gathered by the abbreviation too, as one more alternative
    abbreviations = [
        a for g in specific for a in abbreviating(g) if snapshot.bm25.doc_freq.get(a, 0) and a not in reading
    ]
    if abbreviations:
        hits = _retrieve(" ".join([reading, *abbreviations]), snapshot, guard, fusion, tuning) or hits
        norms = [unquoted(normalise(h.text)) for h in hits]
        specific, weights = _as_alternatives(list(dict.fromkeys(abbreviations)), specific, weights)
    scarce = _scarce(norms, specific, list(weights.present), tuning.scarce_chunks)
    broader = ""
    if scarce and broaden:
        wider = _broader(reading, weights, tuning.specific_share)
        if wider.wording:
            specific, broader, weights = wider.specific, wider.wording, wider.weights
            scarce = wider.headless or _scarce(norms, specific, list(weights.present), tuning.scarce_chunks)
    kin: list[str] = []
    if scarce and not broader:
        kin = _kin_wordings(
            corrected, specific, [h.text for h in hits[: tuning.feedback]], snapshot, guard, tuning
        )
        if kin:  # gathered by those wordings too, as if the topic had named them as alternatives
            hits = _retrieve(" ".join([reading, *kin]), snapshot, guard, fusion, tuning) or hits
            specific, weights = _as_alternatives(kin, specific, weights)
    fused, dense = _chunk_signals(hits)
    floor = min(dense.values())
    relating = _relating_words(specific, snapshot)
    views: dict[str, DocView] = {}
    reached: dict[tuple[str, int], list[float]] = {}  # (doc, unit) → best [dense, fused] of its chunks
    for h in hits:
        c = h.chunk
        if c.doc_id not in views:
            views[c.doc_id] = DocView.of(snapshot, c.doc_id, tuning)
        view = views[c.doc_id]
        for k in view.covering(c.start, c.end):
            best = reached.setdefault((c.doc_id, k), [floor, 0.0])
            best[0], best[1] = max(best[0], dense[c.chunk_id]), max(best[1], fused[c.chunk_id])
    lex = {d: [_lexical(u.norm, weights, tuning) for u in v.units] for d, v in views.items()}
    # a heading naming the topic is among its strongest sentences: the report under it speaks of the topic in
    # its own terms (科技特派员 under ……促进高层次人才双向流动), which related sentences elsewhere share
    strong = [
        (
            views[d].text[views[d].units[k].start : views[d].units[k].end],
            lex[d][k],
            views[d].units[k].heading or views[d].titled,
        )
        for d, k in reached
        if lex[d][k] >= tuning.strong and (views[d].units[k].heading or not views[d].rejected(k))
    ]
    expansion = _expansion_terms(strong, snapshot, weights, tuning)

    rows, keep, spans, cited, texts, says, related = [], [], [], [], [], [], []
    figures: list[frozenset] = []
    heading_lex: dict[str, dict[int | None, float]] = {}  # doc → heading line → its block's coverage
    named_sections: dict[tuple[str, int | None], bool] = {}  # (doc, heading line) → on a scarce topic
    for (doc_id, k), (chunk_dense, chunk_fused) in reached.items():
        view, doc_lex = views[doc_id], lex[doc_id]
        unit = view.seed(k)
        if unit.span is None:
            continue
        own = max(doc_lex[j] for j in view.covering(*unit.span))
        neighbours = [doc_lex[n.index] for n in (view.neighbour(k, -1), view.neighbour(k, 1)) if n]
        exp = expansion.score(unit.norm)
        if unit.head_of not in heading_lex.setdefault(doc_id, {}):
            block = view.heading_block(k)
            heading_lex[doc_id][unit.head_of] = _lexical(block, weights, tuning) if block else 0.0
        heading = heading_lex[doc_id][unit.head_of]
        para = max(doc_lex[j] for j in view.para_units[unit.para])
        if scarce and (doc_id, unit.head_of) not in named_sections:  # decided once per section
            named_sections[doc_id, unit.head_of] = _in_named_section(view, unit, specific)
        in_section = scarce and named_sections[doc_id, unit.head_of]
        if own == 0 and heading == 0 and para == 0 and not in_section and not expansion.anchored(unit.norm):
            # no topic word in it, its paragraph or its heading, no term its best sentences share: a
            # chunk's dense or fused rank alone does not tie it to the topic (a topic the documents barely
            # mention would otherwise be filled up with whatever retrieval returned), unless it stands in a section
            # on a topic the documents barely speak of
            continue
        on_topic = not scarce or in_section or _named_near(view, unit, specific)
        if not on_topic and not names.holds_specific(
            _item_norms(view, unit), relating, names.named_outside_places
        ):
            # the documents barely speak of the topic (减负 of 基层减负 once): an item that does is on it, one
            # holding one of the words that carry it (就业 of 就业帮扶) is related; the rest shares a general
            # word (基层) or a neighbour's rank only and would fill the part with 基层党建 in general
            continue
        span, sentences = _thread(view, k, doc_lex, tuning)
        held = [view.units[j].norm for j in view.covering(*span)]
        rows.append(
            (
                own,
                max(neighbours, default=0.0),
                para,
                exp,
                chunk_dense,
                chunk_fused,
                heading,
                float(unit.case),
                _programme(unit.norm, weights),
                _specific_reach(view, unit, held, specific),
            )
        )
        keep.append(unit)
        says.append(any(names.says_topic(norm, specific) for norm in held) or in_section)
        related.append(not on_topic)
        spans.append(span)
        cited.append(sentences)
        item_text = view.text[span[0] : span[1]]
        texts.append(squashed(item_text))
        figures.append(figure_values(item_text))
    matrix = np.array(rows, dtype=float) if rows else np.zeros((0, len(FEATURES)))
    return TopicFeatures(
        topic,
        keep,
        matrix,
        spans,
        cited,
        texts,
        scarce,
        specific,
        says,
        broader,
        corrected if corrected != topic else "",
        related,
        kin,
        absent,
        figures,
    )


# jieba's tags of the words a wording of the documents is made of: nouns, verbs and their nouns, abbreviations,
# idioms (疫情|防控, 征地|拆迁, 团建, 投诉)
_WORDING_TAGS = ("n", "v", "j", "a", "l", "i")


def _kin_wordings(
    topic: str,
    specific: list[list[str]],
    texts: list[str],
    snapshot: Snapshot,
    guard: DenseGuard,
    tuning: Tuning,
) -> list[str]:
    """The documents' own wordings for a topic they barely name (疫情防控 for 防疫, 征地拆迁 for 项目征迁): a word,
    or two adjacent ones, of its best chunks that shares a character with a word carrying the topic (Chinese
    builds related words from the same morphemes) and whose meaning stands out — its cosine to the topic, by the
    store's embedder, `kin_z` standard deviations above that of the chunks' other frequent words. None where no
    word stands out or the one closest shares no character (就业帮扶: 志愿服务), nor when embedding fails; the word
    sharing it is never one of the commonest words of Chinese (`at_large`), which name things at large (减少 for
    社区减负, 农村 of 农村致富 for 农民专业合作社, 返回 of 返回搜狐 for 返乡创业)."""
    # each carrying word's rarest characters in Chinese at large (jieba's counts): the morphemes that carry its
    # meaning (疫 of 防疫, 诉 of 诉求, 征 and 迁 of 征迁), not one that builds words of every kind (建 of 群建)
    if guard.failed:
        return []  # the topic cannot be embedded: no need to tag its chunks' words
    morphemes = {c for group in specific for w in group for c in _rarest(w)}
    words = _chunk_wordings(texts, topic, _topic_words(topic, snapshot), snapshot, tuning.kin_candidates)
    if len(words) < 10:
        return []  # too few words to tell one apart from the rest
    try:
        vectors = guard.embedder.embed_terms(words)
        cosines = vectors @ guard.embedder.embed_question(topic)
    except Exception as exc:  # noqa: BLE001 - an embedding endpoint that is down: the topic's own words only
        log.warning("embedding a topic's wordings failed (%s)", exc)
        return []
    z = (cosines - cosines.mean()) / max(float(cosines.std()), 1e-6)
    ranked = [words[i] for i in np.argsort(-cosines, kind="stable") if z[i] >= tuning.kin_z]
    return [w for w in ranked if _shares_morpheme(w, morphemes)][: tuning.kin_max]


def _shares_morpheme(wording: str, morphemes: set[str]) -> bool:
    """Some word of the wording holds one of the morphemes and is no word of Chinese at large (疫情 of 疫情防控)."""
    return any(morphemes & set(word) and not at_large(word) for word, _ in pos_tags(wording))


def _rarest(word: str, within: float = 2.0) -> set[str]:
    """The word's rarest character, and any other at most `within` times as common (征 2,607 and 迁 2,901)."""
    freq = {c: max(word_frequency(c), 1) for c in word}
    return {c for c, f in freq.items() if f <= within * min(freq.values())}


def _chunk_wordings(texts: list[str], topic: str, own: list[str], snapshot: Snapshot, most: int) -> list[str]:
    """The words and pairs of adjacent words (up to 6 characters, Chinese only) at least two of the texts use,
    most over-represented in them first; none inside the topic or holding one of its own words (党建工作 for
    党建带群建 is its word in another phrase, not another wording of it)."""
    counts: Counter[str] = Counter()
    for text in texts:
        tagged = pos_tags(normalise(text))
        found = set()
        for i, (word, flag) in enumerate(tagged):
            if not _wording(word, flag):
                continue
            found.add(word)
            if i + 1 < len(tagged) and _wording(*tagged[i + 1]) and len(word + tagged[i + 1][0]) <= 6:
                found.add(word + tagged[i + 1][0])
        counts.update(found)
    n = max(len(snapshot.chunks), 1)
    lift = {
        w: (k / len(texts)) / ((snapshot.bm25.doc_freq.get(w) or k) / n)
        for w, k in counts.items()
        if k >= 2 and w not in topic and not any(c in w for c in own)
    }
    return sorted(lift, key=lambda w: (-lift[w], -counts[w], w))[:most]


def _wording(word: str, flag: str) -> bool:
    return len(word) >= 2 and flag.startswith(_WORDING_TAGS) and bool(re.fullmatch(r"[\u3400-\u9fff]+", word))


def gathered_features(
    topic: str, snapshot: Snapshot, guard: DenseGuard, fusion: Fusion = Fusion(), tuning: Tuning = TUNING
) -> TopicFeatures:
    """The topic's candidates as a pack gathers them: by its broader wording when no sentence of the documents
    speaks of the topic itself (新型城镇化, where they speak of 城镇化 only). One that some sentence does speak of
    keeps what does and a few related items (河道保洁 is not gathered as 保洁 in general; `select`)."""
    subject = _subject_of_request(topic)
    # 关于网格化管理的材料: gathered as 网格化管理, and said so (not for a question mark left off)
    if subject != topic:
        features = gathered_features(subject, snapshot, guard, fusion, tuning)
        said = re.sub(r"\W", "", subject) != re.sub(r"\W", "", topic)
        return replace(features, topic=topic, corrected=features.corrected or (subject if said else ""))
    features = topic_features(topic, snapshot, guard, fusion, tuning)
    if not features.scarce:
        return features
    subjects = _subjects(topic, lambda word: snapshot.mentions(f"《{word}》"))
    if subjects:  # 发动居民群众参与社区治理: gathered as 居民群众参与社区治理 where that names more
        by_subject = topic_features(subjects, snapshot, guard, fusion, tuning)
        if _named(by_subject) >= max(_named(features), 1):
            return replace(by_subject, topic=topic, broader=subjects)
    if all(features.related):  # no candidate names it (or none at all)
        wider = topic_features(topic, snapshot, guard, fusion, tuning, broaden=True)
        if wider.broader and wider.units:
            return wider
    return features


# how a trainer asks for material rather than what it is about: the request around the subject (请帮我整理……,
# 关于……的材料, ……方面的典型案例, ……有哪些经验做法？), the pack's own kinds (典型案例, 数据) among it
_REQUEST_LEAD = re.compile(
    r"^(?:(?:请帮我|请|帮我|给我|我想要|我想|我要)(?:找|查找|搜索|汇编|整理|收集|看看|了解)?(?:一些|一下)?)?(?:关于|围绕)?"
)
_REQUEST_TAIL = re.compile(
    r"(?:(?:方面|相关|有关|有哪些|有什么|的)+(?:典型案例|案例|经验做法|经验|做法|材料|素材|资料|内容|数据|文章|课件)"
    r"|典型案例|案例|经验做法|材料|素材|资料|课件)?(?:汇编)?[？?。！!\s]*$"
)


def _subject_of_request(topic: str) -> str:
    """The topic without the request around it (网格化管理 of 我想要网格化管理方面的典型案例, of 关于网格化管理的材料):
    those words name no subject, and the documents never use most of them. The topic as typed when less than
    two characters of Chinese would be left (典型案例 alone)."""
    subject = _REQUEST_TAIL.sub("", _REQUEST_LEAD.sub("", topic.strip()))
    subject = re.sub(r"(?:方面|相关)$", "", subject).strip()
    return subject if len(re.findall(r"[\u3400-\u9fff]", subject)) >= 2 else topic.strip()


def _reading(topic: str, snapshot: Snapshot) -> str:
    """The topic as gathered: with what its numbered abbreviations stand for, each an alternative of its own
    (一老一小服务 | 老年人 | 养老 | 儿童 | 托育), where the documents use those words; documents often spell an
    abbreviation out and name it once, if at all. Likewise the short forms of its words the documents use
    (业主委员会 | 业委会): a report names the body in full once and by its short form after."""
    used = [
        part
        for part in spelled_out(normalise(topic))
        if all(snapshot.bm25.doc_freq.get(word, 0) for word in tokenize(part))
    ]
    words = dict.fromkeys([*_alternatives(topic), *_topic_words(topic, snapshot)])
    short = [
        form
        for word in words
        for form, left_out in shortenings(word).items()
        if snapshot.bm25.doc_freq.get(form, 0) and not _names_broader(form, left_out, word, snapshot)
    ]
    return " ".join(dict.fromkeys([topic, *used, *short]))


def _initialled(topic: str, snapshot: Snapshot) -> str:
    """The topic as the documents write it when they shorten a word of it to its initials and never write the word
    (国有企业党建 → 国企党建), gathered and named so as a corrected spelling is; a two-character form alone is too often
    another word (人工 of 人才工作), so the rest of the topic must stand with it in the documents."""
    norm = normalise(topic)
    for word in _topic_words(topic, snapshot):
        form = initials(word)
        if not form or snapshot.mentions(word):
            continue
        shortened = norm.replace(word, form)
        if shortened not in (norm, form) and snapshot.mentions(shortened):
            return shortened
    return topic


def _names_broader(form: str, left_out: list[str], word: str, snapshot: Snapshot) -> bool:
    """The short form leaves out whole a word the documents use less than every word it keeps: the topic's most
    telling word, so the form names the broader thing (社区服务 of 社区|养老|服务, where 养老 is rare), not the topic
    (新群体 of 新|就业|群体 leaves out 就业, commoner than 群体; 业委会 of 业主|委员会 leaves out none)."""
    df = snapshot.bm25.doc_freq
    kept = [w for w in tokenize(form) if len(w) >= 2 and w in word]
    return any(len(w) >= 2 and df.get(w, 0) < min((df.get(k, 0) for k in kept), default=0) for w in left_out)


def _thread(view: DocView, k: int, lex: list[float], tuning: Tuning) -> tuple[tuple[int, int], list]:
    """The unit's item, carried on through the next sentences of its paragraph that stay on the topic."""
    unit = view.units[k]
    (start, end), sentences = unit.span, list(unit.sentences)
    for step in range(1, 4):
        nxt = view.neighbour(k, step)
        if nxt is None or len(sentences) >= tuning.thread_sentences:
            break
        if nxt.end <= end:
            continue
        nxt = view.seed(nxt.index)
        if nxt.span is None or nxt.span[0] != nxt.start or nxt.end - start > tuning.passage_max_chars:
            break
        if lex[nxt.index] <= 0 or not view.carries(nxt, start, end):
            break
        sentences.append((nxt.start, nxt.end))
        end = nxt.end
    return (start, end), sentences


@dataclass
class _Scored:
    unit: Unit
    score: float
    topic: str
    span: tuple[int, int] = (0, 0)
    sentences: list[tuple[int, int]] = field(default_factory=list)
    members: list[int] = field(default_factory=list)  # candidate rows (TopicFeatures order) this item holds
    related: bool = False  # of a scarce topic, it does not name it (`TopicFeatures.related`)


def select(
    features: TopicFeatures,
    weights: Iterable[float],
    threshold: float,
    max_items: int,
    join_max_chars: int | None = None,
    related_max: int | None = None,
) -> list[_Scored]:
    """The best items, at most `max_items`, best first, down to `threshold` below the topic's best score (a gap,
    so it means the same for topics whose scores sit higher or lower). An item naming the topic itself (`says`)
    is kept below the gap too: one paragraph scoring far above the rest must not cut the sentences that name the
    topic (物业 of 党建引领物业管理) while it keeps looser ones.

    A candidate overlapping an item already taken (the next sentences of the same paragraph, seeded by another
    unit) extends that item to their union when it stays within the paragraph and `join_max_chars`, so what it
    adds is kept as one excerpt instead of being dropped; it takes no slot of its own. A candidate that repeats
    an item already taken (the same report in another document) is skipped, so its slot goes to new material.
    Of a topic the documents barely name, at most `related_max` items that do not name it are taken, and only
    beside one that does."""
    if not features.units:
        return []
    join_max_chars = TUNING.join_max_chars if join_max_chars is None else join_max_chars
    related_max = TUNING.scarce_related if related_max is None else related_max
    if features.related and all(features.related):
        related_max = 0  # no candidate names the topic: nothing to be related to (篮球 and 联赛 apart)
    scores = features.matrix @ np.asarray(tuple(weights), dtype=float)
    floor = float(scores.max()) - threshold
    out: list[_Scored] = []
    for i in np.argsort(-scores, kind="stable"):
        if scores[i] < floor and not (features.says and features.says[i]):
            continue
        unit = features.units[i]
        s, e = features.spans[i]
        taken = next(
            (o for o in out if o.unit.doc_id == unit.doc_id and s < o.span[1] and o.span[0] < e), None
        )
        if taken is not None:
            _join(taken, features, int(i), join_max_chars)
            _absorb_overlapped(taken, out, join_max_chars)
            continue
        if len(out) >= max_items:
            continue  # full: later candidates may still extend an item
        text = features.texts[i] if features.texts else ""
        if text and any(_adds_nothing(features, int(i), m) for o in out for m in o.members):
            continue
        related = bool(features.related and features.related[i])
        if related and sum(o.related for o in out) >= related_max:
            continue
        out.append(
            _Scored(
                unit, float(scores[i]), features.topic, (s, e), list(features.sentences[i]), [int(i)], related
            )
        )
    return out


def _adds_nothing(features: TopicFeatures, i: int, m: int) -> bool:
    """Candidate i repeats candidate m, already taken (`repeats`), or gives only figures m gives too
    (`restates_figures`) in no more words."""
    text, taken = features.texts[i], features.texts[m]
    return repeats(text, taken) or (
        bool(features.figures)
        and len(text) <= len(taken)
        and restates_figures(features.figures[i], features.figures[m])
    )


def _join(item: _Scored, features: TopicFeatures, i: int, max_chars: int) -> None:
    """Candidate i overlaps `item`: the item grows to their union when both lie in one paragraph and the union
    is at most `max_chars`; it then cites the sentences of both, in reading order. `members` lists the
    candidates the item holds whole."""
    if _grown(item, features.spans[i], features.sentences[i], features.units[i].para, max_chars):
        item.members.append(i)


def _grown(
    item: _Scored, span: tuple[int, int], sentences: list[tuple[int, int]], para: int, max_chars: int
) -> bool:
    """The item grown to its union with an overlapping span of the same paragraph, up to `max_chars`."""
    (s, e), (start, end) = span, (min(span[0], item.span[0]), max(span[1], item.span[1]))
    if para != item.unit.para or end - start > max_chars:
        return False
    if item.span[0] <= s and e <= item.span[1]:
        return True  # already held whole
    kept: list[tuple[int, int]] = []
    for a, b in sorted({*map(tuple, item.sentences), *map(tuple, sentences)}):
        if kept and a < kept[-1][1]:  # one sentence holding another (an item trimmed at a connective)
            kept[-1] = (min(a, kept[-1][0]), max(b, kept[-1][1]))
            continue
        kept.append((a, b))
    item.span, item.sentences = (start, end), kept
    return True


def _absorb_overlapped(item: _Scored, out: list[_Scored], max_chars: int) -> None:
    """An item grown by a join may now overlap another item taken before (the sentence between them is in
    both): the two become one excerpt where they fit, so no sentence is quoted twice nor an item lost."""
    for other in [o for o in out if o is not item and o.unit.doc_id == item.unit.doc_id]:
        if other.span[0] < item.span[1] and item.span[0] < other.span[1]:
            if _grown(item, other.span, other.sentences, other.unit.para, max_chars):
                item.members += other.members
                item.related = item.related and other.related
                out.remove(other)


def build(
    topics: list[str],
    snapshot: Snapshot,
    guard: DenseGuard,
    fusion: Fusion = Fusion(),
    tuning: Tuning = TUNING,
    max_items: int | None = None,
) -> CoursePack:
    """One part per topic; an item found for several topics is filed under the one it scores best for."""
    started = time.perf_counter()
    max_items = validate_max_items(max_items if max_items is not None else tuning.max_items)
    features = {t: gathered_features(t, snapshot, guard, fusion, tuning) for t in topics}
    found: dict[str, list[_Scored]] = {
        t: select(
            f, tuning.weights, tuning.threshold, max_items, tuning.join_max_chars, tuning.scarce_related
        )
        for t, f in features.items()
    }
    # an overlapping span found for several topics: the best-scored one wins, the others note it
    claims: list[_Scored] = sorted((s for t in topics for s in found[t]), key=lambda s: -s.score)
    owners: list[tuple[_Scored, list[str]]] = []
    for s in claims:
        u = s.unit
        for owner, also in owners:
            o = owner.unit
            if o.doc_id == u.doc_id and owner.span[0] < s.span[1] and s.span[0] < owner.span[1]:
                if s.topic != owner.topic and s.topic not in also:
                    also.append(s.topic)
                break
        else:
            owners.append((s, []))
    items_by_topic: dict[str, list[PackItem]] = {t: [] for t in topics}
    for s, also in owners:
        items_by_topic[s.topic].append(_item(s, also, snapshot, tuning))
    parts = []
    for topic in topics:
        items = sorted(_dedupe_text(items_by_topic[topic]), key=lambda i: i.related)  # related ones last
        sections = [Section(kind, [i for i in items if i.kind == kind]) for kind in KINDS]
        f = features[topic]
        parts.append(
            Part(
                topic,
                sections,
                scarce=f.scarce,
                broader=f.broader,
                corrected=f.corrected,
                kin=list(f.kin),
                absent=list(f.absent),
            )
        )
    pack = numbered(pack_title(topics), topics, parts, time.strftime("%Y-%m-%d %H:%M"), 0.0)
    for part in pack.parts:
        part.lead = lead_in(part, features[part.topic].specific)
    pack.max_items = max_items
    pack.seconds = time.perf_counter() - started
    return pack


def _item(s: _Scored, also: list[str], snapshot: Snapshot, tuning: Tuning = TUNING) -> PackItem:
    doc = snapshot.documents[s.unit.doc_id]
    view = DocView.of(snapshot, s.unit.doc_id, tuning)
    start, end = s.span
    sentences = list(s.sentences)
    said = view.attribution_after(end)
    if said is not None:  # an item ending in a quotation carries who said it (“……。”某某说。)
        end = said.end
        sentences.append((said.start, said.end))
    quote = doc.text[start:end]
    planned = normative(doc) or view.in_plan(view.covering(start, start + 1).start)
    kind = "典型案例" if s.unit.case else material.classify(quote)
    if planned:
        kind = "工作举措"  # targets are no results, and what is to be done no case
    first = quote[: s.sentences[0][1] - start] if s.sentences else quote
    # who the person is: the one the first sentence names, else the one a closing attribution names (……”某某说。)
    last = sentences[-1] if sentences else (start, end)
    closing = view.text[last[0] : last[1]] if view.attribution(*last) else ""
    introduced = names.introduced_before(view, start, first) or (
        closing and names.introduced_before(view, start, closing)
    )
    return PackItem(
        kind=kind,
        doc_id=s.unit.doc_id,
        title=source_title(doc),
        source=doc.source or "",
        region=doc.region or "",
        quote=quote,
        start=start,
        end=end,
        score=s.score,
        topics=[s.topic, *also],
        sentences=sentences,
        date=doc.date or "",
        label=source_label(doc),
        context=names.named_before(view, start, first),
        introduced=introduced,
        planned=planned,
        related=s.related,
    )


def _dedupe_text(items: list[PackItem]) -> list[PackItem]:
    """The same report reprinted in two documents appears once in a part (the better-scored copy)."""
    kept: list[tuple[str, PackItem]] = []
    for item in sorted(items, key=lambda i: -i.score):
        text = squashed(item.quote)
        if not any(repeats(text, t) for t, _ in kept):
            kept.append((text, item))
    return [item for _, item in kept]


def pack_title(topics: list[str]) -> str:
    return f"课程素材：{'、'.join(topics)}"
