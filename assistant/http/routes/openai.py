"""The OpenAI-compatible surface: GET /v1/models, POST /v1/chat/completions (model `policy-assistant`) and
/v1/embeddings, so any OpenAI client (the official SDK, LangChain's ChatOpenAI, chat UIs) can use the assistant.
Earlier user/assistant messages are the conversation history. Shapes and formatting: `openai_format`; errors
in OpenAI's {"error": {...}} shape come from `http.errors` (by path)."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from ...errors import AssistantError, ModelNotFound
from ...service import chat_turns
from ..deps import API_KEY, AssistantDep, note_question
from ..openai_format import (
    MODEL,
    ChatCompletion,
    ChatCompletionRequest,
    EmbeddingList,
    EmbeddingRequest,
    ModelCard,
    ModelList,
    OpenAIError,
    Reply,
    embed_texts,
    embedding_inputs,
    encode_vector,
    model_card,
)
from ..responses import UnicodeJSONResponse
from ..streaming import first_item

router = APIRouter(
    prefix="/v1",
    tags=["OpenAI 兼容"],
    dependencies=API_KEY,
    responses={"4XX": {"model": OpenAIError, "description": "OpenAI 格式的错误"}},
)


@router.get("/models", response_model=ModelList, summary="可用模型（policy-assistant）")
def list_models():
    return {"object": "list", "data": [model_card()]}


@router.get("/models/{model}", response_model=ModelCard, summary="模型信息")
def get_model(model: str):
    check_model(model)
    return model_card()


def check_model(model: str) -> None:
    if model != MODEL:
        raise ModelNotFound(f"模型“{model}”不存在：请使用 {MODEL}（GET /v1/models 可查看）。")


STREAM_DOC = {
    200: {
        "model": ChatCompletion,
        "description": "stream=false：chat.completion 对象（另含 citations）；stream=true：SSE，"
        "若干 chat.completion.chunk，以 `data: [DONE]` 结束。",
        "content": {
            "text/event-stream": {
                "schema": {
                    "type": "object",
                    "required": ["data"],
                    "properties": {
                        "data": {
                            "anyOf": [
                                {"const": "[DONE]"},
                                {
                                    "type": "string",
                                    "contentMediaType": "application/json",
                                    "contentSchema": {
                                        "anyOf": [
                                            {
                                                "type": "object",
                                                "required": ["id", "object", "created", "model", "choices"],
                                                "properties": {
                                                    "object": {"const": "chat.completion.chunk"},
                                                    "choices": {"type": "array"},
                                                },
                                            },
                                            {"$ref": "#/components/schemas/OpenAIError"},
                                        ]
                                    },
                                },
                            ]
                        }
                    },
                }
            }
        },
    }
}


@router.post(
    "/chat/completions", response_model=None, responses=STREAM_DOC, summary="对话补全（OpenAI 兼容）"
)
async def chat_completions(body: ChatCompletionRequest, request: Request, assistant: AssistantDep):
    check_model(body.model)
    messages = [m.model_dump() for m in body.messages]
    question, history = chat_turns(messages)
    note_question(request, question)
    prompt_chars = sum(len(m["content"] or "") if isinstance(m["content"], str) else 0 for m in messages)
    if body.stream:
        pieces = assistant.ask_stream(question, top_k=body.top_k, history=history)
        first = await first_item(pieces)  # validation errors become a 4xx here, before any byte is sent
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        reply = Reply(prompt_chars, await _documents(assistant))
        return EventSourceResponse(reply.chunks(pieces, first, include_usage), ping=15)
    answer = await run_in_threadpool(assistant.ask, question, body.top_k, history)
    return UnicodeJSONResponse(Reply(prompt_chars, await _documents(assistant)).completion(answer))


async def _documents(assistant) -> Mapping:
    """The documents an answer's 参考资料 names (title, place, date), read after its retrieval and off the event
    loop (the snapshot asks the database whether it is current)."""
    return await run_in_threadpool(lambda: assistant.snapshot.documents)


@router.post("/embeddings", response_model=EmbeddingList, summary="文本向量（OpenAI 兼容，本机嵌入模型）")
async def create_embeddings(body: EmbeddingRequest, assistant: AssistantDep):
    embedder = assistant.embedder
    if body.model != embedder.name:
        raise ModelNotFound(f"嵌入模型“{body.model}”不存在：本服务的嵌入模型是 {embedder.name}。")
    texts = embedding_inputs(body.input)
    if body.dimensions is not None and body.dimensions != embedder.dim:
        raise AssistantError(f"dimensions 只能是 {embedder.dim}（{embedder.name} 的向量维度），或不填。")
    vectors = await run_in_threadpool(embed_texts, embedder, texts)
    chars = sum(len(t) for t in texts)
    return UnicodeJSONResponse(
        {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": encode_vector(v, body.encoding_format)}
                for i, v in enumerate(vectors)
            ],
            "model": embedder.name,
            "usage": {"prompt_tokens": chars, "total_tokens": chars},
        }
    )
