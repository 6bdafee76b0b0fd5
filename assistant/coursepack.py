"""Course packs: everything the documents say on a topic, sorted into cases, figures and measures, cited.

Trainers want all of it, not the top 5, so gathering is broad on purpose and then filtered sentence by sentence:

1. Hybrid retrieval (dense + BM25, `retrieval.search`) with a large top-N ranks the chunks for the topic.
2. The topic's own words are weighted by how much more often they occur in the best chunks than in the corpus
   (网格 in 网格化管理 is the head, 管理 the generic tail), so a sentence naming only the head still counts.
3. A sentence's score adds its own lexical coverage, its neighbours' and its section heading's (a measure
   often names its topic only in the sentence or heading before), terms that co-occur with the topic in the
   strongest sentences (quoted programme names such as “一中心一张网十联户”, 户外劳动者 next to 新业态), and
   its chunk's dense and fused rank. The weights and the threshold were chosen on eval/topics_dev.jsonl
   with leave-one-topic-out checks, never per topic.
4. Sentences are the unit, so overlapping chunks de-duplicate themselves; a sentence cut at the length limit
   or by a stray line break is joined back first, so a quote is always a whole sentence.

Each kept sentence is sorted into 典型案例 (a named place or unit doing something), 数据成效 (figures and
results) or 工作举措 (everything else: measures, mechanisms, methods), grouped by document, and carries a quote
that is `document.text[start:end]`. The pack renders to the CONTRACT JSON, Markdown and DOCX.
"""

from __future__ import annotations

import bisect
import io
import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import quote as url_quote

import numpy as np

from .chunking import is_heading
from .errors import AssistantError
from .lexical import STOPWORDS, named_units, normalise, tokenize
from .retrieval import Snapshot, search

KINDS = ("典型案例", "数据成效", "工作举措")
FORMATS = {
    "json": "application/json; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "md": "text/markdown; charset=utf-8",
}
MAX_TOPICS = 10
MAX_TOPIC_CHARS = 50


@dataclass(frozen=True)
class Tuning:
    """Gathering weights, chosen on the dev topics (see the module docstring); one set for every topic."""

    top_n: int = 150  # chunks ranked by hybrid search per topic (all of them in a small corpus)
    feedback: int = 30  # best chunks used to weight the topic's words and find co-occurring terms
    lift_cap: float = 8.0
    head_share: float = 0.8  # weight of the best topic word present vs the share of all of them
    repeat_bonus: float = 0.1  # per extra occurrence of a head word (up to two)
    strong: float = 0.9  # sentences at least this lexical score seed the expansion terms
    expansion_df: float = 0.06  # expansion terms occur in at most this share of chunks (and at least 4)
    w_neighbour: float = 0.1
    w_expansion: float = 0.4
    w_dense: float = 0.4
    w_fused: float = 0.3
    w_heading: float = 0.4
    threshold: float = 0.6
    min_coverage: float = 0.5  # share of the topic's words (idf-weighted) the corpus must use at all
    max_items_per_topic: int = 80
    merge_max_chars: int = 600


TUNING = Tuning()


# ----------------------------------------------------------------------------------------------- records


@dataclass
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
    topics: list[str]
    n: int = 0

    @property
    def id(self) -> str:
        """Stable across builds of the same index: clients untick items by this id."""
        return f"{self.doc_id}:{self.start}-{self.end}"

    @property
    def text(self) -> str:
        """The quote as it reads on paper: line breaks left inside a sentence by PDF layout removed."""
        return _display(self.quote)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "text": self.text,
            "n": self.n,
            "doc_id": self.doc_id,
            "title": self.title,
            "source": self.source,
            "region": self.region,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
            "score": round(float(self.score), 4),
            "topics": list(self.topics),
        }


@dataclass
class Claim:
    """A sentence of an LLM-written section summary and the documents it cites (numbers follow the pack)."""

    text: str
    doc_ids: list[str]


