"""Extractive answers: the best supporting sentences of the retrieved chunks, verbatim, each with [n].

No model writes anything here, so every word of an answer is a slice of a stored document. The same sentence
scoring decides refusal: the question's salient terms must occur around the best sentence, the passage must be
semantically close, and the sentence must hold the kind of answer asked for (a figure, a date, a person).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..lexical import normalise, pos_tags, words
from ..retrieval import Hit, Snapshot
from .citations import REFUSAL_PREFIX, Answer, Citation, with_marker
from .conversation import MEASURE_SENTENCE, RESULT_SENTENCE, FollowUp

_NUMBER_Q = re.compile(r"多少|几[个名家项人次年户件元万亿倍%]|几成|比例|占比|多大|多高|多长|多远|多久")
_DATE_Q = re.compile(r"哪一?年|哪一?天|何时|什么时(候|间)|几月|几号|哪个月|日期")
_PERSON_Q = re.compile(r"是谁|谁|哪位")
_LIST_Q = re.compile(
    r"哪些|哪几|分别|各有|哪[二三四五六七八九十两]|都有|包括什么|有什么(措施|做法|功能|设施)"
)
_UNIT_AFTER = re.compile(
    r"(?:多少|几)\s*(亿元|万元|元|钱|万人|人次|人|名|个|家|项|户|件|次|所|座|处|条|支|场|亩|平方公里|公里|年|天|%)"
)
_NUMERAL = r"(?:\d+(?:\.\d+)?|[一二三四五六七八九十两百千万]+)"
_DATE = re.compile(r"\d{4}年|\d{1,2}月\d{1,2}日|\d{4}[-./]\d{1,2}|[一二三四五六七八九十]+月")
_CLAUSE = re.compile(r"[，,；;：:。！？!?]")
_ROLE_CHAIN = 4


@dataclass
class Scored:
    hit: Hit
    span: tuple[int, int]
    text: str
    score: float
    sentence_cov: float
    context_cov: float
    kind_ok: bool


@dataclass
class Question:
    text: str
    terms: list[str]
    weights: dict[str, float]
    kind: str  # number | date | person | list | other
    unit: str
    focus: list[str]  # character bigrams next to 多少/哪一天: what the figure or date must be about
    unknown: list[str]  # places/organisations the corpus never mentions


def analyse(question: str, snapshot: Snapshot) -> Question:
    phrases = snapshot.phrases_in(question)
    terms = list(dict.fromkeys(phrases + words(question)))
    terms = [t for t in terms if not t.isdigit() or len(t) == 4]
    weights = {t: snapshot.bm25.idf(t) * (1.5 if t in phrases else 1.0) for t in terms}
    if _DATE_Q.search(question):
        kind = "date"
    elif _NUMBER_Q.search(question):
        kind = "number"
    elif _PERSON_Q.search(question):
        kind = "person"
    elif _LIST_Q.search(question):
        kind = "list"
    else:
        kind = "other"
    m = _UNIT_AFTER.search(question)
    unit = (m.group(1) if m else "").replace("钱", "元")
    return Question(
        question, terms, weights, kind, unit, _focus(question, kind), unknown_entities(question, snapshot)
    )


_FOCUS_ANCHOR = {
    "number": re.compile(
        r"(?:多少|几)\s*(?:亿元|万元|元|钱|万人|人次|[人名个家项户件次所座处条支场亩年天倍%])?"
    ),
    "date": _DATE_Q,
}
_FILLER = re.compile(r"[是了有的在到共为得把对给将从达约总一各]+$|^[是了有的在到共为得把对给将从达约总各]+")


def _focus(question: str, kind: str) -> list[str]:
    """Bigrams of the few characters on each side of the question word (多少名会员 → 会员)."""
    anchor = _FOCUS_ANCHOR.get(kind)
    m = anchor.search(question) if anchor else None
    if not m:
        return []
    before = _FILLER.sub("", re.split(r"[，,。？?！!、；;\s]", question[: m.start()])[-1])[-4:]
    after = _FILLER.sub("", re.split(r"[，,。？?！!、；;\s]", question[m.end() :])[0])[:4]
    grams = []
    for part in (before, after):
        part = normalise(part)
        grams += [part[i : i + 2] for i in range(len(part) - 1) if re.fullmatch(r"\w\w", part[i : i + 2])]
    return list(dict.fromkeys(grams))


_PLACE_SUFFIX = re.compile(r"..(省|市|县|区|州|镇|乡|村|街道|社区|小区|公司|协会)$")


def unknown_entities(question: str, snapshot: Snapshot) -> list[str]:
    """Named places and organisations in the question that no document mentions: nothing to answer from."""
    texts = snapshot.normalised_texts
    out = []
    for word, flag in pos_tags(question):
        w = normalise(word)
        if len(w) < 2 or not (flag in ("ns", "nt") or _PLACE_SUFFIX.match(w)):
            continue
        stem = re.sub(r"(省|市|县|区|州|镇|乡|村|街道|社区)$", "", w)
        if not any(w in t or (len(stem) >= 2 and stem in t) for t in texts):
            out.append(word)
    return out


def coverage(q: Question, text: str) -> float:
    """idf-weighted share of the question's terms occurring in `text` (normalised substring match)."""
    total = sum(q.weights.values())
    if not total:
        return 0.0
    norm = normalise(text)
    return sum(w for t, w in q.weights.items() if t in norm) / total


