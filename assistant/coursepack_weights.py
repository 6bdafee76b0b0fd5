"""Course-pack ranking weights: the one place they live. Written by `python -m assistant.coursepack_fit --write`
(fitted on eval/topics_dev.jsonl; the script prints in-sample and leave-one-topic-out numbers). Do not edit by hand.

In-sample: recall 0.8231, items/topic 19.83, overlap 0.3685.
Leave-one-topic-out: recall 0.7704, items/topic 17.17, overlap 0.4167.
"""

FEATURES = ('lex', 'neighbour', 'para', 'expansion', 'dense', 'fused', 'heading', 'case', 'prf', 'programme')
WEIGHTS = {
    'lex': 1.0,
    'neighbour': 0.2,
    'para': 0.4,
    'expansion': 0.0,
    'dense': 0.6,
    'fused': 0.0,
    'heading': 0.4,
    'case': 0.1,
    'prf': 0.0,
    'programme': 2.0,
}
THRESHOLD = 3.25