@dataclass
class Section:
    kind: str
    items: list[PackItem] = field(default_factory=list)
    summary: list[Claim] = field(default_factory=list)

    def summary_text(self) -> str:
        """The summary with [n] after each sentence, n the current reference numbers of its documents."""
        numbers = {i.doc_id: i.n for i in self.items}
        out = []
        for claim in self.summary:
            marks = "".join(f"[{n}]" for n in sorted({numbers[d] for d in claim.doc_ids if d in numbers}))
            if marks:
                out.append(f"{claim.text}{marks}。")
        return "".join(out)

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "items": [i.to_dict() for i in self.items]}
        if self.summary_text():
            out["summary"] = self.summary_text()
        return out


@dataclass
class Reference:
    n: int
    doc_id: str
    title: str
    source: str
    region: str = ""

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "title": self.title,
            "source": self.source,
            "region": self.region,
        }


@dataclass
class CoursePack:
    title: str
    topics: list[str]
    sections: list[Section]
    references: list[Reference]
    generated_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M"))
    seconds: float = 0.0
    notice: str = ""  # e.g. the LLM was unavailable, so sections have no summary

    @property
    def items(self) -> list[PackItem]:
        return [i for s in self.sections for i in s.items]

    @property
    def warning(self) -> str | None:
        if self.items:
            return None
        return f"资料中未找到与{'、'.join(f'“{t}”' for t in self.topics)}相关的内容，请换一个主题或先导入相关文档。"

    def to_dict(self) -> dict:
        out = {
            "title": self.title,
            "topics": list(self.topics),
            "sections": [s.to_dict() for s in self.sections],
            "references": [r.to_dict() for r in self.references],
            "generated_at": self.generated_at,
            "counts": {s.kind: len(s.items) for s in self.sections},
        }
        if self.warning:
            out["warning"] = self.warning
        if self.notice:
            out["notice"] = self.notice
        return out

    def select(self, exclude: Iterable[str] = (), order: Iterable[str] | None = None) -> CoursePack:
        """The pack a trainer reviewed: unticked items dropped, sections reordered, references renumbered."""
        dropped = set(exclude)
        by_kind = {s.kind: s for s in self.sections}
        kinds = _section_order(order) if order is not None else [s.kind for s in self.sections]
        sections = []
        for k in (k for k in kinds if k in by_kind):
            items = [replace(i) for i in by_kind[k].items if i.id not in dropped]
            kept = {i.doc_id for i in items}
            summary = [
                Claim(c.text, [d for d in c.doc_ids if d in kept])
                for c in by_kind[k].summary
                if any(d in kept for d in c.doc_ids)
            ]  # a summary sentence stays while an item of a document it cites stays
            sections.append(Section(k, items, summary))
        pack = _numbered(self.title, self.topics, sections, self.generated_at, self.seconds)
        pack.notice = self.notice
        return pack


def _section_order(order: Iterable[str]) -> list[str]:
    kinds = []
    for kind in order:
        if kind not in KINDS:
            raise AssistantError(f"未知的素材类别“{kind}”：只能是 {'、'.join(KINDS)}。")
        if kind not in kinds:
            kinds.append(kind)
    return kinds + [k for k in KINDS if k not in kinds]


def _numbered(
    title: str, topics: list[str], sections: list[Section], generated_at: str, seconds: float
) -> CoursePack:
    """One reference per document, numbered in order of first appearance; items grouped by document."""
    numbers: dict[str, int] = {}
    refs: list[Reference] = []
    for section in sections:
        for item in _grouped(section.items):
            if item.doc_id not in numbers:
                numbers[item.doc_id] = len(numbers) + 1
                refs.append(
                    Reference(numbers[item.doc_id], item.doc_id, item.title, item.source, item.region)
                )
    for section in sections:
        for item in section.items:
            item.n = numbers[item.doc_id]
        section.items = sorted(section.items, key=lambda i: (i.n, i.start))
    return CoursePack(title, topics, sections, refs, generated_at, seconds)


def _grouped(items: list[PackItem]) -> list[PackItem]:
    """Documents by their best item, items in reading order within a document."""
    best: dict[str, float] = {}
    for i in items:
        best[i.doc_id] = max(best.get(i.doc_id, 0.0), i.score)
    return sorted(items, key=lambda i: (-best[i.doc_id], i.doc_id, i.start))


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


def _content_words(topic: str) -> list[str]:
    return [t for t in dict.fromkeys(tokenize(topic)) if len(t) >= 2 and t not in STOPWORDS]


