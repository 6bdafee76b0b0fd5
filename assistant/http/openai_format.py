"""OpenAI's shapes for /v1: request and response models, one answer formatted as a chat.completion or a
stream of chat.completion.chunk events, and the checks and encoding of /v1/embeddings.

The answer text is the cited answer with its [n] markers followed by a 参考资料 list naming each source by title,
place and date (`sources.references_block`), so a client that only shows `content` still shows the sources; the
non-stream response also carries the structured `citations`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import ServerSentEvent

from ..answer.citations import Answer
from ..errors import AssistantError
from ..service import check_unicode
from ..sources import references_block, with_references
from .errors import error_body
from .schemas import CitationOut, TopK
from .streaming import stream_items

MODEL = "policy-assistant"
MODEL_CREATED = 1735689600  # 2025-01-01, a fixed date so the model list is stable


# --------------------------------------------------------------------------- chat: request


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls ... are accepted and ignored

    role: str = Field(
        ...,
        description="system、user 或 assistant；最后一条须为 user",
        json_schema_extra={"enum": ["system", "developer", "user", "assistant"]},
    )
    content: str | list[ContentPart] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool | None = False


class ChatCompletionRequest(BaseModel):
    """OpenAI's request; sampling options (temperature, max_tokens, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(
        ..., json_schema_extra={"enum": [MODEL]}
    )  # others: 404 model_not_found, as OpenAI does
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=200)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    top_k: TopK = Field(5, description="扩展参数：检索的片段数，1–20")


# --------------------------------------------------------------------------- chat: response


class MessageOut(BaseModel):
    role: Literal["assistant"]
    content: str


class Choice(BaseModel):
    index: int
    message: MessageOut
    finish_reason: Literal["stop"]
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int = Field(..., description="近似值：按字符计")
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    system_fingerprint: None = None
    citations: list[CitationOut] = Field(..., description="扩展字段：答案中 [n] 对应的引用")
    grounded: bool = Field(..., description="扩展字段：资料中没有答案时为 false")
    warning: str | None = Field(None, description="扩展字段：答案降级时的说明")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelCard]


class OpenAIErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    error: OpenAIErrorBody


def model_card() -> dict:
    return {"id": MODEL, "object": "model", "created": MODEL_CREATED, "owned_by": "政策问答助手"}


class Reply:
    """Formats one answer as OpenAI's chat.completion or as a stream of chat.completion.chunk events.
    `documents` (doc_id → `StoredDocument`) name the cited sources in the 参考资料 list."""

    def __init__(self, prompt_chars: int, documents: Mapping):
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.prompt_chars = prompt_chars
        self.documents = documents

    def usage(self, completion_chars: int) -> dict:
        return {
            "prompt_tokens": self.prompt_chars,
            "completion_tokens": completion_chars,
            "total_tokens": self.prompt_chars + completion_chars,
        }

    def extensions(self, answer: Answer) -> dict:
        out = {"citations": [c.to_dict() for c in answer.citations], "grounded": answer.grounded}
        if answer.warning:
            out["warning"] = answer.warning
        return out

    def completion(self, answer: Answer) -> dict:
        text = with_references(answer.answer, answer.citations, self.documents)
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": self.usage(len(text)),
            "system_fingerprint": None,
            **self.extensions(answer),
        }

    def chunk(self, delta: dict, finish_reason: str | None = None, **extra) -> ServerSentEvent:
        data = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": MODEL,
            "system_fingerprint": None,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            **extra,
        }
        return ServerSentEvent(json.dumps(data, ensure_ascii=False))

    async def chunks(self, pieces: Iterator, first, include_usage: bool) -> AsyncIterator[ServerSentEvent]:
        yield self.chunk({"role": "assistant", "content": ""})
        sent = 0
        async for item in stream_items(pieces, first):
            if isinstance(item, AssistantError):
                body = error_body("/v1", item.status if item.status >= 400 else 500, item.message)
                yield ServerSentEvent(json.dumps(body, ensure_ascii=False))  # the stream ends after an error
            elif isinstance(item, Answer):
                block = references_block(item.citations, self.documents)
                if block:
                    yield self.chunk({"content": "\n\n" + block})
                    sent += 2 + len(block)
                yield self.chunk({}, "stop", **self.extensions(item))
                if include_usage:
                    data = {
                        "id": self.id,
                        "object": "chat.completion.chunk",
                        "created": self.created,
                        "model": MODEL,
                        "choices": [],
                        "usage": self.usage(sent),
                    }
                    yield ServerSentEvent(json.dumps(data, ensure_ascii=False))
            elif item:
                sent += len(item)
                yield self.chunk({"content": item})
        yield ServerSentEvent("[DONE]")


