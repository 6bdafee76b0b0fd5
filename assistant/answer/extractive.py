"""Extractive answers: the best supporting sentences of the retrieved chunks, verbatim, each with [n].

No model writes anything here, so every word of an answer is a slice of a stored document. Candidate sentences
are described by measured signals (`signals`), scored by the fitted sentence model and the answer's confidence
by the fitted confidence model (`model`); below the fitted threshold the reply is 资料中未找到. Rules that remain
here are about building the reply: which further sentences to cite, and naming the unit a sentence only
refers to.
"""

from __future__ import annotations

import re

import numpy as np

from .. import ner
from ..chunking import is_heading
from ..coursepack_text import photo_credit
from ..lexical import normalise, quoted_phrases
from ..punctuation import TRAILING_PUNCTUATION
from ..retrieval import Hit, Snapshot, StoredDocument
from ..textindex import without_marks
from .citations import REFUSAL_PREFIX, Answer, Citation, nearest_passages_note, with_marker
from .conversation import MEASURE_SENTENCE, RESULT_SENTENCE, FollowUp
from .model import CONFIDENCE_FEATURES, AnswerModel, load
from .question import (
    NUMERAL,
    TYPED,
    Question,
    analyse,
    compared_names,
    count_value,
    coverage,
    days_named,
    name_in,
    parts_asked,
    speaks_of,
)
from .signals import (
    ASKED_UNIT,
    ASKED_WHO_SAID,
    Candidate,
    answer_type,
    candidates,
    dense_down,
    names_elsewhere,
    names_unit,
    rare_missing,
    spells_out,
)

# sentence scores closer than this are a tie, which the sentence saying more of what is asked wins (`_says_more`)
TIE = 0.005


def rank(q: Question, cands: list[Candidate], model: AnswerModel) -> list[Candidate]:
    """Best first, each sentence once: chunks overlap, and a sentence two retrieved chunks hold would be its
    own runner-up, leaving the confidence no margin to see. Of two sentences tied (`TIE`), the one holding more of
    the question goes first (开心帮帮团 asked alone: the sentence naming it, not the one before it)."""
    for c in cands:
        c.score = model.sentence_score(c.x)
    seen: set[tuple[str, tuple[int, int]]] = set()
    out = []
    for c in sorted(cands, key=lambda c: -c.score):
        key = (c.hit.chunk.doc_id, c.span)
        if key not in seen:
            seen.add(key)
            out.append(c)
    for i in range(1, len(out)):
        above, below = out[i - 1], out[i]
        if above.score - below.score < TIE and _says_more(below) > _says_more(above):
            out[i - 1], out[i] = below, above
    return out


def _says_more(c: Candidate) -> tuple[float, float]:
    """What breaks a tie: the asked kind of answer in a clause about what is asked, then the question's words."""
    return c.feature("type_near"), c.feature("cov_sentence")


def confidence_features(q: Question, ranked: list[Candidate], hits: list[Hit]) -> np.ndarray:
    if not ranked:
        return np.zeros(len(CONFIDENCE_FEATURES))
    best = ranked[0]
    second = ranked[1].score if len(ranked) > 1 else 0.0
    values = {
        "best": best.score,
        "margin": best.score - second,
        "type_ok": best.feature("type_ok"),
        "type_near": best.feature("type_near"),
        "type_other": best.feature("type_other"),
        "typed": float(q.kind in TYPED),
        "ent_missing_doc": best.feature("ent_missing_doc"),
        "rare_missing_doc": best.feature("rare_missing_doc"),
        "ent_paragraph": best.feature("ent_paragraph"),
        "rare_missing": best.feature("rare_missing"),
        "rare_absent": min((rare_missing(q, normalise(h.text)) for h in hits), default=1.0),
        "focus_sentence": best.feature("focus_sentence"),
        "near_any": max(c.feature("type_near") for c in ranked[:3]),
        "near_on_subject": max(
            c.feature("type_near") * (1.0 - c.feature("ent_missing_doc")) for c in ranked[:3]
        ),
        "cov_sentence": best.feature("cov_sentence"),
        "cov_paragraph": best.feature("cov_paragraph"),
        "cov_document": best.feature("cov_document"),
        "year_absent_doc": float(year_absent(q, best.hit.doc)),
        "cosine": np.nan if dense_down(hits) else max((max(h.cosine, 0.0) for h in hits), default=0.0),
        "fused": best.feature("fused"),
    }
    return np.array([values[f] for f in CONFIDENCE_FEATURES])