# ----------------------------------------------------------------------------------------------- corpus view


@dataclass
class _Unit:
    doc_id: str
    start: int
    end: int
    para: int
    heading: bool
    norm: str
    chunks: list[int]  # positions in snapshot.chunks of the chunks overlapping this sentence
    head_of: int | None  # index (in the corpus view) of the heading governing this sentence


@dataclass
class _View:
    """Per-snapshot sentence units and normalised texts, computed once (snapshots are immutable)."""

    units: list[_Unit]
    chunk_norms: list[str]

    @classmethod
    def of(cls, snapshot: Snapshot, merge_max_chars: int) -> _View:
        cached = snapshot.__dict__.get("_coursepack_view")
        if cached is None:
            cached = snapshot.__dict__["_coursepack_view"] = cls._build(snapshot, merge_max_chars)
        return cached

    @classmethod
    def _build(cls, snapshot: Snapshot, merge_max_chars: int) -> _View:
        units: list[_Unit] = []
        chunks_by_doc: dict[str, list[tuple[int, int, int]]] = {}
        for pos, c in enumerate(snapshot.chunks):
            chunks_by_doc.setdefault(c.doc_id, []).append((c.start, c.end, pos))
        for doc_id, doc in snapshot.documents.items():
            text = doc["text"]
            doc_chunks = sorted(chunks_by_doc.get(doc_id, []))
            starts = [c[0] for c in doc_chunks]
            heading_at = None
            for start, end, para, heading in _whole_sentences(
                text, snapshot.sentence_spans.get(doc_id, []), merge_max_chars
            ):
                overlapping = []
                for s, e, p in doc_chunks[max(0, bisect.bisect_right(starts, start) - 3) :]:
                    if s >= end:
                        break
                    if e > start:
                        overlapping.append(p)
                unit = _Unit(
                    doc_id,
                    start,
                    end,
                    para,
                    heading,
                    normalise(text[start:end]),
                    overlapping,
                    None if heading else heading_at,
                )
                if heading:
                    heading_at = len(units)
                units.append(unit)
        return cls(units, [normalise(snapshot.text_of(c)) for c in snapshot.chunks])


_TERMINAL = re.compile(r"[。！？!?…][”’」』）)》\"']*$")


def _whole_sentences(text: str, spans: list[tuple[int, int]], max_chars: int):
    """Sentence spans joined back where the splitter cut at the length limit or at a stray line break.

    Yields (start, end, paragraph number, is_heading). A piece that does not end a sentence and is not a
    heading continues into the next piece (PDF layout breaks “……高效的服\\n\\n务。” mid-word).
    """
    current = None
    para = 0
    for span in spans:
        heading = is_heading(text, span)
        if current is not None:
            cs, ce, cpara, cheading = current
            if (
                not cheading
                and not heading
                and not _TERMINAL.search(text[cs:ce])
                and span[1] - cs <= max_chars
            ):
                current = (cs, span[1], cpara, cheading)
                continue
            yield current
            if "\n" in text[ce : span[0]]:
                para += 1
        current = (span[0], span[1], para, heading)
    if current is not None:
        yield current


# ----------------------------------------------------------------------------------------------- gathering

_NOISE = re.compile(r"摄\s*[)）]|[（(]?[\u4e00-\u9fff]{2,4}\s*摄$|^写在前面|以飨读者|[？?]$")
_ATTRIBUTION = re.compile(r"(说|表示|介绍|告诉记者|感慨地说)[。：:]?[”」]?$")


def _noise(sentence: str) -> bool:
    """Photo credits, editor's notes, rhetorical questions and bare “……说。” attributions: no teaching value."""
    s = sentence.strip()
    return bool(_NOISE.search(s)) or (len(s) < 40 and bool(_ATTRIBUTION.search(s)))


@dataclass
class _Scored:
    unit: _Unit
    score: float
    topic: str


@dataclass
class _TopicWeights:
    present: dict[str, float]  # the topic's words the corpus uses, weighted
    missing: float  # summed weight of the words it never uses (they lower every sentence's share)
    coverage: float  # idf-weighted share of the topic's words the corpus uses at all


