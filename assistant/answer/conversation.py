"""Follow-up questions without a model: what the conversation is about, and what was already said.

"那它的具体做法呢？" names nothing. LLM mode has the model rewrite it; extractive mode borrows the previous
turn's subject instead (its quoted phrases and the named places and units of the last question and answer),
searches with them, and then answers with sentences about that subject which the previous answer did not
already quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..lexical import named_units, normalise, pos_tags, quoted_phrases, words
from ..punctuation import SENTENCE_END
from ..retrieval import Snapshot
from .citations import MARKER
from .question import ASKS_SOMETHING, TYPED, entities_of, kind_of, sets_sides_against

_REFERRING = re.compile(
    r"^(那|那么|它|他|她|其|该|这|这个|此|还有|另外|然后|具体)|(它|他们|她|其|该|这个|那个|这些|那些)"
)
_INTENTS = {
    "measure": re.compile(
        r"做法|措施|举措|怎么做|怎样做|如何做|怎么搞|办法|经验|机制|途径|具体.{0,3}(内容|怎么)"
    ),
    "result": re.compile(r"成效|效果|成果|成绩|作用|结果|效益|变化"),
}
MAX_SUBJECTS = 4
_FILLER = re.compile(
    r"那么|那|它们|它|他们|其|该|这个|这些|那个|那些|还有|另外|其他|其它|然后|具体|情况|内容|方面|一些|更多|详细|"
    r"介绍一下|介绍|说说|讲讲|呢|吗|啊"
)
MAX_SHARE = 0.1  # a subject named in more than this share of all chunks is too common to pin a topic
# what a sentence that answers each intent tends to hold
MEASURE_SENTENCE = re.compile(
    r"通过|建立|设立|组建|打造|推行|实行|实施|开展|坚持|完善|健全|推广|推动|探索|依托|采取|构建|落实|优化|整合|成立|"
    r"聚焦|围绕|强化|加强|发挥|制定|形成"
)
RESULT_SENTENCE = re.compile(
    r"提升|提高|实现|达到|累计|增长|下降|减少|锐减|显著|明显|覆盖|满意|成功率|获评|荣获|评为|化解|解决|挽回|好评|"
    r"赞誉|成效|效果|成果"
)


@dataclass
class FollowUp:
    """A question that leans on the previous turn."""

    question: str  # as asked
    asks: str  # what the follow-up itself asks, without its conversational filler ("那它的…呢")
    query: str  # what retrieval searches: the previous question, the borrowed subject, the follow-up
    subjects: list[str]  # normalised terms saying what “它” refers to
    given: str  # normalised text of the previous answer: its sentences are not repeated
    intent: str  # measure | result | other


def is_follow_up(question: str, history: list[dict]) -> bool:
    if not any(t["role"] == "user" for t in history):
        return False
    return len(words(question)) < 4 or bool(_REFERRING.search(question))


def follow_up(question: str, history: list[dict], snapshot: Snapshot) -> FollowUp | None:
    """The follow-up context of `question`, or None when it stands on its own."""
    if not is_follow_up(question, history):
        return None
    last_user = next(t["content"] for t in reversed(history) if t["role"] == "user").strip()
    last_answer = _last_answer(history)
    subjects = _subjects(last_user, last_answer, snapshot)
    borrowed = [s for s in subjects if s not in normalise(last_user)]
    query = " ".join([last_user, *borrowed, question])
    intent = next((name for name, pattern in _INTENTS.items() if pattern.search(question)), "other")
    asks = _FILLER.sub("", question)
    return FollowUp(question, asks, query, subjects, normalise(MARKER.sub("", last_answer)), intent)


def _last_answer(history: list[dict]) -> str:
    """The previous reply, unless it was a refusal (whose passages are not what the user talks about)."""
    for turn in reversed(history):
        if turn["role"] == "assistant":
            return "" if turn["content"].startswith("资料中未找到") else turn["content"]
        if turn["role"] == "user":
            return ""
    return ""


def _subjects(last_user: str, last_answer: str, snapshot: Snapshot) -> list[str]:
    """Quoted phrases and named places/units of the last question and of the answer's first sentence,
    the most specific first; names found all over the corpus (贵阳市, 城市) do not say what “它” is."""
    unmarked = MARKER.sub("", last_answer)
    end = SENTENCE_END.search(unmarked)
    first_sentence = unmarked[: end.end()] if end else unmarked
    found = snapshot.phrases_in(last_user) + [p for p in quoted_phrases(first_sentence) if len(p) >= 3]
    for text in (last_user, first_sentence):
        found += _names(text)
    specific = _most_specific(found, snapshot)
    if not specific:  # nothing named: the rarest words of the last question say what it was about
        specific = _most_specific([w for w in words(last_user) if len(w) >= 2], snapshot)[:2]
    return specific[:MAX_SUBJECTS]


def _most_specific(terms: list[str], snapshot: Snapshot) -> list[str]:
    spread = {term: snapshot.chunks_containing(term) for term in dict.fromkeys(terms)}
    specific = [
        term
        for term, n in spread.items()
        if 0 < n <= max(2, MAX_SHARE * len(snapshot.chunks))
        and not any(term != o and term in o for o in spread)
    ]
    return sorted(specific, key=spread.get)


def _names(text: str) -> list[str]:
    """Named units (碧海社区) and place or organisation names jieba recognises (花果园, 观山湖区)."""
    tagged = [normalise(w) for w, flag in pos_tags(text) if len(w) >= 2 and flag in ("ns", "nt")]
    return [normalise(n) for n in named_units(text)] + tagged


# --- two questions in one (青龙山街道是哪天挂牌成立的？现在管着多少个村？): each asked on its own

# a clause ends at a stop, a comma or a semicolon, or, typed in a chat, at a space (建了几个 花了多少钱): pieces that ask
# nothing (keywords, 一共 多少 个网格) are framing, joined back to the clause they frame
_CLAUSE_END = re.compile(r"(?<=[？?；;，,。！!])|\s+")
_MIN_PART = 4
# at most this many questions are answered one by one, each its own search: a message asking more (a pasted
# list, a flood of 几个？) is answered as one question, so its cost stays that of one (the sets ask up to 3)
MAX_QUESTIONS = 4


def separate_questions(question: str, snapshot: Snapshot) -> list[str]:
    """The questions a message asks, each standing on its own: clauses that each ask for a figure, a date or a
    name (……有几个？……有多少名……？), the words around them kept with the clause they frame, and a later one
    that names nothing asked about the subject named before it (现在管着多少个村 → 青龙山街道 现在管着多少个村).
    One question when fewer than two clauses ask or more than `MAX_QUESTIONS`, when one asks something looser (a
    how), or when the clauses set sides against each other (哪个多, 相差多少): those are answered together. Things
    listed clause by clause and then asked of each (A的数量，与B的人数，分别是多少？) are asked one by one
    (`_each_asked`)."""
    clauses = [c for c in _CLAUSE_END.split(question) if c.strip()]
    parts = _each_asked(clauses) or _asking_clauses(clauses)
    if not 2 <= len(parts) <= MAX_QUESTIONS or any(map(sets_sides_against, [question, *parts])):
        return [question]
    if any(len(re.sub(r"\W", "", p)) < _MIN_PART or kind_of(p) not in TYPED for p in parts):
        return [question]
    subject: list[str] = []
    out = []
    for part in parts:
        named = entities_of(part, snapshot) or ([] if out else _topic_of(snapshot.spelling.correct(part)))
        if named:
            subject = named
        elif not subject:
            return [question]  # nothing named before it: it leans on words the split would lose
        else:
            part = "".join([*subject, part.strip()])
        out.append(part.strip())
    return out


# what a clause asks about ends before its verbs, adverbs and particles (户外劳动者服务站 of ……服务站建了几个)
_NOT_TOPIC_TAGS = ("v", "d", "u", "p", "c", "r", "m", "q", "y")


def _topic_of(clause: str) -> list[str]:
    """The words a first clause asks about when it names no place or unit (双龙户外劳动者服务站 of
    双龙户外劳动者服务站建了几个): what precedes its question word, its verbs and particles left off."""
    ask = ASKS_SOMETHING.search(clause)
    tagged = pos_tags(clause[: ask.start()] if ask else "")
    while tagged and tagged[-1][1][:1] in _NOT_TOPIC_TAGS:
        tagged.pop()
    topic = "".join(w for w, _ in tagged)
    return [topic] if len(topic) >= _MIN_PART else []


def _asking_clauses(clauses: list[str]) -> list[str]:
    """The clauses that ask something, each with the words that frame it: those before the first, those after."""
    parts: list[str] = []
    framing = ""
    for clause in clauses:
        if ASKS_SOMETHING.search(clause):
            parts.append(framing + clause)
            framing = ""
        elif parts:
            parts[-1] += clause
        else:
            framing += clause
    return parts


# the last clause asks the same of each thing listed before it (……，分别是多少？ / ……，规模各是多少)
_OF_EACH = re.compile(
    r"^\s*(?P<what>[\u4e00-\u9fff]{0,4}?)(?:分别|各自|各)(?P<ask>(?:是|有|为)?(?:多少|几)[^，,；;]*)$"
)
_JOINER = re.compile(r"^\s*(?:与|和|跟|同|以及|及)")


def _each_asked(clauses: list[str]) -> list[str]:
    """`A的数量，与B的人数，分别是多少？` → `A的数量是多少？`, `B的人数是多少？`; [] when the clauses are not so."""
    ask = _OF_EACH.match(clauses[-1]) if len(clauses) >= 3 else None
    sides = clauses[:-1]
    if not ask or not all(_JOINER.match(c) for c in sides[1:]) or any(map(ASKS_SOMETHING.search, sides)):
        return []
    asked = ask.group("what") + ask.group("ask")
    return [_JOINER.sub("", re.sub(r"[，,；;\s]+$", "", side)) + asked for side in sides]
