"""A document's sentence units for course packs: whole sentences that never cross a paragraph break, whether each
is teaching material (`coursepack_text`), and the item each seeds (itself, a case's result, the sentence a leaning
one takes along). Built when a topic first retrieves one of the document's chunks and kept by document id."""

from __future__ import annotations

import bisect
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import PurePath

from . import coursepack_kinds as material
from . import coursepack_names as names
from . import coursepack_text as ct
from .chunking import is_heading, split_sentences
from .coursepack_repeats import near_duplicate, squashed
from .coursepack_tuning import TUNING, Tuning
from .lexical import normalise
from .retrieval import Snapshot

UNCHECKED = "?"  # a unit's rejection before coursepack_text has looked at it


REPEATED = "重复"  # the sentence repeats the one before it


@dataclass
class Unit:
    doc_id: str
    index: int  # position in its document's view
    start: int
    end: int
    para: int
    heading: bool
    norm: str
    head_of: int | None  # index (in the same document) of the heading governing this sentence
    reject: str | None = UNCHECKED  # why it is no teaching material (coursepack_text.rejection)
    span: tuple[int, int] | None = None  # the item it seeds (document offsets), None when it seeds none
    sentences: list[tuple[int, int]] = field(default_factory=list)  # the cited sentences of that item
    case: bool = False  # the item is a case: a named place or unit acting, with its result
    seeded: bool = False  # span, sentences and case are decided


def title_of(doc) -> str:
    """The document's title, or lacking one its file name without the extension."""
    return (doc.title or PurePath(doc.file).stem).strip()


def has_title(doc) -> bool:
    """The document has a title that can name what it speaks of: its own, or a file name in Chinese (关于……的通知.txt),
    not a code a text without one is listed by (rgb-zh-113-01)."""
    if doc is None:
        return True
    return len(re.findall(r"[\u3400-\u9fff]", title_of(doc))) >= 2


# the kinds of documents that set out what is to be done (……实施意见, ……工作方案, ……管理办法, ……工作要点): every measure
# in them is a plan and every figure a target, not a case or a result
_NORMATIVE_TITLE = re.compile(
    r"(?:意见|通知|方案|规划|办法|规定|细则|要点|计划|纲要|决定|指引|指南)(?:[（(][^）)]*[）)])?$"
)


def normative(doc) -> bool:
    """The document's title (or, lacking one, its file name) names a kind that sets out what is to be done."""
    if doc is None:
        return False
    return bool(_NORMATIVE_TITLE.search(title_of(doc)))


def doc_text(snapshot: Snapshot, doc_id: str) -> str:
    """A document's stored text (read on demand)."""
    return snapshot.documents[doc_id].text


def sentence_spans(snapshot: Snapshot, doc_id: str, text: str) -> list[tuple[int, int]]:
    spans = getattr(snapshot, "sentence_spans", None) or {}
    return spans.get(doc_id) or split_sentences(text)


_DOC_VIEWS: OrderedDict = OrderedDict()


_DOC_VIEWS_LOCK = threading.Lock()


# documents kept, least recently used dropped (~65 KB for 5,000 characters): a topic touches at most top_n
_DOC_VIEWS_MAX = 512


# a text closing a quotation (“……。”): the sentence after it may say who spoke
_ENDS_QUOTATION = re.compile(r"[”」』]\s*$")