def year_absent(q: Question, doc: StoredDocument) -> bool:
    """The question is about a year (2022年…) or a day (1月3日) that the document (its text, title and date) never
    mentions: it tells of another time."""
    if q.years and not any(y in doc.text or y in doc.title or y in doc.date for y in q.years):
        return True
    return bool(q.days) and not set(q.days) & set(days_named(" ".join((doc.text, doc.title, doc.date))))


def select_support(
    q: Question, ranked: list[Candidate], model: AnswerModel, snapshot: Snapshot
) -> list[Candidate]:
    """The best sentence, then sentences nearly as good that add question terms it lacks, another document's
    account, or (lists) another item of the enumeration. A fact question's support is about the same thing."""
    best = ranked[0]
    chosen = [best]
    covered = {t for t in q.terms if t in normalise(best.text)}
    limit = model.max_support + (2 if q.kind in ("list", "howto") else 0)
    # a fact asked about one thing (骑手党支部叫啥名) is backed only by sentences about that thing: they hold the
    # question's most specific word the best sentence holds (骑手), not just a common one (党支部)
    # (in the question's order: a tie between equally rare words must not depend on a set's hash order)
    key = max((t for t in q.terms if t in covered), key=lambda t: q.weights.get(t, 0.0), default="")
    for cand in ranked[1:]:
        if len(chosen) >= limit or cand.score < model.support_ratio * best.score:
            break
        if any(_overlaps(cand, c) for c in chosen):
            continue
        if q.kind in TYPED and not (cand.feature("type_ok") and key in normalise(cand.text)):
            continue
        new_terms = {t for t in q.terms if t in normalise(cand.text)} - covered
        other_doc = all(cand.hit.chunk.doc_id != c.hit.chunk.doc_id for c in chosen)
        # a question asking nothing in particular (渔安街道 社区车间) is told the best sentence's paragraph, or,
        # when that is a heading (弘扬“挑夫”精神 夯实党建基础), what the body says of it
        told = (
            q.kind == "other"
            and (_same_paragraph(cand, best) or best.feature("heading") > 0)
            and not photo_credit(cand.text)
        )
        if new_terms or other_doc or told or q.kind in ("list", "howto"):
            chosen.append(cand)
            covered |= new_terms
    if (
        q.kind == "other"
        and best.feature("heading")
        and any(covered <= {t for t in q.terms if t in normalise(c.text)} for c in chosen[1:])
    ):
        chosen = chosen[1:]  # a body sentence says all the heading does, and more
    chosen = _each_named_subject(q, ranked, chosen)
    if q.kind == "list":
        chosen = _expand_parallel(q, best, chosen, snapshot)
    elif q.kind == "howto":
        item = next((c for c in chosen if _an_item(c, snapshot)), None)
        if item is not None:  # the measures are an enumeration (实施“…”行动 ×5): it is the answer
            chosen = _expand_parallel(q, item, chosen, snapshot)
        else:
            under = _under_heading(best, chosen, snapshot)
            chosen = under if under is not chosen else _with_their_results(chosen, snapshot)
    return _with_speaker(q, _with_named_antecedent(q, chosen, snapshot), snapshot)


def beyond_documents(q: Question, best: Candidate, snapshot: Snapshot) -> bool:
    """What is asked lies outside the documents, however close the best sentence reads: the question names a
    place, unit or quoted name no document mentions (六盘水钟山区), or a year while the best sentence speaks of
    other years only (2021年排第几 answered by 2020年……第二名), or the best sentence's document names none of the
    places and units asked about while another document does (青龙山街道的产值 read in 㮾梨街道's report). No
    answerable dev question does any of them; on the natural sets the last refuses near misses only."""
    if q.unknown or best.feature("year_conflict") > 0:
        return True
    return names_elsewhere(q, best.hit.doc, snapshot)


