"""Course-pack ranking weights: the one place they live. Written by `python -m assistant.coursepack_fit --write`
(fitted on eval/topics_dev.jsonl; the script prints in-sample and leave-one-topic-out numbers). Do not edit by hand.

In-sample: recall 0.775, items/topic 16.5, overlap 0.4071.
Leave-one-topic-out: recall 0.775, items/topic 16.83, overlap 0.4092.
"""

WEIGHTS = {
    "lex": 1.0,
    "neighbour": 0.117,
    "para": 0.017,
    "expansion": 0.4,
    "dense": 0.4,
    "fused": 0.383,
    "heading": 0.6,
    "case": 0.0,
    "programme": 0.0,
    "specific": 0.483,
}
THRESHOLD = 2.0