@dataclass
class DocView:
    """One document's sentence units, built when a topic first retrieves one of its chunks and kept by document
    id (the id is a hash of the text, so it never goes stale). Whether a unit is teaching material and which
    item it seeds are decided on first use too: a pack costs what its retrieved chunks cost, not the corpus."""

    doc_id: str
    text: str
    units: list[Unit]
    starts: list[int]
    para_units: dict[int, list[int]]
    tuning: Tuning
    titled: bool = True  # the document has a title that can name what 该片…… means (`has_title`)

    @classmethod
    def of(cls, snapshot: Snapshot, doc_id: str, tuning: Tuning = TUNING) -> DocView:
        titled = has_title(snapshot.documents.get(doc_id))
        key = (
            doc_id,
            titled,
            tuning.merge_max_chars,
            tuning.case_max_chars,
            tuning.passage_sentences,
            tuning.passage_max_chars,
        )
        with _DOC_VIEWS_LOCK:
            view = _DOC_VIEWS.get(key)
            if view is not None:
                _DOC_VIEWS.move_to_end(key)
                return view
        text = doc_text(snapshot, doc_id)
        view = cls._build(doc_id, text, sentence_spans(snapshot, doc_id, text), tuning, titled)
        with _DOC_VIEWS_LOCK:
            _DOC_VIEWS[key] = view
            while len(_DOC_VIEWS) > _DOC_VIEWS_MAX:
                _DOC_VIEWS.popitem(last=False)
        return view

    @classmethod
    def _build(
        cls, doc_id: str, text: str, spans: list[tuple[int, int]], tuning: Tuning, titled: bool = True
    ) -> DocView:
        units: list[Unit] = []
        para_units: dict[int, list[int]] = {}
        heading_at = None
        for start, end, para, heading in whole_sentences(text, spans, tuning.merge_max_chars):
            k = len(units)
            units.append(
                Unit(
                    doc_id,
                    k,
                    start,
                    end,
                    para,
                    heading,
                    unquoted(normalise(text[start:end])),
                    None if heading else heading_at,
                )
            )
            if heading:
                heading_at = k
            para_units.setdefault(para, []).append(k)
        return cls(doc_id, text, units, [u.start for u in units], para_units, tuning, titled)

    def covering(self, start: int, end: int) -> range:
        """Indices of the units overlapping [start, end)."""
        first = max(0, bisect.bisect_right(self.starts, start) - 1)
        while first < len(self.units) and self.units[first].end <= start:
            first += 1
        last = bisect.bisect_left(self.starts, end)
        return range(first, max(first, last))

    def heading_block(self, k: int) -> str:
        """The normalised heading lines governing unit k: the whole run of heading lines before its section (a
        title, its subtitle and the byline under them), not only the nearest line, which is often a byline."""
        last = self.units[k].head_of
        if last is None:
            return ""
        first = last
        while first > 0 and self.units[first - 1].heading:
            first -= 1
        return " ".join(self.units[j].norm for j in range(first, last + 1))

    def in_plan(self, k: int) -> bool:
        """Unit k lies in a plan: under a heading announcing one (……发布2024年党建工作计划) or after a sentence of
        its paragraph that does (工作计划提出，……; 下一步，……), so what it counts is a target (至少培育2名)."""
        if material.PLAN_HEADING.search(self.heading_block(k)):
            return True
        earlier = [j for j in self.para_units[self.units[k].para] if j < k]
        return any(material.PLAN_OPENING.search(self.units[j].norm) for j in earlier)

    def neighbour(self, k: int, step: int) -> Unit | None:
        """The unit `step` away in the same paragraph (never a heading)."""
        j = k + step
        if 0 <= j < len(self.units):
            u = self.units[j]
            if u.para == self.units[k].para and not u.heading:
                return u
        return None

    def rejected(self, k: int) -> str | None:
        """Why unit k is no teaching material (None when it is), decided once."""
        unit = self.units[k]
        if unit.reject == UNCHECKED:
            paragraph = self.para_units[unit.para]
            alone = len(paragraph) == 1
            # the paragraph before it is prose (two sentences or more), not one line of a list of short ones
            after_prose = len(self.para_units.get(unit.para - 1, ())) >= 2
            nxt = self.neighbour(k, 1)
            sentences = [self.text[self.units[j].start : self.units[j].end] for j in paragraph]
            captioned = (
                ct.caption_paragraph(sentences)
                or ct.gallery(sentences)
                or (nxt is not None and ct.credits_photo(self.text[nxt.start : nxt.end]))
            )
            prev = self.neighbour(k, -1)
            after_quote = prev is not None and bool(_ENDS_QUOTATION.search(self.text[prev.start : prev.end]))
            sentence = self.text[unit.start : unit.end]
            unit.reject = ct.rejection(
                sentence,
                alone=alone,
                after_prose=after_prose,
                heading=unit.heading,
                after_quote=after_quote,
                captioned=captioned,
                opens_text=k == 0,
                # the paragraph's text before it: one search, not a list of its sentences per unit
                after_end=ct.ends_article(self.text[self.units[paragraph[0]].start : unit.start]),
            ) or (REPEATED if prev is not None and self._repeats(prev, unit) else None)
            # one of a run of short exclamations (……疯狂扫射!现场惨绝人寰 巨星惊传婚变,……偷吃3名嫩妹!): a page's list
            # of headlines, or a rally's calls — no teaching material
            if (
                not unit.reject
                and ct.exclaims(sentence, ct.HEADLINE_MAX)
                and any(ct.exclaims(self.text[u.start : u.end]) for u in (prev, nxt) if u is not None)
            ):
                unit.reject = ct.WEB_DEBRIS
            # the next numbered note under a table's (注： 1.此表中部分数据因四舍五入…… 2.北京……等省（市）……未列出)
            if (
                not unit.reject
                and prev is not None
                and ct.numbered(sentence)
                and self.rejected(prev.index) in (ct.TABLE_PIECE, ct.NOTE)
            ):
                unit.reject = ct.TABLE_PIECE
        return unit.reject

    def attribution(self, start: int, end: int) -> bool:
        """text[start:end] is a sentence saying who spoke the quotation before it (……”某某说。)."""
        k = self.covering(start, end).start
        return k < len(self.units) and self.rejected(k) == ct.SAID_BY

    def attribution_after(self, end: int) -> Unit | None:
        """The sentence saying who spoke the quotation text ending at `end` closes (“……。”某某说。), if it follows
        in the same paragraph: without it the quotation is nobody's words."""
        if not _ENDS_QUOTATION.search(self.text[max(0, end - 8) : end]):
            return None
        ending = self.covering(end - 1, end)  # the unit the text ends in
        nxt = self.neighbour(ending.start, 1) if ending else None
        return nxt if nxt is not None and self.rejected(nxt.index) == ct.SAID_BY else None

    def carries(self, nxt: Unit, start: int, end: int) -> bool:
        """The next sentence can run on the item text[start:end]: teaching material that starts no new section
        (四、总结：……) nor the list's next entry (`ct.next_entry`) and does not report again a figure the item holds
        (`restates_figure`)."""
        sentence = self.text[nxt.start : nxt.end]
        return (
            not self.rejected(nxt.index)
            and not ct.opens_section(sentence)
            and not ct.next_entry(sentence, self.text[start:end])
            and not restates_figure(sentence, self.text[start:end])
        )

    def _repeats(self, prev: Unit, unit: Unit) -> bool:
        """The sentence says again what the one before it said (a page that prints a sentence twice: 报告指出，
        ……。报告指出，……。): an item carrying both would read garbled."""
        this = squashed(self.text[unit.start : unit.end])
        return len(this) >= 8 and near_duplicate(this, squashed(self.text[prev.start : prev.end]))

    def seed(self, k: int) -> Unit:
        """Unit k with the item it seeds decided (`span` None when it seeds none)."""
        unit = self.units[k]
        if not unit.seeded:  # two threads may both decide it: the same answer, written before the flag
            if not self.rejected(k):
                self._decide_item(unit)
            unit.seeded = True
        return unit

    def _leans(self, sentence: str) -> bool:
        """The sentence is material only with the one before it (这是……); in a text without a title of its own (a
        snippet) also when a demonstrative says what it means only through it (该片……, 文件规定……)."""
        return ct.anaphoric(sentence) or (not self.titled and ct.demonstrative(sentence))

    def _decide_item(self, unit: Unit) -> None:
        """The item a teaching-material unit seeds: itself (from its content on), with the sentence it leans on
        (这是……; 同时，依托…… past a connective without a subject) or the question it answers, a quotation with the
        sentence after it (who said it, or whose words they are), for a case the result its paragraph reports right
        after it, up to `passage_sentences`."""
        text, tuning, k = self.text, self.tuning, unit.index
        seed = text[unit.start : unit.end]
        start = unit.start + ct.trim_offset(seed)
        sentences = [(start, unit.end)]
        prev = self.neighbour(k, -1)
        before = text[prev.start : prev.end] if prev is not None else ""
        why_not = self.rejected(prev.index) if prev is not None else None
        usable = prev is not None and why_not is None and not self._leans(before)
        # ……各不相同，如何破解？某区给出答案——…… reads with the question; a one-clause question is a headline run into
        # the report (M2芯片露面将助苹果“去intel化”？对于苹果而言，……), which it does not answer
        answers = why_not == ct.QUESTION and bool(re.search(r"[，,]", before))
        leans = self._leans(seed)
        if leans and not (usable or answers):
            return  # 这是…… without the sentence it points at says nothing
        if answers or (usable and (leans or leans_on_connective(seed, before))):
            if ct.run_in(seed):
                return  # 据悉，……多为流浪狗 “……”: read with the one before, the line run into it would show
            start = prev.start + ct.trim_offset(before)
            # its connective stays, what the layout ran into it goes (……头版头条。 （某地事故现场） 当天，……)
            second = unit.start + ct.trim_offset(seed, layout_only=True)
            asked, answered = (ct.turn_label(before), ct.turn_label(seed)) if answers else (None, None)
            if asked is not None and answered is not None:  # 问：……？ 答：……
                start, second = prev.start + asked, unit.start + answered
            sentences = [(start, prev.end), (second, unit.end)]
        end = unit.end
        nxt = self.neighbour(k, 1)
        # a quotation with who said it (“……。”某某说。) or, when no one is said to speak, the next sentence, which
        # says whose words they are (“我是这个网格的负责人……”刘奶奶是……网格党支部书记李璐的联系户……)
        if (
            ct.quotation(seed)
            and nxt is not None
            and (
                self.rejected(nxt.index) == ct.SAID_BY
                or (self.carries(nxt, start, end) and nxt.end - start <= tuning.case_max_chars)
            )
        ):
            sentences.append((nxt.start, nxt.end))
            end = nxt.end
        case = material.classify(text[start:end]) == "典型案例"
        if case:  # who and what; the result the same paragraph reports right after it, if any
            for step in (1, 2):
                nxt = self.neighbour(k, step)
                if (
                    nxt is None
                    or not self.carries(nxt, start, end)
                    or nxt.end - start > tuning.case_max_chars
                ):
                    break
                if material.is_result(text[nxt.start : nxt.end]):
                    between = [self.neighbour(k, j) for j in range(1, step + 1)]
                    sentences += [(u.start, u.end) for u in between]
                    end = nxt.end
                    break
        step = 1
        while len(sentences) < tuning.passage_sentences:  # the sentences that carry the thread on
            nxt = self.neighbour(k, step)
            step += 1
            if nxt is None or not self.carries(nxt, start, end) or nxt.end - start > tuning.passage_max_chars:
                break
            if nxt.end <= end:
                continue
            sentences.append((nxt.start, nxt.end))
            end = nxt.end
        unit.span, unit.sentences, unit.case = (start, end), sentences, case


