"""The answer record: text with [n] markers, numbered citations whose quotes are slices of stored text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from ..punctuation import END_MARKS, TRAILING_PUNCTUATION

REFUSAL_PREFIX = "资料中未找到"
MARKER = re.compile(r"\[(\d{1,2})\]")  # an answer's own [n] citation marker


@dataclass(kw_only=True)
class Citation:
    n: int
    doc_id: str
    title: str
    source: str
    chunk_id: str
    text: str
    quote: str
    start: int
    end: int
    score: float

    @classmethod
    def from_hit(cls, n: int, hit, span: tuple[int, int]) -> Citation:
        """Citation [n] quoting `span` of the hit's document (a sentence of the hit's chunk)."""
        return cls(
            n=n,
            doc_id=hit.chunk.doc_id,
            title=hit.doc.title,
            source=hit.doc.source,
            chunk_id=hit.chunk.chunk_id,
            text=hit.text,
            quote=hit.doc.text[span[0] : span[1]],
            start=span[0],
            end=span[1],
            score=hit.score,
        )

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "title": self.title,
            "source": self.source,
            "chunk_id": self.chunk_id,
            "text": self.text,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
            "score": round(float(self.score), 4),
        }


@dataclass
class Answer:
    answer: str
    grounded: bool
    mode: str = "extractive"
    citations: list[Citation] = field(default_factory=list)
    warning: str | None = None
    query: str = ""  # the standalone retrieval query actually used (after follow-up rewriting)
    confidence: float | None = None  # the answer model's probability that the answer is right

    def to_dict(self) -> dict:
        out = {
            "answer": self.answer,
            "grounded": self.grounded,
            "mode": self.mode,
            "citations": [c.to_dict() for c in self.citations],
        }
        if self.confidence is not None:
            out["confidence"] = round(float(self.confidence), 3)
        if self.warning:
            out["warning"] = self.warning
        return out


def joined(answers: list[Answer], question: str) -> Answer:
    """The answers to the questions of one message (`conversation.separate_questions`) as one: their texts in
    order, citations numbered on, a sentence two of them cite cited once under its first number."""
    texts, citations = [], []
    for answer in answers:
        numbers: dict[int, int] = {}
        for c in answer.citations:
            same = next(
                (k for k in citations if (k.doc_id, k.start, k.end) == (c.doc_id, c.start, c.end)), None
            )
            if same is None:
                same = replace(c, n=len(citations) + 1)
                citations.append(same)
            numbers[c.n] = same.n
        texts.append(
            MARKER.sub(lambda m: f"[{numbers.get(int(m.group(1)), int(m.group(1)))}]", answer.answer)
        )
    warning = next((a.warning for a in answers if a.warning), None)
    confidence = min((a.confidence for a in answers if a.confidence is not None), default=None)
    return Answer("".join(texts), True, answers[0].mode, citations, warning, question, confidence)


def markers(text: str) -> list[int]:
    return [int(m) for m in MARKER.findall(text)]


_SOURCE_BRACKETS = re.compile(r"\[(\d{1,3})\]")


def with_marker(sentence: str, n: int) -> str:
    """Put [n] before the sentence's final punctuation: “……新模式[1]。” Bracketed numbers the source itself
    holds (a web page's “当选连任[45]”) become full-width ［45］ in the answer text, so that every [n] of an
    answer is ours; the citation's quote keeps the source verbatim."""
    sentence = _SOURCE_BRACKETS.sub(r"［\1］", sentence)
    tail = TRAILING_PUNCTUATION.search(sentence).group()
    body = sentence[: len(sentence) - len(tail)]
    if not tail or tail[0] not in END_MARKS:
        closers = re.sub(r"[；;，,]", "", tail)
        return f"{body}{closers}[{n}]。"
    return f"{body}[{n}]{tail}"


# a model's citation group: [1] [1,2] [1][2] 【1】 [资料1] [1、3] [^1]; whitespace before it is dropped with it
MARKER_GROUP = re.compile(
    r"\s*[\[【]\s*\^?\s*(?:资料|段落|来源|文献)?\s*(\d{1,3}(?:\s*[,，、;；]\s*(?:资料|段落|来源|文献)?\s*\d{1,3})*)\s*[\]】]"
)


def renumber_markers(text: str, given: int, mapping: dict[int, int]) -> str:
    """Rewrite citation groups as [n] markers: numbers outside 1..given are dropped, the rest renumbered.

    `mapping` (passage number → answer number, in order of first citation) is updated in place, so text
    arriving in pieces is renumbered consistently.
    """

    def replace(m: re.Match) -> str:
        out = []
        for k in (int(x) for x in re.findall(r"\d+", m.group(1))):
            if 1 <= k <= given:
                n = mapping.setdefault(k, len(mapping) + 1)
                if f"[{n}]" not in out:
                    out.append(f"[{n}]")
        return "".join(out)

    return MARKER_GROUP.sub(replace, text)


# Markdown link or image: [text](target "title") / ![alt](target); and autolinks <scheme:...>
_MD_LINK = re.compile(
    r"(!?)\[([^\[\]\n]*)\]\(\s*<?([^()\s<>]*(?:\([^()\s]*\)[^()\s<>]*)*)>?((?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*)\)"
)
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.\-]{1,31}:[^<>\s]*)>")
_SAFE_TARGET = re.compile(r"https?://", re.I)


def neutralize_links(text: str) -> str:
    """Answer text quotes documents verbatim, and a document may hold Markdown such as `[点击](javascript:…)`:
    clients that render Markdown would make it live. Links whose target is not http(s), and every image (a
    client fetches it unasked), lose their syntax — `[点击]（javascript:…）`, brackets made full-width so no
    renderer sees a link — and so do such autolinks (`<javascript:…>` → `＜javascript:…＞`). Pure: the
    characters a reader sees stay the same words."""

    def link(m: re.Match) -> str:
        bang, label, target, title = m.group(1), m.group(2), m.group(3), m.group(4)
        if not bang and _SAFE_TARGET.match(target):
            return m.group(0)
        return f"{'！' if bang else ''}［{label}］（{target}{title.rstrip()}）"

    def autolink(m: re.Match) -> str:
        return m.group(0) if _SAFE_TARGET.match(m.group(1)) else f"＜{m.group(1)}＞"

    if "](" not in text and "<" not in text:
        return text
    return _AUTOLINK.sub(autolink, _MD_LINK.sub(link, text))


def nearest_passages_note(citations: list[Citation]) -> str:
    """The sentence a refusal ends with: each document's title once, with the markers of its passages."""
    if not citations:
        return ""
    markers: dict[str, list[int]] = {}
    for c in citations:
        markers.setdefault(c.title, []).append(c.n)
    names = "；".join(f"《{title}》" + "".join(f"[{n}]" for n in ns) for title, ns in markers.items())
    return f"以下是最相关的段落，供参考：{names}。"


def pieces(text: str, size: int = 12) -> Iterator[str]:
    """A finished answer streamed in short pieces, as a model would send it."""
    for i in range(0, len(text), size):
        yield text[i : i + size]