_QUANTITY = re.compile(
    r"\d+(?:\.\d+)?\s*(?:%|‰|余|多)?|[一二三四五六七八九十两百千万亿]+(?:余|多)?(?:个|名|家|项|人|次|户|件|年|天|倍|成|元|万|亿|条|支|场|所|座|处|批|类|届|位|种|套|轮|亩)"
)


def kind_satisfied(q: Question, sentence: str) -> bool:
    """Does the sentence hold the kind of answer asked for, in a clause about what the question asks?"""
    if q.kind == "number":
        quantity = re.compile(_NUMERAL + r"\s*(?:余|多)?\s*" + re.escape(q.unit)) if q.unit else _QUANTITY
        return any(quantity.search(c) and _about_focus(q, c) for c in _clauses(sentence))
    if q.kind == "date":
        return any(_DATE.search(c) and _about_focus(q, c) for c in _clauses(sentence))
    if q.kind == "person":
        return _named_in_role(q, sentence)
    return True


def _clauses(sentence: str) -> list[str]:
    return [c for c in _CLAUSE.split(sentence) if c.strip()]


def _about_focus(q: Question, clause: str) -> bool:
    norm = normalise(clause)
    if q.focus:
        return any(g in norm for g in q.focus)
    return any(len(t) >= 2 and not t.isdigit() and t != q.unit and t in norm for t in q.terms)


def _named_in_role(q: Question, sentence: str) -> bool:
    """A person's name right after the role asked about (主任 matches 主任, not 副主任)."""
    head = re.split(r"是谁|谁|哪位", q.text)[0]
    role_words = [w for w in words(head)][-2:]
    if not role_words:
        return False
    tagged = pos_tags(sentence)
    for i, (word, flag) in enumerate(tagged):
        if flag != "nr" or len(word) < 2:
            continue
        before = [normalise(w) for w, _ in tagged[max(0, i - _ROLE_CHAIN) : i]]
        if before and before[-1] == role_words[-1] and all(r in before for r in role_words):
            return True
    return False


def score_sentences(q: Question, hits: list[Hit], snapshot: Snapshot) -> list[Scored]:
    scored: list[Scored] = []
    for rank, hit in enumerate(hits):
        doc_text = hit.doc["text"]
        context_cov = coverage(q, hit.text)
        for span in snapshot.sentences_in(hit.chunk):
            sentence = doc_text[span[0] : span[1]]
            if len(sentence) < 6:
                continue
            scored.append(_score(q, hit, span, sentence, context_cov, rank))
    scored.sort(key=lambda x: -x.score)
    return scored


def _score(
    q: Question, hit: Hit, span: tuple[int, int], sentence: str, context_cov: float, rank: int
) -> Scored:
    sentence_cov = coverage(q, sentence)
    ok = kind_satisfied(q, sentence)
    s = 0.55 * sentence_cov + 0.2 * context_cov + 0.15 * hit.score + 0.1 * max(hit.cosine, 0) - 0.01 * rank
    if ok and q.kind in ("number", "date", "person"):
        s += 0.1
    if q.kind == "list" and sentence.count("、") >= 2:
        s += 0.1
    if _looks_like_heading(sentence):
        s -= 0.15
    return Scored(hit, span, sentence, s, sentence_cov, context_cov, ok)


def _looks_like_heading(sentence: str) -> bool:
    return not re.search(r"[。！？!?…；;]", sentence[-2:]) and len(sentence) < 40