def _topic_weights(topic: str, view: _View, feedback: list[int], tuning: Tuning) -> _TopicWeights:
    """Topic words weighted by lift in the best chunks (x sqrt idf): the head of the topic dominates."""
    n = len(view.chunk_norms)
    present, missing, used, total = {}, 0.0, 0.0, 0.0
    for term in _content_words(topic):
        df = sum(1 for t in view.chunk_norms if term in t)
        idf = math.log(1 + (n + 1) / (df + 0.5))
        total += math.sqrt(idf)
        if not df:
            missing += tuning.lift_cap * math.sqrt(idf)
            continue
        used += math.sqrt(idf)
        df_top = sum(1 for i in feedback if term in view.chunk_norms[i])
        lift = (df_top / max(len(feedback), 1)) / (df / n)
        present[term] = max(min(lift, tuning.lift_cap), 0.05) * math.sqrt(idf)
    return _TopicWeights(present, missing, used / total if total else 0.0)


def _lexical(norm: str, weights: _TopicWeights, tuning: Tuning) -> float:
    if not weights.present:
        return 0.0
    top, total = max(weights.present.values()), sum(weights.present.values()) + weights.missing
    present = [w for t, w in weights.present.items() if t in norm]
    if not present:
        return 0.0
    repeats = sum(norm.count(t) for t, w in weights.present.items() if w >= 0.5 * top)
    score = tuning.head_share * max(present) / top + (1 - tuning.head_share) * sum(present) / total
    return min(score + tuning.repeat_bonus * min(max(repeats - 1, 0), 2), 1.5)


def _expansion_terms(
    strong: list[tuple[_Unit, float]], snapshot: Snapshot, weights: _TopicWeights, tuning: Tuning
) -> dict[str, float]:
    """Specific terms of the strongest sentences (programme names, 户外劳动者): related sentences share them."""
    max_df = max(4, round(tuning.expansion_df * len(snapshot.chunks)))
    terms: dict[str, float] = {}
    for unit, lex in strong:
        text = snapshot.documents[unit.doc_id]["text"][unit.start : unit.end]
        for term in set(tokenize(text)):
            if len(term) < 3 or re.search(r"\d", term) or any(w in term for w in weights.present):
                continue
            if 1 <= snapshot.bm25.doc_freq.get(term, 0) <= max_df:
                terms[term] = max(terms.get(term, 0.0), min(lex, 1.0))
    return terms