def sides_answered(q: Question, ranked: list[Candidate]) -> bool:
    """A comparison asking a figure (双龙航空港和观山湖区……各是多少个) of which every side has one, in a clause about
    what is asked, in a sentence naming that side, or naming no other side in a document about it: the answer is
    there, side by side, however unsure the confidence (learnt on one best sentence, which tells of one side only)
    reads."""
    names = compared_names(q)
    if q.kind not in TYPED or len(names) < 2:
        return False

    def tells_of(name: str, c: Candidate) -> bool:
        text = normalise(c.text)
        if name_in(name, text):
            return True
        return speaks_of(name, c.hit.doc) and not any(name_in(n, text) for n in names if n != name)

    return all(any(c.feature("type_near") and tells_of(name, c) for c in ranked) for name in names)


def quotation_attributed(q: Question, ranked: list[Candidate], snapshot: Snapshot) -> list[Candidate]:
    """Asked who said a quotation the question quotes (“磨破嘴皮、踏破脚皮……”这句话是谁说的): the sentence holding its
    words, whatever the marks between them, and the one right after it saying who spoke (这是……林安海的肺腑之言。)
    are the answer, however unsure the confidence reads (learnt on one best sentence, which holds either the words
    or the name). Empty when there is no such pair."""
    if not ASKED_WHO_SAID.search(q.text):
        return []
    asked = [without_marks(normalise(p)) for p in quoted_phrases(q.text)]
    asked = [p for p in asked if len(p) >= 4]
    for cand in ranked:
        if any(p in without_marks(normalise(cand.text)) for p in asked):
            chosen = _with_speaker(q, [cand], snapshot)
            return chosen if len(chosen) > 1 else []
    return []


# a way to reach someone asked for (订餐电话多少, 有没有咨询电话, 邮箱是什么): not 电话会议 or a hotline's caseload
_ASKS_CONTACT = re.compile(
    r"(?:电话|手机号|联系方式|邮箱|网址|微信号)(?!会议|访谈|采访|回访|调查|受理|接听|打进|量)"
)
# a phone number, an e-mail or a web address as written
_CONTACT = re.compile(r"\d[\d\-－ ]{3,}\d|[\w.]+@[\w.]+|https?://|www\.")


def contact_missing(q: Question, chosen: list[Candidate]) -> bool:
    """Asked a way to reach someone (金元社区食堂的订餐电话多少) and answered by no sentence holding one: the
    documents give the canteen's prices, not its number, which no other sentence can stand in for."""
    return bool(_ASKS_CONTACT.search(q.text)) and not any(_CONTACT.search(c.text) for c in chosen)


def parts_missing(q: Question, chosen: list[Candidate]) -> bool:
    """A question asking the parts of a scheme named by a count (“三张清单”是哪三张) whose reply neither spells them
    out after the count (即/包括/a colon, then its parts) nor lists them as parallel sentences: the documents only
    mention the scheme (通过完善“三张清单”,以及组织联建、信息联通……), and that is no answer."""
    count = parts_asked(q.text)
    if not count:
        return False
    if any(spells_out(count, c.text)[1] or _listed_at(count, c.text) for c in chosen):
        return False
    signatures = [_signature(c.text) for c in chosen]
    return not any(sig and signatures.count(sig) >= 2 for sig in signatures)


_COUNT = re.compile(f"({NUMERAL.pattern})\\s*(?=[个张项条种类点家所座处位名支批])")  # 3个, not 四大
_MEMBER = r"[^，,。；;：:、\s]{2,24}"
# the members of a counted set written before its number (原红新六好院落、原新岭法院宿舍、原百花天合花园3个院落),
# or introduced after it in the same sentence (升级6个示范点，对红旗居、梯青塔、……、塔山居支部……; not ……四个年行动,
# 持续开展产业提升、建设提速……, nor ……“三张清单”,以及组织联建、信息联通……: other things)
_LISTED_BEFORE = re.compile(f"({_MEMBER}(?:、{_MEMBER})+)\\s*$")
_LISTED_AFTER = re.compile(
    f"^[^。；;]{{0,30}}?(?:[，,]\\s*(?:对|即|为|是|有|包括)|[：:]|即|包括)({_MEMBER}(?:、{_MEMBER})+)"
)