def pick_best(q: Question, scored: list[Scored]) -> Scored | None:
    """The top sentence that holds the kind of answer asked for."""
    return next((s for s in scored if s.kind_ok), None)


def decide_grounded(q: Question, best: Scored | None, settings) -> bool:
    if best is None or q.unknown:
        return False
    doc_cov = coverage(q, best.hit.doc["text"])
    if q.kind in ("number", "date", "person"):
        # the asked-about figure/date/person is checked by kind_satisfied; the scope (place) may be the document's
        support = 0.4 * best.sentence_cov + 0.2 * best.context_cov + 0.4 * doc_cov
        return support >= settings.min_term_coverage
    support = 0.5 * best.sentence_cov + 0.25 * best.context_cov + 0.25 * doc_cov
    return support >= settings.min_open_coverage or best.hit.cosine >= settings.min_cosine


def select_support(
    q: Question, scored: list[Scored], best: Scored, snapshot: Snapshot, max_sentences: int = 3
) -> list[Scored]:
    """The best sentence, then sentences covering question terms (places, units) it lacks."""
    chosen = [best]
    covered = {t for t in q.terms if t in normalise(best.text)}
    limit = 5 if q.kind == "list" else max_sentences
    for cand in scored:
        if len(chosen) >= limit:
            break
        if cand is best or not cand.kind_ok or cand.score < 0.5 * best.score:
            continue
        if any(_overlaps(cand.span, c.span) and cand.hit.chunk.doc_id == c.hit.chunk.doc_id for c in chosen):
            continue
        new_terms = {t for t in q.terms if t in normalise(cand.text)} - covered
        new_weight = sum(q.weights[t] for t in new_terms)
        close = cand.score >= 0.8 * best.score
        other_doc = all(cand.hit.chunk.doc_id != c.hit.chunk.doc_id for c in chosen)
        listing = (
            q.kind == "list" and cand.score >= 0.7 * best.score and (other_doc or cand.text.count("、") >= 2)
        )
        if (
            (close and (new_terms or q.kind == "list"))
            or (new_weight >= 1.8 and cand.score >= 0.65 * best.score)
            or listing
        ):
            chosen.append(cand)
            covered |= new_terms
    if q.kind == "list":
        chosen = _expand_parallel(q, best, chosen, snapshot)
    return _with_named_antecedent(q, chosen, snapshot)


_ASKED_UNIT = re.compile(
    r"哪(?:一|几)?(?:个|家|些|所|座)?(小区|社区|街道|村|乡镇|镇|单位|部门|企业|公司|学校|地方|县|市|区)"
)
_UNNAMED = re.compile(r"(?:该|本|此|这个|这些|全|各|每个|所在|[^\w])$")


def _names(sentence: str, unit: str) -> bool:
    """Does the sentence name a particular <unit> (朝庭四季花园小区), not just say 小区?"""
    for m in re.finditer(re.escape(unit), sentence):
        before = sentence[max(0, m.start() - 2) : m.start()]
        if (
            len(before) == 2
            and re.fullmatch(r"[\u4e00-\u9fff]{2}", before)
            and not _UNNAMED.search(sentence[: m.start()])
        ):
            return True
    return False


def _with_named_antecedent(q: Question, chosen: list[Scored], snapshot: Snapshot) -> list[Scored]:
    """“哪个小区……” answered by a sentence that only says “小区”: add the sentence just before it that names it."""
    m = _ASKED_UNIT.search(q.text)
    best = chosen[0]
    if not m or _names(best.text, m.group(1)):
        return chosen
    spans = snapshot.sentence_spans[best.hit.chunk.doc_id]
    index = next((i for i, sp in enumerate(spans) if sp == best.span), None)
    text = best.hit.doc["text"]
    for sp in reversed(spans[max(0, (index or 0) - 2) : index or 0]):
        if "\n\n" in text[sp[1] : best.span[0]]:
            break  # only within the same paragraph
        sentence = text[sp[0] : sp[1]]
        chunk = _chunk_holding(snapshot, best.hit.chunk.doc_id, sp)
        if _names(sentence, m.group(1)) and chunk is not None and all(c.span != sp for c in chosen):
            return [_companion(snapshot, best, chunk, sp), *chosen]
    return chosen


_TEMPLATE = re.compile(r"“[^”]{1,16}”")