def score_topic(
    topic: str, snapshot: Snapshot, store, embedder, settings=None, tuning: Tuning = TUNING
) -> list[_Scored]:
    """Every sentence of the corpus that the topic's evidence channels lift over the threshold, best first."""
    view = _View.of(snapshot, tuning.merge_max_chars)
    if not view.units or not snapshot.chunks:
        return []
    vector = embedder.embed_question(topic)
    top_n = min(tuning.top_n, len(snapshot.chunks))
    fusion = (
        {}
        if settings is None
        else {
            "rrf_k": settings.rrf_k,
            "dense_weight": settings.dense_weight,
            "bm25_weight": settings.bm25_weight,
            "phrase_weight": getattr(settings, "phrase_weight", 1.0),
        }
    )
    hits = search(snapshot, store, topic, vector, top_n, candidates=top_n, **fusion)
    position = snapshot.position
    fused = np.zeros(len(snapshot.chunks))
    cosine = np.full(len(snapshot.chunks), np.nan)
    for h in hits:
        fused[position[h.chunk.chunk_id]] = h.score
        cosine[position[h.chunk.chunk_id]] = h.cosine
    ranked = np.sort(cosine[~np.isnan(cosine)])[::-1]
    if ranked.size:
        top, ref = float(ranked[0]), float(ranked[min(len(ranked) - 1, len(ranked) // 2)])
        floor = float(ranked[-1])
    else:
        top, ref, floor = 1.0, 0.0, 0.0
    dense = (np.nan_to_num(cosine, nan=floor) - ref) / max(top - ref, 1e-6)

    weights = _topic_weights(
        topic, view, [position[h.chunk.chunk_id] for h in hits[: tuning.feedback]], tuning
    )
    if weights.coverage < tuning.min_coverage:
        return []  # the corpus lacks most of the topic's words (量子计算芯片 vs one 云计算): nothing on it
    lex = [_lexical(u.norm, weights, tuning) for u in view.units]
    strong = [(u, lex[k]) for k, u in enumerate(view.units) if lex[k] >= tuning.strong]
    expansion = _expansion_terms(strong, snapshot, weights, tuning)

    out: list[_Scored] = []
    for k, unit in enumerate(view.units):
        if unit.heading or unit.end - unit.start < 8:
            continue
        neighbours = [
            lex[j]
            for j in (k - 1, k + 1)
            if 0 <= j < len(view.units)
            and view.units[j].doc_id == unit.doc_id
            and view.units[j].para == unit.para
        ]
        exp = max((s for t, s in expansion.items() if t in unit.norm), default=0.0)
        chunk_dense = max((dense[p] for p in unit.chunks), default=-1.0)
        chunk_fused = max((fused[p] for p in unit.chunks), default=0.0)
        heading = lex[unit.head_of] if unit.head_of is not None else 0.0
        score = (
            lex[k]
            + tuning.w_neighbour * max(neighbours, default=0.0)
            + tuning.w_expansion * exp
            + tuning.w_dense * chunk_dense
            + tuning.w_fused * chunk_fused
            + tuning.w_heading * heading
        )
        if score < tuning.threshold:
            continue
        if _noise(snapshot.documents[unit.doc_id]["text"][unit.start : unit.end]):
            continue
        out.append(_Scored(unit, float(score), topic))
    out.sort(key=lambda s: -s.score)
    return out[: tuning.max_items_per_topic]


def build(
    topics: list[str], snapshot: Snapshot, store, embedder, settings=None, tuning: Tuning = TUNING
) -> CoursePack:
    """Gather every topic, merge sentences found for several topics, classify, group and number."""
    started = time.perf_counter()
    merged: dict[tuple[str, int, int], PackItem] = {}
    for topic in topics:
        for s in score_topic(topic, snapshot, store, embedder, settings, tuning):
            key = (s.unit.doc_id, s.unit.start, s.unit.end)
            item = merged.get(key)
            if item is None:
                doc = snapshot.documents[s.unit.doc_id]
                quote = doc["text"][s.unit.start : s.unit.end]
                merged[key] = PackItem(
                    classify(quote),
                    s.unit.doc_id,
                    doc["title"],
                    doc["source"],
                    doc.get("region") or "",
                    quote,
                    s.unit.start,
                    s.unit.end,
                    s.score,
                    [topic],
                )
            else:
                item.score = max(item.score, s.score)
                if topic not in item.topics:
                    item.topics.append(topic)
    items = _dedupe_text(list(merged.values()))
    sections = [Section(kind, [i for i in items if i.kind == kind]) for kind in KINDS]
    pack = _numbered(pack_title(topics), topics, sections, time.strftime("%Y-%m-%d %H:%M"), 0.0)
    pack.seconds = time.perf_counter() - started
    return pack


def _dedupe_text(items: list[PackItem]) -> list[PackItem]:
    """The same sentence reprinted in two documents appears once (the better-scored copy)."""
    seen: dict[str, PackItem] = {}
    for item in sorted(items, key=lambda i: -i.score):
        key = re.sub(r"\W+", "", normalise(item.quote))
        if key not in seen:
            seen[key] = item
    return list(seen.values())


def pack_title(topics: list[str]) -> str:
    return f"课程素材：{'、'.join(topics)}"


# ----------------------------------------------------------------------------------------------- classification

_DATE = re.compile(
    r"\d{4}\s*年(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?|\d{1,2}\s*月\s*\d{1,2}\s*日|\d{1,2}\s*月"
)
_QUOTED = re.compile(r"[“\"「『‘][^”\"」』’]{0,30}[”\"」』’]")
_FIGURE = re.compile(
    r"\d+(?:\.\d+)?\s*(?:%|％|‰)"
    r"|\d+(?:\.\d+)?\s*(?:余|多)?\s*(?:万|亿)?\s*(?:人次|户次|个|名|人|家|件|次|户|项|处|支|场|起|元|亩|座|所|条|批|期|间|套|"
    r"台|辆|公里|平方米|平方公里|万元|亿元|栋|村|镇|社区|小区|街道|单位|企业|党支部|党组织|支部|位|组|队|期)"
    r"|[一二三四五六七八九十百千万两]+\s*(?:余|多)\s*(?:个|名|人|家|件|次|户|项|处|支|场|起|元)"
)
_RESULT = re.compile(
    r"成功率|同比|增长|提升了|提高了|下降|减少|锐减|累计|挽回|覆盖率|满意度|达到|实现了?全覆盖|"
    r"获得|荣获|评为|排名|位居|取得|完成|化解|解决"
)


def classify(sentence: str) -> str:
    """数据成效 when it reports figures or results, 典型案例 when a named place or unit acts, else 工作举措."""
    plain = _QUOTED.sub("", _DATE.sub("", sentence))  # dates and programme names (“1+1+N”) are not figures
    figures = _FIGURE.findall(plain)
    if len(figures) >= 2 or (figures and _RESULT.search(plain)) or re.search(r"\d+(?:\.\d+)?\s*[%％]", plain):
        return "数据成效"
    if named_units(sentence):
        return "典型案例"
    return "工作举措"


# ----------------------------------------------------------------------------------------------- rendering


def _display(quote: str) -> str:
    text = re.sub(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u9fff\uff00-\uffef])", "", quote)
    return re.sub(r"\s*\n\s*", " ", text).strip()


_ORDINALS = "一二三四五六七八九十"


def _section_heading(index: int, section: Section) -> str:
    return f"{_ORDINALS[index] if index < len(_ORDINALS) else index + 1}、{section.kind}（{len(section.items)} 条）"


def _group_heading(ref: Reference) -> str:
    return f"《{ref.title}》" + (f"（{ref.region}）" if ref.region else "")


def _intro(pack: CoursePack) -> str:
    n_items, n_docs = len(pack.items), len(pack.references)
    kinds = "、".join(s.kind for s in pack.sections)
    return (
        f"主题：{'、'.join(pack.topics)}。共 {n_items} 条素材，摘自 {n_docs} 篇文档，按{kinds}分类，"
        f"每条均为原文摘录并标注出处编号。生成时间：{pack.generated_at}。"
    )


def _groups(section: Section, refs: dict[int, Reference]) -> list[tuple[Reference, list[PackItem]]]:
    out: list[tuple[Reference, list[PackItem]]] = []
    for item in section.items:
        if not out or out[-1][0].n != item.n:
            out.append((refs[item.n], []))
        out[-1][1].append(item)
    return out


def to_markdown(pack: CoursePack) -> str:
    refs = {r.n: r for r in pack.references}
    lines = [f"# {pack.title}", "", f"> {_intro(pack)}", ""]
    if pack.warning:
        lines += [pack.warning, ""]
    index = 0
    for section in pack.sections:
        if not section.items:
            continue
        lines += [f"## {_section_heading(index, section)}", ""]
        index += 1
        if section.summary_text():
            lines += [f"**要点**：{_md_escape_summary(section.summary_text())}", ""]
        for ref, items in _groups(section, refs):
            lines += [f"### {_group_heading(ref)}", ""]
            lines += [f"- {_md_escape(item.text)}[{item.n}]" for item in items]
            lines.append("")
    if pack.references:
        lines += ["## 参考资料", ""]
        for ref in pack.references:
            region = f"，{ref.region}" if ref.region else ""
            lines.append(f"{ref.n}. 《{ref.title}》（来源文件：{ref.source}{region}）")
        lines.append("")
    return "\n".join(lines)


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def _md_escape_summary(text: str) -> str:
    """Escape the summary's prose but keep its [n] markers."""
    return re.sub(r"\\\[(\d+)\\\]", r"[\1]", _md_escape(text))


BODY_FONT = "宋体"
HEADING_FONT = "黑体"
LATIN_FONT = "Times New Roman"


def to_docx(pack: CoursePack) -> bytes:
    """Word/WPS/LibreOffice-clean DOCX: headings per section and document, [n] superscripts, 参考资料, page footer."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    doc = Document()
    _set_fonts(doc)
    props = doc.core_properties
    props.title, props.subject, props.author = pack.title, "、".join(pack.topics), "政策问答助手"
    props.language, props.keywords = "zh-CN", "课程素材"

    doc.add_heading(pack.title, level=0)
    intro = doc.add_paragraph(_intro(pack))
    for run in intro.runs:
        run.font.size = Pt(10)
        run.font.color.rgb = RGBColor(0x59, 0x59, 0x59)
    if pack.warning:
        doc.add_paragraph(pack.warning)
    refs = {r.n: r for r in pack.references}
    index = 0
    for section in pack.sections:
        if not section.items:
            continue
        doc.add_heading(_section_heading(index, section), level=1)
        index += 1
        if section.summary_text():
            para = doc.add_paragraph()
            para.add_run("要点：").bold = True
            for piece in re.split(r"(\[\d+\])", section.summary_text()):
                if piece:
                    para.add_run(piece).font.superscript = bool(re.fullmatch(r"\[\d+\]", piece))
        for ref, items in _groups(section, refs):
            doc.add_heading(_group_heading(ref), level=2)
            for item in items:
                para = doc.add_paragraph(style="List Bullet")
                para.add_run(item.text)
                marker = para.add_run(f"[{item.n}]")
                marker.font.superscript = True
    if pack.references:
        doc.add_heading("参考资料", level=1)
        for ref in pack.references:
            region = f"，{ref.region}" if ref.region else ""
            doc.add_paragraph(f"[{ref.n}] 《{ref.title}》（来源文件：{ref.source}{region}）")
    footer = doc.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("第 ")
    _add_field(footer, "PAGE")
    footer.add_run(" 页，共 ")
    _add_field(footer, "NUMPAGES")
    footer.add_run(" 页")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _set_fonts(doc) -> None:
    """East-Asian fonts on every style we use, so Chinese never falls back to a Latin font."""
    from docx.oxml.ns import qn

    styles = doc.styles
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "List Bullet", "Footer"):
        try:
            style = styles[name]
        except KeyError:
            continue
        east_asian = HEADING_FONT if name.startswith(("Title", "Heading")) else BODY_FONT
        style.font.name = LATIN_FONT
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.insert(0, fonts)
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(attr), None)
        fonts.set(qn("w:ascii"), LATIN_FONT)
        fonts.set(qn("w:hAnsi"), LATIN_FONT)
        fonts.set(qn("w:eastAsia"), east_asian)
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = rpr.makeelement(qn("w:lang"), {})
            rpr.append(lang)
        lang.set(qn("w:eastAsia"), "zh-CN")


def _add_field(paragraph, instruction: str) -> None:
    """A complex field (PAGE, NUMPAGES): Word, WPS and LibreOffice all update it when laying out pages."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def fld_char(kind: str):
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        return el

    begin = paragraph.add_run()
    begin._r.append(fld_char("begin"))
    instr = paragraph.add_run()
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    instr._r.append(text)
    sep = paragraph.add_run()
    sep._r.append(fld_char("separate"))
    paragraph.add_run("1")
    end = paragraph.add_run()
    end._r.append(fld_char("end"))


# ----------------------------------------------------------------------------------------------- export


@dataclass
class Export:
    data: bytes
    media_type: str
    filename: str

    @property
    def content_disposition(self) -> str:
        """RFC 6266: an ASCII fallback name plus the Chinese one, percent-encoded."""
        suffix = self.filename.rsplit(".", 1)[-1]
        return f"attachment; filename=\"coursepack.{suffix}\"; filename*=UTF-8''{url_quote(self.filename)}"


def export(pack: CoursePack, fmt: str) -> Export:
    import json

    fmt = validate_format(fmt)
    if fmt == "docx":
        data = to_docx(pack)
    elif fmt == "md":
        data = to_markdown(pack).encode("utf-8")
    else:
        data = json.dumps(pack.to_dict(), ensure_ascii=False, indent=2).encode("utf-8")
    return Export(data, FORMATS[fmt], f"{file_stem(pack.topics)}.{fmt}")


def file_stem(topics: list[str]) -> str:
    stem = "课程素材-" + "-".join(topics)
    stem = re.sub(r"[\\/:*?\"<>|\s]+", "_", stem)
    return stem[:60]