def _listed_at(count: str, sentence: str) -> bool:
    """The sentence names the members of the counted set: as many as it counts (or some, then 等) right before
    its number, or exactly as many introduced after it; not a figure alone (物业企业7个) nor other things beside
    it."""
    value = count_value(NUMERAL.match(count).group(0))
    if value is None:
        return False
    for m in _COUNT.finditer(sentence):
        if count_value(m.group(1)) != value:
            continue
        before = _LISTED_BEFORE.search(sentence[: m.start()])
        if before and (before.group(1).endswith("等") or before.group(1).count("、") + 1 == value):
            return True
        after = _LISTED_AFTER.search(sentence[m.end() :])
        if after and after.group(1).count("、") + 1 == value:
            return True
    return False


def _each_named_subject(q: Question, ranked: list[Candidate], chosen: list[Candidate]) -> list[Candidate]:
    """A question comparing named places or units (乌当区和观山湖区……各是啥情况) gets, for each one no chosen
    sentence names, the best sentence that names it — or else one of a document about it (a report on one
    street gives its figure as 街道建成59处……) —, of the asked kind (a figure) where there is one: a comparison
    answered for one side only is no answer."""
    for name in compared_names(q):
        if any(name_in(name, normalise(c.text)) for c in chosen):
            continue
        sides = [
            c
            for c in ranked
            if (name_in(name, normalise(c.text)) or speaks_of(name, c.hit.doc))
            and not any(_overlaps(c, k) for k in chosen)
        ]
        typed = [c for c in sides if c.feature("type_ok")] if q.kind in TYPED else []
        side = next(iter(typed + sides), None)
        if side is not None:
            chosen.append(side)
    return chosen


def _same_paragraph(a: Candidate, b: Candidate) -> bool:
    return a.hit.chunk.doc_id == b.hit.chunk.doc_id and a.paragraph == b.paragraph


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.hit.chunk.doc_id == b.hit.chunk.doc_id and a.span[0] < b.span[1] and b.span[0] < a.span[1]


# who a sentence speaks of without naming them (两人夺得了冠军, 她当选……; not 其他)
_PERSON_PRONOUN = re.compile(r"两人|二人|(?<!其)他们?|(?<!其)她们?")


def _with_named_antecedent(q: Question, chosen: list[Candidate], snapshot: Snapshot) -> list[Candidate]:
    """“哪个小区……” answered by a sentence that only says “小区”, or who answered by one that only says 两人 or 她:
    add the sentence just before it, in its paragraph, that names the place or the person."""
    best = chosen[0]
    m = ASKED_UNIT.search(q.text)
    if m and not names_unit(best.text, m.group(1)):
        names = lambda sentence: names_unit(sentence, m.group(1))  # noqa: E731
        resolved, reach = (lambda sentence: True), 2  # noqa: E731
    elif q.kind == "person" and _PERSON_PRONOUN.search(best.text) and not ner.entities(best.text, ("PER",)):
        names = lambda sentence: bool(ner.entities(sentence, ("PER",)))  # noqa: E731
        # 她和赵宏博…… names one of 两人: the one 她 is, named further back, is added too
        resolved, reach = (lambda sentence: not _PERSON_PRONOUN.search(sentence)), 3  # noqa: E731
    else:
        return chosen
    spans, index = _place_in_document(snapshot, best)
    text = best.hit.doc.text
    added: list[Candidate] = []
    for sp in reversed(spans[max(0, (index or 0) - reach) : index or 0]):
        if "\n\n" in text[sp[1] : best.span[0]]:
            break  # only within the same paragraph
        sentence = text[sp[0] : sp[1]]
        chunk = snapshot.chunk_holding(best.hit.chunk.doc_id, sp)
        if names(sentence) and chunk is not None and all(c.span != sp for c in chosen):
            added.insert(0, _companion(snapshot, best, chunk, sp))
            if resolved(sentence):
                break
    return [*added, *chosen]


