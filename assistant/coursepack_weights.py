"""Course-pack ranking weights: the one place they live. Written by `python -m assistant.coursepack_fit --write`
(fitted on eval/topics_dev.jsonl; the script prints in-sample and leave-one-topic-out numbers). Do not edit by hand.

In-sample: recall 0.763, items/topic 16.83, overlap 0.3959.
Leave-one-topic-out: recall 0.7444, items/topic 16.17, overlap 0.4242.
"""

FEATURES = ("lex", "neighbour", "para", "expansion", "dense", "fused", "heading", "case", "programme")
WEIGHTS = {
    "lex": 1.0,
    "neighbour": 0.8,
    "para": 0.0,
    "expansion": 0.4,
    "dense": 0.2,
    "fused": 0.4,
    "heading": 0.4,
    "case": 0.0,
    "programme": 0.1,
}
THRESHOLD = 2.0
