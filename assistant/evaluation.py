"""Score the assistant on a gold file in the format of eval/dev.jsonl.

Evidence counts as found when a cited chunk contains it, or, where a chunk boundary cuts it, when one cited
chunk holds a contiguous run of at least 80% of it (the same `covered` rule as the course-pack eval).
"""

from __future__ import annotations

import json
import re
import statistics
import time
from difflib import SequenceMatcher
from pathlib import Path

from .answer.citations import markers
from .errors import AssistantError
from .lexical import normalise

COVER_RATIO = 0.8


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", normalise(text))


def covered(evidence: str, text: str, ratio: float = COVER_RATIO) -> bool:
    ev, tx = _squash(evidence), _squash(text)
    if not ev:
        return True
    if ev in tx:
        return True
    m = SequenceMatcher(None, ev, tx, autojunk=False).find_longest_match(0, len(ev), 0, len(tx))
    return m.size >= ratio * len(ev)


def load_gold(path: Path) -> list[dict]:
    items = []
    try:
        lines = Path(path).read_text("utf-8").splitlines()
    except OSError as exc:
        raise AssistantError(f"无法读取评测文件 {path}：{exc.strerror}。") from exc
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AssistantError(f"评测文件第 {no} 行不是合法 JSON：{exc.msg}。") from exc
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise AssistantError(f"评测文件第 {no} 行缺少 question 字段。")
        items.append(item)
    if not items:
        raise AssistantError(f"评测文件 {path} 中没有题目。")
    return items


def citation_valid(answer, documents: dict) -> bool:
    """Every quote is a slice of its stored document and the [n] markers match the citations."""
    ns = {c.n for c in answer.citations}
    for c in answer.citations:
        doc = documents.get(c.doc_id)
        if doc is None or doc["text"][c.start : c.end] != c.quote or c.quote not in c.text:
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

    return {
        "n": len(rows),
        "evidence_recall": mean([r["evidence_recall"] for r in answerable]),
        "answer_hit": mean([float(r["answer_hit"]) for r in answerable]),
        "grounded_acc": mean([float(r["grounded"] == r["answerable"]) for r in rows]),
        "refusal_recall": mean([float(not r["grounded"]) for r in unanswerable]),
        "false_refusal": mean([float(not r["grounded"]) for r in answerable]),
        "citations_per_answer": mean([r["cited_chunks"] for r in grounded]),
        "citation_valid": mean([float(r["citation_valid"]) for r in rows]),
        "latency_p50_ms": round(_percentile([r["ms"] for r in rows], 0.5), 1),
        "latency_p95_ms": round(_percentile([r["ms"] for r in rows], 0.95), 1),
    }


def evaluate(assistant, gold_path: Path, top_k: int = 5, progress=None) -> dict:
    gold = load_gold(gold_path)
    documents = assistant.snapshot.documents
    rows = []
    for i, item in enumerate(gold):
        started = time.perf_counter()
        answer = assistant.ask(item["question"], top_k=top_k, history=item.get("history"))
        ms = 1000 * (time.perf_counter() - started)
        evidence = item.get("evidence") or []
        cited_texts = list(dict.fromkeys(c.text for c in answer.citations)) if answer.grounded else []
        found = [any(covered(ev, t) for t in cited_texts) for ev in evidence]
        must = item.get("must_include") or []
        squashed = _squash(answer.answer)
        rows.append(
            {
                "id": item.get("id", str(i)),
                "type": item.get("type", "?"),
                "question": item["question"],
                "answerable": bool(evidence),
                "grounded": answer.grounded,
                "evidence_recall": sum(found) / len(found) if found else 0.0,
                "answer_hit": bool(evidence)
                and answer.grounded
                and all(_squash(m) in squashed for m in must),
                "cited_chunks": len({c.chunk_id for c in answer.citations}),
                "citation_valid": citation_valid(answer, documents),
                "ms": ms,
                "answer": answer.answer,
            }
        )
        if progress:
            progress(i + 1, len(gold))
    by_type = {}
    for t in dict.fromkeys(r["type"] for r in rows):
        by_type[t] = _summary([r for r in rows if r["type"] == t])
    return {
        "overall": _summary(rows),
        "by_type": by_type,
        "questions": rows,
        "top_k": top_k,
        "mode": "llm" if assistant.settings.llm_enabled else "extractive",
    }


METRICS = (
    "n",
    "evidence_recall",
    "answer_hit",
    "grounded_acc",
    "refusal_recall",
    "false_refusal",
    "citations_per_answer",
    "citation_valid",
    "latency_p50_ms",
    "latency_p95_ms",
)


def format_table(report: dict) -> str:
    header = ["类型/type"] + list(METRICS)
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