# a sentence saying who spoke the quotation before it (……。”某某感慨地说。 / 这是某某的肺腑之言。)
_ATTRIBUTION = re.compile(r"(?:说|表示|介绍|坦言|之言|指出)[。！!）)\s（(\w]*$")
_QUOTE_ENDS = re.compile(r"[”」』][。！!？?]?\s*$|[。！!？?][”」』]\s*$")
ATTRIBUTION_MAX = 50
# who, asked beside something else (他叫什么，原话怎么说的？ asks how, and who)
_ASKS_WHO = re.compile(r"谁|哪位|叫什么|叫啥|什么名字")


def _with_speaker(q: Question, chosen: list[Candidate], snapshot: Snapshot) -> list[Candidate]:
    """Asked who said something (or who, beside how: 他叫什么，原话怎么说的), and answered by the quotation: add the
    sentence right after it that says who spoke it (“……贡献全街道力量。”谈及……,街道党工委书记张登武表示。)."""
    best = chosen[0]
    if not (q.kind == "person" or _ASKS_WHO.search(q.text)) or not _QUOTE_ENDS.search(best.text):
        return chosen
    spans, index = _place_in_document(snapshot, best)
    if index is None or index + 1 >= len(spans):
        return chosen
    sp = spans[index + 1]
    text = best.hit.doc.text
    sentence = text[sp[0] : sp[1]].strip()
    chunk = snapshot.chunk_holding(best.hit.chunk.doc_id, sp)
    if (
        "\n\n" in text[best.span[1] : sp[0]]
        or len(sentence) > ATTRIBUTION_MAX
        or not _ATTRIBUTION.search(sentence)
        or chunk is None
        or any(c.span == sp for c in chosen)
    ):
        return chosen
    return [best, _companion(snapshot, best, chunk, sp), *chosen[1:]]


_TEMPLATE = re.compile(r"“[^”]{1,16}”")


def _signature(sentence: str) -> str:
    head = sentence[:12]
    return _TEMPLATE.sub("“”", sentence)[:8] if _TEMPLATE.search(head) else ""


def _expand_parallel(
    q: Question, best: Candidate, chosen: list[Candidate], snapshot: Snapshot, limit: int = 8
) -> list[Candidate]:
    """A list answered by parallel sentences (实施“强基固本”行动。实施“骨干培育”行动。…) from the best one on, or
    from the item whose paragraph it continues (at most 3 sentences before it): those the best sentence is one of
    (通过实施“头雁锻造”计划……), else the largest group whose shared wording holds a question word (五项行动 → 行动);
    parallel sentences about something else (通过实施“…”计划 under 五项行动) are another list."""
    groups = _parallel_groups(best, snapshot)
    if groups is None:
        return chosen
    own = _signature(best.text)
    if (
        len(groups.get(own, [])) >= 3
    ):  # the best sentence is an item of the enumeration: that is the list asked for
        signature, members = own, groups[own]
    else:
        signature, members = max(groups.items(), key=lambda g: len(g[1]), default=("", []))
        if len(members) < 3 or not any(len(t) >= 2 and t in normalise(signature) for t in q.terms):
            return chosen
    out = [best]  # the enumeration is the answer: the other sentences chosen only pad it
    for sp in members[:limit]:
        if sp != best.span:
            chunk = snapshot.chunk_holding(best.hit.chunk.doc_id, sp)
            if chunk is not None:
                out.append(_companion(snapshot, best, chunk, sp))
    return out


def _parallel_groups(c: Candidate, snapshot: Snapshot) -> dict[str, list[tuple[int, int]]] | None:
    """The sentences from 3 before `c` on (an item's paragraph may run on), grouped by their shared wording
    (`_signature`); None when `c` is not a whole sentence of its document."""
    spans, index = _place_in_document(snapshot, c)
    if index is None:
        return None
    text = c.hit.doc.text
    groups: dict[str, list[tuple[int, int]]] = {}
    for sp in spans[max(0, index - 3) : index + 40]:
        sig = _signature(text[sp[0] : sp[1]])
        if sig:
            groups.setdefault(sig, []).append(sp)
    return groups


