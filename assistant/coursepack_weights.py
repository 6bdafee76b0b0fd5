"""Course-pack ranking weights: the one place they live. Written by `python -m assistant.coursepack_fit --write`
(fitted on eval/topics_dev.jsonl; the script prints in-sample and leave-one-topic-out numbers). Do not edit by hand.

In-sample: recall 0.7917, items/topic 16.33, overlap 0.4179.
Leave-one-topic-out: recall 0.775, items/topic 17.0, overlap 0.4067.
"""

WEIGHTS = {
    "lex": 1.0,
    "neighbour": 0.1,
    "para": 0.0,
    "expansion": 0.4,
    "dense": 0.4,
    "fused": 0.467,
    "heading": 0.6,
    "case": 0.0,
    "programme": 0.0,
    "specific": 0.5,
}
THRESHOLD = 2.0
