"""The course pack as a record: items (each a verbatim quote with its cited sentences), sections by kind, one part
per topic with its lead-in, references, and the pack's notes (what the documents barely cover, why no summaries).
Typed dataclasses with `to_dict` for the JSON; `CoursePack.select` is what the export keeps of the review."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace

from . import coursepack_text as ct
from .coursepack_lead import Claim
from .coursepack_tuning import DEFAULT_MAX_ITEMS
from .errors import AssistantError

KINDS = ("典型案例", "数据成效", "工作举措")


@dataclass(kw_only=True)
class PackItem:
    kind: str
    doc_id: str
    title: str
    source: str
    region: str
    quote: str
    start: int
    end: int
    score: float
    topics: list[str]  # the topic it is filed under first, then the other topics it also belongs to
    sentences: list[tuple[int, int]] = field(default_factory=list)  # cited sentences (document offsets)
    date: str = ""
    label: str = ""  # readable source: 《标题》（地区，日期）
    context: str = ""  # the place the text before names, when the item names none (`names.named_before`)
    introduced: str = ""  # who a person it names bare is, as the text before says (`names.introduced_before`)
    # it lies in a plan (`DocView.in_plan`) or a document setting one out (`normative`)
    planned: bool = False
    related: bool = False  # its topic the documents barely name, and it does not (`Tuning.scarce_related`)
    n: int = 0

    @property
    def id(self) -> str:
        """Stable across builds of the same index: clients untick items by this id."""
        return f"{self.doc_id}:{self.start}-{self.end}"

    @property
    def topic(self) -> str:
        return self.topics[0] if self.topics else ""

    @property
    def also(self) -> list[str]:
        return list(self.topics[1:])

    @property
    def text(self) -> str:
        """The quote as it reads on paper (what the exports print): its cited sentences, not a caption the layout
        left between them, line breaks left inside a sentence by PDF layout removed."""
        return "".join(self.sentence_texts())

    def sentence_texts(self) -> list[str]:
        spans = self.sentences or [(self.start, self.end)]
        return [display(self.quote[s - self.start : e - self.start]) for s, e in spans]

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "text": self.text,
            "n": self.n,
            "doc_id": self.doc_id,
            "title": self.title,
            "source": self.source,
            "region": self.region,
            "date": self.date,
            "label": self.label,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
            "sentences": [{"start": s, "end": e} for s, e in (self.sentences or [(self.start, self.end)])],
            "score": round(float(self.score), 4),
            "topic": self.topic,
            "also": self.also,
            "topics": list(self.topics),
            "context": self.context,
            "introduced": self.introduced,
            "related": self.related,
        }


def _claims_text(claims: list[Claim], items: list[PackItem]) -> str:
    numbers = {i.doc_id: i.n for i in items}
    out = []
    for claim in claims:
        marks = "".join(f"[{n}]" for n in sorted({numbers[d] for d in claim.doc_ids if d in numbers}))
        if marks:
            out.append(f"{claim.text}{marks}。")
    return "".join(out)


@dataclass
class Section:
    kind: str
    items: list[PackItem] = field(default_factory=list)
    summary: list[Claim] = field(default_factory=list)

    def summary_text(self) -> str:
        """The summary with [n] after each sentence, n the current reference numbers of its documents."""
        return _claims_text(self.summary, self.items)

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "items": [i.to_dict() for i in self.items]}
        if self.summary_text():
            out["summary"] = self.summary_text()
        return out


@dataclass
class Part:
    """One topic of the pack: an extractive lead-in, then its sections."""

    topic: str
    sections: list[Section]
    lead: list[Claim] = field(default_factory=list)
    scarce: bool = False  # the documents barely speak of the topic: the part holds only what does
    # the wording it was gathered by instead (城镇化 of 新型城镇化), where the documents lack its own
    broader: str = ""
    # the topic as gathered when it was typed with a typo (志愿服务 of 志原服务) or as a request (网格化管理 of
    # 关于网格化管理的材料)
    corrected: str = ""
    # the documents' wordings it was also gathered by, where they barely name it (疫情防控 of 防疫)
    kin: list[str] = field(default_factory=list)
    # its words the documents never use (积分 of 党员积分管理): the rest of it gathered the part
    absent: list[str] = field(default_factory=list)

    @property
    def items(self) -> list[PackItem]:
        return [i for s in self.sections for i in s.items]

    @property
    def related_count(self) -> int:
        """Items that do not name the topic, only hold one of its words (`PackItem.related`)."""
        return sum(item.related for item in self.items)

    def lead_text(self) -> str:
        """The overview sentence (counts as the part stands now), then the places and key figures, cited."""
        items = self.items
        if not items:
            return ""
        docs = list(dict.fromkeys(i.doc_id for i in items))
        counts = "、".join(f"{s.kind} {len(s.items)} 条" for s in self.sections if s.items)
        overview = Claim(f"本部分共 {len(items)} 条素材（{counts}），摘自 {len(docs)} 篇文档", docs)
        return _claims_text([overview, *self.lead], items)

    def to_dict(self) -> dict:
        return {
            "topic": self.topic,
            "lead": self.lead_text(),
            "broader": self.broader,
            "corrected": self.corrected,
            "kin": list(self.kin),
            "absent": list(self.absent),
            "sections": [s.to_dict() for s in self.sections],
            "counts": {s.kind: len(s.items) for s in self.sections},
        }


@dataclass
class Reference:
    """One entry of the pack's 参考资料; `http.schemas.PackReferenceOut` describes it field for field."""

    n: int
    doc_id: str
    title: str
    source: str
    region: str = ""
    date: str = ""
    label: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


