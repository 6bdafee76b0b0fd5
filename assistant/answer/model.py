"""The fitted answer model: every weight and threshold of the extractive answer, in one file.

Two logistic models: one scores each candidate sentence (does it answer the question?), one turns the best
candidates into a confidence in [0, 1] that the answer is right; `grounded` is confidence ≥ threshold. They
are fitted by `assistant fit` (`answer/fit.py`) on gold questions and saved as JSON; the default file
`assistant/data/answer_model.json` was fitted on the development sets (numbers in the README). An
organisation can re-fit on its own gold file and point `ASSISTANT_ANSWER_MODEL` at the result.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import AssistantError
from .signals import FEATURES

CONFIDENCE_FEATURES = (
    "best",  # the best sentence's score
    "margin",  # best − second best
    "type_ok",
    "type_near",
    "type_other",
    "typed",  # a figure/date/person/place/name was asked
    "ent_missing_doc",
    "rare_missing_doc",
    "ent_paragraph",
    "rare_missing",
    "rare_absent",  # the least share of the question's rarest terms missing from a retrieved chunk
    "focus_sentence",
    "near_any",  # one of the three best sentences holds the asked kind of answer in a clause about it
    "near_on_subject",  # ... in a document about the names the question asks about
    "cov_sentence",
    "cov_paragraph",
    "cov_document",
    "year_absent_doc",  # the question names a year its best sentence's document never mentions
    "cosine",  # best dense similarity among the retrieved chunks
    "fused",
)


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass
class AnswerModel:
    sentence_weights: dict[str, float]
    sentence_bias: float
    confidence_weights: dict[str, float]
    confidence_bias: float
    threshold: float = 0.5  # confidence at or above: answer; below: 资料中未找到
    support_ratio: float = 0.8  # an extra sentence is cited when its score ≥ ratio × the best's
    max_support: int = 3
    fitted: dict = field(default_factory=dict)  # what it was fitted on, and the measured numbers
    # a feature that cannot be measured now (NaN: the dense retriever is down) counts as its value for a typical
    # best sentence in the fit, so that keyword-only answers are neither favoured nor refused for it
    sentence_imputed: dict[str, float] = field(default_factory=dict)
    confidence_imputed: dict[str, float] = field(default_factory=dict)

    def __post_init__(self):
        self._w = np.array([self.sentence_weights.get(f, 0.0) for f in FEATURES])
        self._v = np.array([self.confidence_weights.get(f, 0.0) for f in CONFIDENCE_FEATURES])
        self._wi = np.array([self.sentence_imputed.get(f, 0.0) for f in FEATURES])
        self._vi = np.array([self.confidence_imputed.get(f, 0.0) for f in CONFIDENCE_FEATURES])

    def sentence_score(self, x: np.ndarray) -> float:
        return sigmoid(float(self._w @ _imputed(x, self._wi)) + self.sentence_bias)

    def confidence(self, g: np.ndarray) -> float:
        return sigmoid(float(self._v @ _imputed(g, self._vi)) + self.confidence_bias)

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, ensure_ascii=False, indent=1)

    def save(self, path: Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict) -> AnswerModel:
        try:
            return cls(
                sentence_weights={k: float(v) for k, v in data["sentence_weights"].items()},
                sentence_bias=float(data["sentence_bias"]),
                confidence_weights={k: float(v) for k, v in data["confidence_weights"].items()},
                confidence_bias=float(data["confidence_bias"]),
                threshold=float(data.get("threshold", 0.5)),
                support_ratio=float(data.get("support_ratio", 0.8)),
                max_support=int(data.get("max_support", 3)),
                fitted=dict(data.get("fitted", {})),
                sentence_imputed={k: float(v) for k, v in data.get("sentence_imputed", {}).items()},
                confidence_imputed={k: float(v) for k, v in data.get("confidence_imputed", {}).items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise AssistantError(f"回答模型文件格式不正确：{exc}。请用 assistant fit 重新生成。") from exc


def _imputed(x: np.ndarray, values: np.ndarray) -> np.ndarray:
    missing = np.isnan(x)
    return np.where(missing, values, x) if missing.any() else x


@lru_cache(maxsize=8)
def load(path: str | None = None) -> AnswerModel:
    """The model at `path`, or the packaged default."""
    try:
        if path:
            text = Path(path).read_text("utf-8")
        else:
            text = resources.files("assistant").joinpath("data/answer_model.json").read_text("utf-8")
        return AnswerModel.from_dict(json.loads(text))
    except OSError as exc:
        raise AssistantError(f"无法读取回答模型文件 {path}：{exc.strerror}。") from exc
    except json.JSONDecodeError as exc:
        raise AssistantError(f"回答模型文件 {path} 不是合法 JSON：{exc.msg}。") from exc