def _signature(sentence: str) -> str:
    head = sentence[:12]
    return _TEMPLATE.sub("“”", sentence)[:8] if _TEMPLATE.search(head) else ""


def _expand_parallel(
    q: Question, best: Scored, chosen: list[Scored], snapshot: Snapshot, limit: int = 8
) -> list[Scored]:
    """A list answered by parallel sentences (实施“强基固本”行动。实施“骨干培育”行动。…) near the best one."""
    doc = best.hit.doc
    spans = snapshot.sentence_spans[best.hit.chunk.doc_id]
    index = next((i for i, sp in enumerate(spans) if sp == best.span), None)
    if index is None:
        return chosen
    window = spans[index : index + 40]
    groups: dict[str, list[tuple[int, int]]] = {}
    for sp in window:
        sig = _signature(doc["text"][sp[0] : sp[1]])
        if sig:
            groups.setdefault(sig, []).append(sp)
    members = max(groups.values(), key=len, default=[])
    if len(members) < 3 or not any(
        t in normalise(_TEMPLATE.sub("", doc["text"][m[0] : m[1]])) for m in members for t in q.terms
    ):
        return chosen
    out = [best]
    for sp in members[:limit]:
        if sp == best.span:
            continue
        chunk = _chunk_holding(snapshot, best.hit.chunk.doc_id, sp)
        if chunk is not None:
            out.append(_companion(snapshot, best, chunk, sp))
    return out


def _companion(snapshot: Snapshot, best: Scored, chunk, span: tuple[int, int]) -> Scored:
    """A sentence cited alongside the best one, from whichever chunk of its document holds it."""
    hit = Hit(chunk, best.hit.doc, snapshot.text_of(chunk), best.hit.score, best.hit.cosine)
    return Scored(hit, span, best.hit.doc["text"][span[0] : span[1]], best.score, 0.0, 0.0, True)


def _chunk_holding(snapshot: Snapshot, doc_id: str, span: tuple[int, int]):
    return next(
        (c for c in snapshot.chunks if c.doc_id == doc_id and c.start <= span[0] and span[1] <= c.end), None
    )


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def build_citations(chosen: list[Scored]) -> list[Citation]:
    citations = []
    for n, item in enumerate(chosen, start=1):
        hit = item.hit
        citations.append(
            Citation(
                n,
                hit.chunk.doc_id,
                hit.doc["title"],
                hit.doc["source"],
                hit.chunk.chunk_id,
                hit.text,
                item.text,
                item.span[0],
                item.span[1],
                hit.score,
            )
        )
    return citations


def refusal(q: Question, hits: list[Hit], snapshot: Snapshot, top_n: int = 3) -> Answer:
    """资料中未找到……, with the nearest passages cited so the user can judge for themselves."""
    citations = []
    for n, hit in enumerate(hits[:top_n], start=1):
        sentences = [(sp, hit.doc["text"][sp[0] : sp[1]]) for sp in snapshot.sentences_in(hit.chunk)]
        span, quote = (
            max(sentences, key=lambda x: coverage(q, x[1]))
            if sentences
            else ((hit.chunk.start, hit.chunk.end), hit.text)
        )
        citations.append(
            Citation(
                n,
                hit.chunk.doc_id,
                hit.doc["title"],
                hit.doc["source"],
                hit.chunk.chunk_id,
                hit.text,
                quote,
                span[0],
                span[1],
                hit.score,
            )
        )
    text = f"{REFUSAL_PREFIX}能够直接回答该问题的内容。"
    if citations:
        text += "以下是最相关的段落，供参考：" + "；".join(f"《{c.title}》[{c.n}]" for c in citations) + "。"
    return Answer(text, False, "extractive", citations, query=q.text)


# ---- follow-ups ("那它的具体做法呢？"): new sentences about the conversation's subject

_NEAR_AFTER = 8  # sentences after the previous answer's that still continue its account
_FOLLOW_UP_SENTENCES = 4