def _an_item(c: Candidate, snapshot: Snapshot) -> bool:
    """`c` is one of at least three parallel sentences (实施“强基固本”行动。……实施“骨干培育”行动。……)."""
    sig = _signature(c.text)
    return bool(sig) and len((_parallel_groups(c, snapshot) or {}).get(sig, [])) >= 3


def _under_heading(
    best: Candidate, chosen: list[Candidate], snapshot: Snapshot, most: int = 6, short: int = 150
) -> list[Candidate]:
    """A how-to whose best sentence is a heading (……构建“区—街道—社区”三级联动治理体系, 创新治理模式) is answered by
    the section under it: the heading names the measure, its paragraphs say how (区委……坐镇指挥; 街道……“一分为三”;
    社区……成立“共治委员会联络站”). Each paragraph up to the next heading, at most `most`, whole when at most `short`
    characters, else its first sentence."""
    if not best.feature("heading"):
        return chosen
    text = best.hit.doc.text
    spans, index = _place_in_document(snapshot, best)
    if index is None or not is_heading(text, best.span):
        return chosen  # a short sentence within a paragraph
    out, paragraph, taken = [best], -1, 0
    for sp in spans[index + 1 : index + 1 + 4 * most]:
        if is_heading(text, sp):
            if taken:
                break  # the next section
            continue  # a subtitle or byline under the heading (□ 陈珏 曾平)
        start = text.rfind("\n", 0, sp[0])
        end = text.find("\n", sp[1])
        end = len(text) if end < 0 else end
        if start != paragraph:
            paragraph, taken = start, taken + 1
            if taken > most:
                break
        elif end - start > short:
            continue  # a long paragraph: its first sentence says what it does
        chunk = snapshot.chunk_holding(best.hit.chunk.doc_id, sp)
        if chunk is not None:
            out.append(_companion(snapshot, best, chunk, sp))
    return out if len(out) > 1 else chosen


def _with_their_results(chosen: list[Candidate], snapshot: Snapshot) -> list[Candidate]:
    """A how-to's measure carries its result when the next sentence of its paragraph gives it in figures
    (……积极投入到各自包保服务的企业、项目走访工作中。截至目前，完成领导干部走访任务共计6618次……): how it was done
    is told by what it achieved."""
    out: list[Candidate] = []
    for c in chosen:
        out.append(c)
        spans, index = _place_in_document(snapshot, c)
        if index is None or index + 1 >= len(spans):
            continue
        text, following = c.hit.doc.text, spans[index + 1]
        sentence = text[following[0] : following[1]]
        if "\n" in text[c.span[1] : following[0]] or not (
            re.search(r"\d", sentence) and RESULT_SENTENCE.search(sentence)
        ):
            continue  # another paragraph, or no result in figures
        if any(o.hit.chunk.doc_id == c.hit.chunk.doc_id and o.span == following for o in [*chosen, *out]):
            continue
        chunk = snapshot.chunk_holding(c.hit.chunk.doc_id, following)
        if chunk is not None:
            out.append(_companion(snapshot, c, chunk, following))
    return out


def _place_in_document(snapshot: Snapshot, best: Candidate) -> tuple[list[tuple[int, int]], int | None]:
    """The sentence spans of the best sentence's document and its index among them (None: not a whole one)."""
    spans = snapshot.sentence_spans[best.hit.chunk.doc_id]
    return spans, next((i for i, sp in enumerate(spans) if sp == best.span), None)


def _companion(snapshot: Snapshot, best: Candidate, chunk, span: tuple[int, int]) -> Candidate:
    """A sentence cited alongside the best one, from whichever chunk of its document holds it."""
    hit = Hit(
        chunk=chunk,
        doc=best.hit.doc,
        text=snapshot.text_of(chunk),
        score=best.hit.score,
        cosine=best.hit.cosine,
    )
    text = best.hit.doc.text
    return Candidate(hit, best.rank, span, text[span[0] : span[1]], best.paragraph, best.x, best.score)


def build_citations(chosen: list[Candidate]) -> list[Citation]:
    return [Citation.from_hit(n, c.hit, c.span) for n, c in enumerate(chosen, start=1)]