def restates_figure(sentence: str, held: str, least: int = 8) -> bool:
    """A clause of the sentence that reports a figure is already in the text held: a page printing its summary line
    and then the report (全国机动车保有量达4.17亿辆。……截至2022年底，全国机动车保有量达4.17亿辆，……), or a
    subheading run into the text. An item carrying both reads garbled, so it stops before the repetition."""
    text = squashed(held)
    return any(
        len(c) >= least and re.search(r"\d", c) and c in text
        for c in map(squashed, re.split(r"[，,。；;：:！!？?]", sentence))
    )


def leans_on_connective(sentence: str, before: str) -> bool:
    """Past its connective the sentence has no subject (同时，依托党群服务中心……; 为此，将加强……), or it counts a part
    of what `before` counted (其中，……, `ct.counts_a_part`): its subject, or its year and whole, is in the sentence the
    connective links it to, so it reads only with that one (which the item then takes along)."""
    if not ct.connected(sentence):
        return False
    return names.omits_subject(ct.past_linking_adverb(sentence)) or ct.counts_a_part(sentence, before)


_EMPHASIS = re.compile(r"[“‘\"「]([\u3400-\u9fff])[”’\"」]")


def unquoted(norm: str) -> str:
    """The text with one character quoted for emphasis read plain (能“上”能“下” is 能上能下, “下”的干部 下的干部): the
    topic's words are found in it. A quoted name of two characters or more (“两委”) stays quoted (`_programme`)."""
    return _EMPHASIS.sub(r"\1", norm)


