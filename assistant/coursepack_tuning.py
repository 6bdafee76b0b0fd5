"""Course-pack settings: how many chunks a topic reads, how items are cut, and the ranking weights and gap, read
from `coursepack_weights.py` (fitted by `coursepack_fit`, never set by hand). One frozen record every stage takes."""

from __future__ import annotations

from dataclasses import dataclass

from . import coursepack_weights as cw

DEFAULT_MAX_ITEMS = 25


# What each candidate item is scored on, in matrix column order; the weights (by name) come from
# coursepack_weights.py, written by the fit script. A feature the weights file does not name weighs 0.
FEATURES = (
    "lex",
    "neighbour",
    "para",
    "expansion",
    "dense",
    "fused",
    "heading",
    "case",
    "programme",
    "specific",
)


@dataclass(frozen=True)
class Tuning:
    """Gathering settings. The ranking weights and threshold come from `coursepack_weights.py` (fitted)."""

    top_n: int = 150  # chunks ranked by hybrid search per topic (all of them in a small corpus)
    feedback: int = 30  # best chunks used to weight the topic's words and find co-occurring terms
    lift_cap: float = 8.0
    head_share: float = 0.8  # weight of the best topic word present vs the share of all of them
    repeat_bonus: float = 0.1  # per extra occurrence of a head word (up to two)
    strong: float = 0.9  # sentences (and headings) at least this lexical score seed the expansion terms
    expansion_df: float = 0.06  # expansion terms occur in at most this share of chunks (and at least 4)
    min_coverage: float = 0.5  # share of the topic's words (idf-weighted) the corpus must use at all
    specific_share: float = 0.5  # the topic's specific words weigh at least this share of its strongest one
    scarce_chunks: int = 2  # retrieved chunks holding them at most this many: the documents barely cover it
    scarce_related: int = 2  # … then at most this many more items holding one of its words, marked as related
    kin_candidates: int = 80  # … its best chunks' words its own wordings stand out among (`_kin_wordings`)
    kin_z: float = 3.0  # … a wording of the documents stands this many deviations closer to it in meaning
    kin_max: int = 2  # … and at most this many of them gather the topic with it
    max_items: int = DEFAULT_MAX_ITEMS
    merge_max_chars: int = 600
    case_max_chars: int = 320  # a case (who, what, result) stays one readable paragraph excerpt
    passage_sentences: int = 1  # an item is its sentence and the next ones of its paragraph, up to this many
    passage_max_chars: int = 260
    thread_sentences: int = 2  # … and the next ones that still name the topic, up to this many in all
    join_max_chars: int = 400  # an item another candidate overlaps grows to their union, up to this length
    weights: tuple[float, ...] = tuple(cw.WEIGHTS.get(f, 0.0) for f in FEATURES)
    threshold: float = cw.THRESHOLD


TUNING = Tuning()