def refusal(q: Question, hits: list[Hit], snapshot: Snapshot, confidence: float, top_n: int = 3) -> Answer:
    """资料中未找到……, with the nearest passages cited so the user can judge for themselves."""
    citations, seen = [], set()
    for hit in hits[:top_n]:
        sentences = [(sp, hit.doc.text[sp[0] : sp[1]]) for sp in snapshot.sentences_in(hit.chunk)]
        span = (
            max(sentences, key=lambda x: coverage(q, x[1]))[0]
            if sentences
            else (hit.chunk.start, hit.chunk.end)
        )
        if (hit.chunk.doc_id, span) not in seen:  # overlapping chunks: one passage cited once
            seen.add((hit.chunk.doc_id, span))
            citations.append(Citation.from_hit(len(citations) + 1, hit, span))
    # a name no document mentions is the plainest reason to give (六盘水钟山区……: 资料中没有提到“六盘水”“钟山区”)
    unmentioned = "".join(f"“{name}”" for name in q.unknown)
    reason = f"（资料中没有提到{unmentioned}）" if unmentioned else ""
    text = f"{REFUSAL_PREFIX}能够直接回答该问题的内容{reason}。" + nearest_passages_note(citations)
    return Answer(text, False, "extractive", citations, query=q.text, confidence=confidence)


# ---- follow-ups ("那它的具体做法呢？"): new sentences about the conversation's subject

_NEAR_AFTER = 8  # sentences after the previous answer's that still continue its account
_FOLLOW_UP_SENTENCES = 4
FOLLOW_UP_MIN_COVERAGE = 0.2  # an open follow-up's own words in the answer's paragraph


def rescore_follow_up(
    own: Question, follow: FollowUp, scored: list[Candidate], snapshot: Snapshot
) -> list[Candidate]:
    """Sentences the previous answer did not quote, ranked by how well they continue it: about the same
    subject, soon after the quoted sentence, of the kind asked for (measures, results, a named unit),
    matching the follow-up's own words. The first question's words count for less than in a fresh question
    (it was answered already), and checks of kind (a figure, a date) follow the follow-up (`own`: the
    analysis of what the follow-up itself asks)."""
    asked_unit = ASKED_UNIT.search(follow.asks)
    anchors = [s for s in scored if _already_given(s.text, follow)]
    index = {
        doc_id: {sp: i for i, sp in enumerate(snapshot.sentence_spans[doc_id])}
        for doc_id in {s.hit.chunk.doc_id for s in scored}
    }
    out = []
    for s in scored:
        if s in anchors:
            continue
        if not _about_subject(s, follow):
            continue
        score = 0.2 * s.feature("cov_sentence") + 0.1 * s.feature("cov_chunk") + 0.15 * s.hit.score
        score += 0.1 * max(s.hit.cosine, 0)
        score += 0.3 * coverage(own, s.text)
        if _mentions(s.text, follow.subjects):
            score += 0.25
        at = index[s.hit.chunk.doc_id].get(s.span, -1)
        after = [
            at - index[a.hit.chunk.doc_id][a.span]
            for a in anchors
            if a.hit.chunk.doc_id == s.hit.chunk.doc_id and at > index[a.hit.chunk.doc_id][a.span]
        ]
        if after and min(after) <= _NEAR_AFTER:
            score += 0.3 * (1 - (min(after) - 1) / _NEAR_AFTER)
        if (follow.intent == "measure" and MEASURE_SENTENCE.search(s.text)) or (
            follow.intent == "result" and RESULT_SENTENCE.search(s.text)
        ):
            score += 0.15
        if asked_unit and names_unit(s.text, asked_unit.group(1)[-1]):
            score += 0.3
        if s.feature("heading"):
            score -= 0.15
        kind_ok = answer_type(own, s.text)[1] if own.kind in TYPED else True  # the asked kind, about it
        out.append(Candidate(s.hit, s.rank, s.span, s.text, s.paragraph, s.x, score, kind_ok))
    out.sort(key=lambda x: -x.score)
    return out