SUMMARIES_OFF = "未生成要点小结：未配置大模型（抽取式模式）。各主题的导语由程序生成：条目与文档数为统计，地方和单位、数据均摘自原文。"


SUMMARIES_DECLINED = (
    "未生成要点小结：已按要求关闭。各主题的导语由程序生成：条目与文档数为统计，地方和单位、数据均摘自原文。"
)


@dataclass
class CoursePack:
    title: str
    topics: list[str]
    parts: list[Part]
    references: list[Reference]
    generated_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M"))
    seconds: float = 0.0
    notice: str = ""  # e.g. the LLM was unavailable, so sections have no summary
    summaries_note: str = ""  # says plainly when summaries are off
    max_items: int = DEFAULT_MAX_ITEMS

    @property
    def sections(self) -> list[Section]:
        """Every part's sections in order (the same kind appears once per part)."""
        return [s for p in self.parts for s in p.sections]

    @property
    def items(self) -> list[PackItem]:
        return [i for s in self.sections for i in s.items]

    @property
    def warning(self) -> str | None:
        empty = [p for p in self.parts if not p.items]
        if not self.items:
            return (
                _not_spoken_of(self.parts) + "：相关内容可能用了别的说法，"
                "请换用资料中的说法或换一个主题，或先导入相关文档。"
            )
        said = [f"“{p.topic}”已按“{p.corrected}”汇编。" for p in self.parts if p.corrected]
        if empty:
            said.append(_not_spoken_of(empty) + "；其余主题照常汇编。")
        for p in self.parts:
            if p.broader and p.items:
                said.append(
                    f"资料中没有直接提到“{p.topic}”的内容：以下按更宽的说法“{p.broader}”汇编 {len(p.items)} 条素材"
                    + _related_note(p)
                    + "。"
                )
            elif p.scarce and p.items:
                said.append(_scarce_warning(p))
            elif p.absent and p.items:
                said.append(
                    f"资料中没有出现{'、'.join(f'“{w}”' for w in p.absent)}：“{p.topic}”的 {len(p.items)} 条素材"
                    "只按主题的其余说法汇编，可能不切题，请核对；也可换用资料中的说法，或先导入相关文档。"
                )
        return "".join(said) or None

    def by_kind(self) -> list[Section]:
        """All parts' items merged by kind (the flat view of the first contract), kinds in the parts' order."""
        kinds: list[str] = []
        for s in self.sections:
            if s.kind not in kinds:
                kinds.append(s.kind)
        return [
            Section(
                k,
                [i for s in self.sections if s.kind == k for i in s.items],
                [c for s in self.sections if s.kind == k for c in s.summary],
            )
            for k in kinds
        ]

    def to_dict(self) -> dict:
        out = {
            "title": self.title,
            "topics": list(self.topics),
            "parts": [p.to_dict() for p in self.parts],
            "sections": [s.to_dict() for s in self.by_kind()],
            "references": [r.to_dict() for r in self.references],
            "generated_at": self.generated_at,
            "max_items": self.max_items,
            "counts": {s.kind: len(s.items) for s in self.by_kind()},
        }
        if self.warning:
            out["warning"] = self.warning
        if self.notice:
            out["notice"] = self.notice
        if self.summaries_note:
            out["summaries_note"] = self.summaries_note
        return out

    def select(self, exclude: Iterable[str] = (), order: Iterable[str] | None = None) -> CoursePack:
        """The pack a trainer reviewed: unticked items dropped; with `order`, only those sections, in that
        order (a section left out is removed); references renumbered."""
        dropped = set(exclude)
        kinds = _section_order(order) if order is not None else None
        parts = []
        for part in self.parts:
            by_kind = {s.kind: s for s in part.sections}
            sections = []
            for k in (k for k in (kinds if kinds is not None else list(by_kind)) if k in by_kind):
                items = [replace(i) for i in by_kind[k].items if i.id not in dropped]
                sections.append(Section(k, items, _kept_claims(by_kind[k].summary, items)))
            kept_items = [i for s in sections for i in s.items]
            parts.append(replace(part, sections=sections, lead=_kept_claims(part.lead, kept_items)))
        pack = numbered(self.title, self.topics, parts, self.generated_at, self.seconds)
        pack.notice, pack.summaries_note, pack.max_items = self.notice, self.summaries_note, self.max_items
        return pack