_ENTRY_LABEL = re.compile(r"\d{1,3}\s*[：:](?!\d)")  # 17：…… , not a time (18:30)


def whole_sentences(text: str, spans: list[tuple[int, int]], max_chars: int):
    """Sentence spans joined back where the splitter cut at its length limit or inside a quotation, never
    across a line break (a paragraph of the stored text).

    Yields (start, end, paragraph number, is_heading). A piece that does not end a sentence, or leaves a
    quotation open, continues into the next piece of the same line up to `max_chars`.
    """
    current = None
    para = 0
    for span in spans:
        heading = is_heading(text, span)
        if current is not None:
            cs, ce, cpara, cheading = current
            gap = text[ce : span[0]]
            # a numbered entry of a list the page ran into one line (…… 17：阿根廷队在决赛中……) opens a paragraph
            same_line = "\n" not in gap and not (gap.isspace() and _ENTRY_LABEL.match(text, span[0]))
            piece = text[cs:ce]
            # a quotation left open runs on; a title the source leaves open (《好好说话改了档期) does not
            open_quote = ct.open_quotation(piece, titles=False)
            if (
                same_line
                and not cheading
                and not heading
                and (not ct.TERMINAL.search(piece) or open_quote)
                and span[1] - cs <= max_chars
            ):
                current = (cs, span[1], cpara, cheading)
                continue
            yield current
            if not same_line:
                para += 1
        current = (span[0], span[1], para, heading)
    if current is not None:
        yield current