def follow_up_grounded(own: Question, follow: FollowUp, best: Candidate | None) -> bool:
    """A follow-up is answered by a sentence about the conversation's subject (ensured by the ranking) that
    gives what the follow-up itself asks: the figure or date (checked by kind), measures or results, or the
    follow-up's own words; "还有呢？" asks for nothing more specific than more on the subject."""
    if best is None:
        return False
    if follow.intent == "measure":
        return bool(MEASURE_SENTENCE.search(best.text))
    if follow.intent == "result":
        return bool(RESULT_SENTENCE.search(best.text))
    if own.kind in TYPED or not own.terms:
        return True
    return coverage(own, best.paragraph) >= FOLLOW_UP_MIN_COVERAGE


def _already_given(sentence: str, follow: FollowUp) -> bool:
    core = TRAILING_PUNCTUATION.sub("", normalise(sentence).rstrip()).rstrip()  # as with_marker ends it
    return len(core) >= 6 and core in follow.given


def _mentions(text: str, subjects: list[str]) -> bool:
    norm = normalise(text)
    return any(subject in norm for subject in subjects)


def _about_subject(s: Candidate, follow: FollowUp) -> bool:
    """The sentence's paragraph names what the conversation is about (or nothing was named to check)."""
    if not follow.subjects:
        return True
    return _mentions(s.paragraph, follow.subjects)


def select_follow_up(best: Candidate, scored: list[Candidate], follow: FollowUp) -> list[Candidate]:
    """For measures and results, the several sentences that give them (in document order); else the best."""
    if follow.intent == "other":
        return [best]
    chosen = [best]
    for cand in scored:
        if len(chosen) >= _FOLLOW_UP_SENTENCES:
            break
        if (
            cand is best
            or not cand.kind_ok
            or cand.score < 0.75 * best.score
            or any(_overlaps(cand, c) for c in chosen)
        ):
            continue
        chosen.append(cand)
    order = {doc_id: i for i, doc_id in enumerate(dict.fromkeys(c.hit.chunk.doc_id for c in chosen))}
    return sorted(chosen, key=lambda c: (order[c.hit.chunk.doc_id], c.span[0]))


def answer(
    question: str, hits: list[Hit], snapshot: Snapshot, settings, follow: FollowUp | None = None
) -> Answer:
    """`question` is what was searched; with `follow`, it answers a follow-up in its conversation."""
    if not hits:
        return Answer(
            f"{REFUSAL_PREFIX}相关内容：知识库中还没有文档，请先导入文档。",
            False,
            "extractive",
            [],
            query=question,
            confidence=0.0,
        )
    model = load(str(settings.answer_model) if settings.answer_model else None)
    q = analyse(snapshot.spelling.correct(question), snapshot)  # what retrieval searched, typos corrected
    ranked = rank(q, candidates(q, hits, snapshot), model)
    confidence = model.confidence(confidence_features(q, ranked, hits)) if ranked else 0.0
    following = bool(follow and follow.subjects)
    if following:
        own = analyse(follow.asks, snapshot)
        ranked = rescore_follow_up(own, follow, ranked, snapshot)
        best = next((c for c in ranked if c.kind_ok), None)
        grounded = follow_up_grounded(own, follow, best)
        # the follow-up's own decision stands; the reported confidence agrees with it
        confidence = max(confidence, model.threshold) if grounded else min(confidence, model.threshold - 0.01)
    else:
        best = ranked[0] if ranked else None
        grounded = best is not None and (confidence >= model.threshold or sides_answered(q, ranked))
        if best is not None and beyond_documents(q, best, snapshot):
            grounded, confidence = False, min(confidence, model.threshold - 0.01)
    attributed = [] if following or grounded or q.unknown else quotation_attributed(q, ranked, snapshot)
    if attributed:
        grounded, confidence = True, max(confidence, model.threshold)
    if not grounded:
        return refusal(q, hits, snapshot, confidence)
    if following:
        chosen = select_follow_up(best, ranked, follow)
    elif attributed:
        chosen = attributed
    else:
        chosen = select_support(q, ranked, model, snapshot)
        if parts_missing(q, chosen) or contact_missing(q, chosen):
            return refusal(q, hits, snapshot, min(confidence, model.threshold - 0.01))
    citations = build_citations(chosen)
    body = "".join(with_marker(c.quote, c.n) for c in citations)
    return Answer(body, True, "extractive", citations, query=question, confidence=confidence)