# --------------------------------------------------------------------------- embeddings

MAX_EMBEDDING_INPUTS = 2048  # as OpenAI; LangChain's OpenAIEmbeddings sends up to 1000 texts per request
MAX_EMBEDDING_INPUT_CHARS = 8192
E5_PREFIXES = ("query: ", "passage: ")


class EmbeddingRequest(BaseModel):
    """OpenAI's embeddings request. `model` is the assistant's embedding model (`GET /healthz` → `embedder`)."""

    model_config = ConfigDict(extra="allow")  # user ... accepted and ignored

    model: str = Field(..., description="本服务的嵌入模型名，即 /healthz 的 embedder（如 e5-small-q4）")
    input: str | list[str] | list[int] | list[list[int]] = Field(
        ..., description="文本或文本列表（不接受 token 数组）"
    )
    encoding_format: Literal["float", "base64"] | None = "float"
    dimensions: int | None = Field(None, ge=1)


class EmbeddingItem(BaseModel):
    object: Literal["embedding"]
    index: int
    embedding: list[float] | str = Field(
        ..., description="float 数组；encoding_format=base64 时为 float32 小端字节"
    )


class EmbeddingUsage(BaseModel):
    prompt_tokens: int = Field(..., description="近似值：按字符计")
    total_tokens: int


class EmbeddingList(BaseModel):
    object: Literal["list"]
    data: list[EmbeddingItem]
    model: str
    usage: EmbeddingUsage


def embedding_inputs(value) -> list[str]:
    texts = [value] if isinstance(value, str) else list(value)
    if not texts:
        raise AssistantError("input 不能为空：请提供一段文本或文本列表。")
    if not all(isinstance(t, str) for t in texts):
        raise AssistantError(
            "input 只接受文本，不接受 token 数组：LangChain 的 OpenAIEmbeddings 请设置 check_embedding_ctx_length=False。"
        )
    if len(texts) > MAX_EMBEDDING_INPUTS:
        raise AssistantError(f"input 最多 {MAX_EMBEDDING_INPUTS} 段文本，收到 {len(texts)} 段：请分批请求。")
    for i, t in enumerate(texts):
        if not t.strip():
            raise AssistantError(f"input 第 {i + 1} 段为空：每段文本都不能为空。")
        check_unicode(t, f"input 第 {i + 1} 段")
        if len(t) > MAX_EMBEDDING_INPUT_CHARS:
            raise AssistantError(
                f"input 第 {i + 1} 段过长（{len(t)} 字）：每段不超过 {MAX_EMBEDDING_INPUT_CHARS} 字。"
            )
    return texts


def embed_texts(embedder, texts: list[str]):
    """Vectors in input order. For e5 (which our embedder prefixes itself) a text that already starts with
    "query: " or "passage: " is embedded as that kind, so a client adding e5's prefixes (as `openai:e5-…` does)
    gets exactly the vectors of the local model; any other text is a passage."""
    import numpy as np

    from ..embeddings import E5Embedder

    if not isinstance(embedder, E5Embedder):
        return embedder.embed_passages(texts)
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    passages = [i for i, t in enumerate(texts) if not t.startswith(E5_PREFIXES[0])]
    if passages:
        stripped = [texts[i].removeprefix(E5_PREFIXES[1]) for i in passages]
        out[passages] = embedder.embed_passages(stripped)
    for i, t in enumerate(texts):
        if t.startswith(E5_PREFIXES[0]):
            out[i] = embedder.embed_question(t.removeprefix(E5_PREFIXES[0]))
    return out


def encode_vector(vector, encoding_format: str | None):
    import base64

    import numpy as np

    if encoding_format == "base64":
        return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")
    return [float(x) for x in vector]
