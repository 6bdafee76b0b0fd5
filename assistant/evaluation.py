"""Score the assistant on a gold file: our `dev.jsonl` format or the news benchmark's `qa.jsonl` format.

Both become `GoldItem`s. An answer is *correct* when it is grounded and holds every required element (an
element may have alternatives: ``[["4次", "四次"]]``), matched after NFKC, lower case and whitespace removal.
Evidence counts as found when a cited chunk contains it, or, where a chunk boundary cuts it, when one cited
chunk holds a contiguous run of at least 80% of it (the same `covered` rule as the course-pack eval).

Formats:
- dev: ``{"id", "type", "question", "evidence": [...], "must_include": [...], "source": [...]}``;
  no evidence = unanswerable.
- news: ``{"id", "question", "answers": [str | [alternatives]], "answerable", "answer_files": [...]}``.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

from .answer.citations import markers
from .errors import AssistantError
from .lexical import normalise

COVER_RATIO = 0.8


def squash(text: str) -> str:
    return re.sub(r"\s+", "", normalise(text))


def covered(evidence: str, text: str, ratio: float = COVER_RATIO) -> bool:
    ev, tx = squash(evidence), squash(text)
    if not ev:
        return True
    if ev in tx:
        return True
    m = SequenceMatcher(None, ev, tx, autojunk=False).find_longest_match(0, len(ev), 0, len(tx))
    return m.size >= ratio * len(ev)


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    answerable: bool
    answers: tuple[tuple[str, ...], ...] = ()  # every element required; each a tuple of alternatives
    evidence: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # corpus files holding the answer (source / answer_files)
    type: str = "?"
    history: tuple[dict, ...] = ()

    def holds_answer(self, text: str) -> bool:
        """Every required element (one of its alternatives) occurs in `text`."""
        flat = squash(text)
        return all(any(squash(alt) in flat for alt in element) for element in self.answers)

    def holds_part(self, text: str) -> bool:
        flat = squash(text)
        return any(any(squash(alt) in flat for alt in element) for element in self.answers)


def _as_alternatives(value) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value if str(v).strip())
    return (str(value),)


def parse_item(item: dict, index: int) -> GoldItem:
    """One line of either gold format as a `GoldItem`."""
    if "answers" in item:  # news / RGB format
        answerable = bool(item.get("answerable", bool(item["answers"])))
        answers = tuple(_as_alternatives(a) for a in item["answers"]) if answerable else ()
        kind = item.get("type") or ("answerable" if answerable else "unanswerable")
        files = item.get("answer_files") or item.get("gold_files") or []
        evidence = ()
    else:
        evidence = tuple(item.get("evidence") or [])
        answerable = bool(evidence)
        answers = tuple((m,) for m in item.get("must_include") or []) if answerable else ()
        kind = item.get("type", "?")
        files = item.get("source") or []
    return GoldItem(
        id=str(item.get("id", index)),
        question=item["question"],
        answerable=answerable,
        answers=answers,
        evidence=evidence,
        files=tuple(files),
        type=kind,
        history=tuple(item.get("history") or ()),
    )


def load_gold(path: Path) -> list[GoldItem]:
    items = []
    try:
        lines = Path(path).read_text("utf-8").splitlines()
    except OSError as exc:
        raise AssistantError(f"无法读取评测文件 {path}：{exc.strerror}。") from exc
    except UnicodeDecodeError as exc:
        raise AssistantError(f"评测文件 {path} 不是 UTF-8 编码。") from exc
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AssistantError(f"评测文件第 {no} 行不是合法 JSON：{exc.msg}。") from exc
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise AssistantError(f"评测文件第 {no} 行缺少 question 字段。")
        if not isinstance(item.get("answers", []), list) or not isinstance(item.get("evidence", []), list):
            raise AssistantError(f"评测文件第 {no} 行的 answers/evidence 应为列表。")
        items.append(parse_item(item, no))
    if not items:
        raise AssistantError(f"评测文件 {path} 中没有题目。")
    return items


def citation_valid(answer, documents: dict) -> bool:
    """Every quote is a slice of its stored document and the [n] markers match the citations."""
    ns = {c.n for c in answer.citations}
    for c in answer.citations:
        doc = documents.get(c.doc_id)
        if doc is None or doc.text[c.start : c.end] != c.quote or c.quote not in c.text:
            return False
    used = set(markers(answer.answer))
    return used <= ns and (not answer.grounded or used == ns)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[k]


def _summary(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    grounded = [r for r in rows if r["grounded"]]

    def mean(xs):
        return round(statistics.fmean(xs), 4) if xs else None

    with_evidence = [r for r in answerable if r["evidence_recall"] is not None]
    with_files = [r for r in answerable if r["cited_hit"] is not None]
    return {
        "n": len(rows),
        "answer_hit": mean([float(r["answer_hit"]) for r in answerable]),
        "refusal_recall": mean([float(not r["grounded"]) for r in unanswerable]),
        "false_refusal": mean([float(not r["grounded"]) for r in answerable]),
        "evidence_recall": mean([r["evidence_recall"] for r in with_evidence]),
        "cited_hit": mean([float(r["cited_hit"]) for r in with_files]),
        "grounded_acc": mean([float(r["grounded"] == r["answerable"]) for r in rows]),
        "citations_per_answer": mean([r["cited_chunks"] for r in grounded]),
        "citation_valid": mean([float(r["citation_valid"]) for r in rows]),
        "latency_p50_ms": round(_percentile([r["ms"] for r in rows], 0.5), 1),
        "latency_p95_ms": round(_percentile([r["ms"] for r in rows], 0.95), 1),
    }


def score_answer(item: GoldItem, answer, documents: dict, ms: float = 0.0) -> dict:
    """One row of the report: what the answer got right, by every measure."""
    cited_texts = list(dict.fromkeys(c.text for c in answer.citations)) if answer.grounded else []
    found = [any(covered(ev, t) for t in cited_texts) for ev in item.evidence]
    cited_files = set()
    for c in answer.citations if answer.grounded else []:
        doc = documents.get(c.doc_id)
        if doc is not None:
            cited_files |= {doc.file, doc.source}
    return {
        "id": item.id,
        "type": item.type,
        "question": item.question,
        "answerable": item.answerable,
        "grounded": answer.grounded,
        "confidence": answer.confidence,
        "answer_hit": item.answerable and answer.grounded and item.holds_answer(answer.answer),
        "evidence_recall": sum(found) / len(found) if found else None,
        "cited_hit": bool(cited_files & set(item.files)) if item.files and item.answerable else None,
        "cited_chunks": len({c.chunk_id for c in answer.citations}),
        "citation_valid": citation_valid(answer, documents),
        "ms": ms,
        "answer": answer.answer,
    }


def evaluate(assistant, gold_path: Path, top_k: int = 5, progress=None) -> dict:
    gold = load_gold(gold_path)
    documents = assistant.snapshot.documents
    rows = []
    for i, item in enumerate(gold):
        started = time.perf_counter()
        answer = assistant.ask(item.question, top_k=top_k, history=list(item.history) or None)
        rows.append(score_answer(item, answer, documents, 1000 * (time.perf_counter() - started)))
        if progress:
            progress(i + 1, len(gold))
    by_type = {
        t: _summary([r for r in rows if r["type"] == t]) for t in dict.fromkeys(r["type"] for r in rows)
    }
    return {
        "overall": _summary(rows),
        "by_type": by_type,
        "questions": rows,
        "top_k": top_k,
        "mode": "llm" if assistant.settings.llm_enabled else "extractive",
    }


METRICS = (
    "n",
    "answer_hit",
    "refusal_recall",
    "false_refusal",
    "evidence_recall",
    "cited_hit",
    "citations_per_answer",
    "citation_valid",
    "latency_p50_ms",
    "latency_p95_ms",
)
_LABELS = {
    "answer_hit": "answer_hit(答对)",
    "refusal_recall": "refusal(应拒答)",
    "false_refusal": "false_refusal(误拒)",
}


def format_table(report: dict) -> str:
    header = ["类型/type"] + [_LABELS.get(m, m) for m in METRICS]
    lines = [header]
    lines.append(["overall"] + [_fmt(report["overall"][m]) for m in METRICS])
    for t, summary in report["by_type"].items():
        lines.append([t] + [_fmt(summary[m]) for m in METRICS])
    widths = [max(len(str(row[i])) for row in lines) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in lines)


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1.0 else f"{value:.1f}"
    return str(value)