def rescore_follow_up(
    q: Question, follow: FollowUp, scored: list[Scored], snapshot: Snapshot
) -> list[Scored]:
    """Sentences the previous answer did not quote, ranked by how well they continue it: about the same
    subject, soon after the quoted sentence, of the kind asked for (measures, results, a named unit),
    matching the follow-up's own words. The first question's words count for less than in a fresh question
    (it was answered already), and checks of kind (a figure, a date) follow the follow-up."""
    own = analyse(follow.asks, snapshot)
    asked_unit = _ASKED_UNIT.search(follow.asks)
    anchors = [s for s in scored if _already_given(s.text, follow)]
    index = {
        doc_id: {sp: i for i, sp in enumerate(spans)} for doc_id, spans in snapshot.sentence_spans.items()
    }
    out = []
    for s in scored:
        if s in anchors:
            continue
        if not _about_subject(s, follow):
            continue
        score = 0.2 * s.sentence_cov + 0.1 * s.context_cov + 0.15 * s.hit.score + 0.1 * max(s.hit.cosine, 0)
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
        if asked_unit and _names(s.text, asked_unit.group(1)[-1]):
            score += 0.3
        if _looks_like_heading(s.text):
            score -= 0.15
        kind_ok = kind_satisfied(own, s.text) if own.kind in ("number", "date", "person") else True
        out.append(Scored(s.hit, s.span, s.text, score, s.sentence_cov, s.context_cov, kind_ok))
    out.sort(key=lambda x: -x.score)
    return out


def follow_up_grounded(follow: FollowUp, best: Scored | None, snapshot: Snapshot, settings) -> bool:
    """A follow-up is answered by a sentence about the conversation's subject (ensured by the ranking) that
    gives what the follow-up itself asks: the figure or date (checked by kind), measures or results, or the
    follow-up's own words; "还有呢？" asks for nothing more specific than more on the subject."""
    if best is None:
        return False
    if follow.intent == "measure":
        return bool(MEASURE_SENTENCE.search(best.text))
    if follow.intent == "result":
        return bool(RESULT_SENTENCE.search(best.text))
    own = analyse(follow.asks, snapshot)
    if own.kind in ("number", "date", "person") or not own.terms:
        return True
    return coverage(own, _paragraph(best)) >= settings.min_open_coverage


def _already_given(sentence: str, follow: FollowUp) -> bool:
    core = re.sub(r"[。！？!?…；;，,”’」』）)》\"'\s]+$", "", normalise(sentence))  # as with_marker ends it
    return len(core) >= 6 and core in follow.given


def _mentions(text: str, subjects: list[str]) -> bool:
    norm = normalise(text)
    return any(subject in norm for subject in subjects)


def _about_subject(s: Scored, follow: FollowUp) -> bool:
    """The sentence's paragraph names what the conversation is about (or nothing was named to check)."""
    if not follow.subjects:
        return True
    return _mentions(_paragraph(s), follow.subjects)


def _paragraph(s: Scored) -> str:
    text = s.hit.doc["text"]
    start = text.rfind("\n\n", 0, s.span[0]) + 1
    end = text.find("\n\n", s.span[1])
    return text[start : end if end >= 0 else len(text)]


def select_follow_up(best: Scored, scored: list[Scored], follow: FollowUp) -> list[Scored]:
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
            or any(
                _overlaps(cand.span, c.span) and cand.hit.chunk.doc_id == c.hit.chunk.doc_id for c in chosen
            )
        ):
            continue
        chosen.append(cand)
    order = {doc_id: i for i, doc_id in enumerate(dict.fromkeys(c.hit.chunk.doc_id for c in chosen))}
    return sorted(chosen, key=lambda c: (order[c.hit.chunk.doc_id], c.span[0]))


def answer(
    question: str, hits: list[Hit], snapshot: Snapshot, settings, follow: FollowUp | None = None
) -> Answer:
    """`question` is what was searched; with `follow`, it answers a follow-up in its conversation."""
    q = analyse(question, snapshot)
    if not hits:
        return Answer(
            f"{REFUSAL_PREFIX}相关内容：知识库中还没有文档，请先导入文档。",
            False,
            "extractive",
            [],
            query=question,
        )
    scored = score_sentences(q, hits, snapshot)
    if follow:
        scored = rescore_follow_up(q, follow, scored, snapshot)
    best = pick_best(q, scored)
    grounded = (
        follow_up_grounded(follow, best, snapshot, settings)
        if follow and follow.subjects
        else decide_grounded(q, best, settings)
    )
    if not grounded:
        return refusal(q, hits, snapshot)
    chosen = select_follow_up(best, scored, follow) if follow else select_support(q, scored, best, snapshot)
    citations = build_citations(chosen)
    body = "".join(with_marker(c.quote, c.n) for c in citations)
    return Answer(body, True, "extractive", citations, query=question)