def _related_note(part: Part) -> str:
    related = part.related_count
    return f"，其中 {related} 条只提到其中部分说法（已标注，请核对）" if related else ""


def _not_spoken_of(parts: list[Part]) -> str:
    """资料中没有直接提到“……”的内容, saying first which names no document uses (NBA of NBA总决赛)."""
    unnamed = [w for p in parts for w in p.absent]
    topics = "、".join(f"“{p.topic}”" for p in parts)
    if unnamed:
        return f"资料中没有出现{'、'.join(f'“{w}”' for w in unnamed)}，也没有直接提到{topics}的内容"
    return f"资料中没有直接提到{topics}的内容"


def _scarce_warning(part: Part) -> str:
    related = part.related_count
    named = len(part.items) - related
    said = f"资料中很少直接提到“{part.topic}”：" if named else f"资料中没有直接提到“{part.topic}”："
    kin = f"或资料中相近说法{'、'.join(f'“{k}”' for k in part.kin)}" if part.kin else ""
    # items on it name it, or stand in a paragraph or under a subheading naming it (`_on_scarce_topic`)
    said += f"只收录提到它{kin}（或所在段落、小节提到它）的 {named} 条素材" if named else ""
    if related:
        said += "，另收录" if named else "只收录"
        said += f" {related} 条只提到其中部分说法的相关素材（已标注，请核对）"
    return said + "；相关内容可能用了别的说法，可换用资料中的说法，或先导入相关文档。"


def _kept_claims(claims: list[Claim], items: list[PackItem]) -> list[Claim]:
    """A summary or lead-in sentence stays while an item of a document it cites stays."""
    kept = {i.doc_id for i in items}
    return [
        Claim(c.text, [d for d in c.doc_ids if d in kept])
        for c in claims
        if any(d in kept for d in c.doc_ids)
    ]


def _section_order(order: Iterable[str]) -> list[str]:
    kinds = []
    for kind in order:
        if kind not in KINDS:
            raise AssistantError(f"未知的素材类别“{kind}”：只能是 {'、'.join(KINDS)}。")
        if kind not in kinds:
            kinds.append(kind)
    if not kinds:
        raise AssistantError(f"请至少保留一个素材类别（{'、'.join(KINDS)}）。")
    return kinds


def numbered(
    title: str, topics: list[str], parts: list[Part], generated_at: str, seconds: float
) -> CoursePack:
    """One reference per document, numbered in order of first appearance; items by relevance within a section,
    grouped by document (documents by their best item, so each document's title is shown once)."""
    numbers: dict[str, int] = {}
    refs: list[Reference] = []
    for part in parts:
        for section in part.sections:
            section.items = _grouped(section.items)
            for item in section.items:
                if item.doc_id not in numbers:
                    numbers[item.doc_id] = len(numbers) + 1
                    refs.append(
                        Reference(
                            numbers[item.doc_id],
                            item.doc_id,
                            item.title,
                            item.source,
                            item.region,
                            item.date,
                            item.label,
                        )
                    )
                item.n = numbers[item.doc_id]
    return CoursePack(title, topics, parts, refs, generated_at, seconds)


def _grouped(items: list[PackItem]) -> list[PackItem]:
    """Documents by their best item, items by score within a document."""
    best: dict[str, float] = {}
    for i in items:
        best[i.doc_id] = max(best.get(i.doc_id, -1e9), i.score)
    return sorted(items, key=lambda i: (-best[i.doc_id], i.doc_id, -i.score, i.start))


def display(quote: str) -> str:
    """A line break the layout left inside a sentence goes (Chinese text runs on without spaces); a space stays
    one space: on a flattened web page it is what sets a heading or a table cell off from the text. A word the
    source printed twice reads once (`ct.undoubled`), and a closing quotation mark it left without an opening one
    goes (`ct.without_stray_closers`)."""
    text = re.sub(r"(?<=[\u3000-\u9fff\uff00-\uffef])[ \t]*\n\s*(?=[\u3000-\u9fff\uff00-\uffef])", "", quote)
    text = ct.without_stray_closers(ct.undoubled(ct.without_footnotes(text)))
    return re.sub(r"\s+", " ", text).strip()
