"""POST /api/ask, /api/ask/stream (SSE) and /api/search."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from ...answer.citations import Answer
from ...errors import AssistantError
from ..deps import API_KEY, AssistantDep, note_question
from ..schemas import AskRequest, AskResponse, SearchRequest, SearchResponse, error_docs
from ..streaming import first_item, sse_event_schema, stream_items

router = APIRouter(
    prefix="/api", tags=["问答"], dependencies=API_KEY, responses=error_docs(400, 401, 413, 422)
)


@router.post(
    "/ask", response_model=AskResponse, response_model_exclude_none=True, summary="提问，返回带引用的答案"
)
def ask(body: AskRequest, request: Request, assistant: AssistantDep):
    note_question(request, body.question)
    return assistant.ask(body.question, top_k=body.top_k, history=body.history_dicts()).to_dict()


SSE_DOC = {
    200: {
        "description": "Server-Sent Events：若干 `event: token`（答案片段），最后一个 `event: done`（完整的 /api/ask 对象）；"
        '中途出错时为 `event: error`（{"detail"}）。',
        "content": {
            "text/event-stream": {
                "schema": {
                    "oneOf": [
                        sse_event_schema("token"),
                        sse_event_schema("done", {"$ref": "#/components/schemas/AskResponse"}),
                        sse_event_schema("error", {"$ref": "#/components/schemas/ErrorDetail"}),
                    ]
                }
            }
        },
    }
}


@router.post(
    "/ask/stream", response_class=EventSourceResponse, responses=SSE_DOC, summary="提问（流式，SSE）"
)
async def ask_stream(body: AskRequest, request: Request, assistant: AssistantDep):
    note_question(request, body.question)
    pieces = assistant.ask_stream(body.question, top_k=body.top_k, history=body.history_dicts())
    first = await first_item(pieces)  # validation errors become a 4xx here, before any byte is sent
    return EventSourceResponse(_events(pieces, first), ping=15)


async def _events(pieces: Iterator, first) -> AsyncIterator[ServerSentEvent]:
    async for item in stream_items(pieces, first):
        if isinstance(item, Answer):
            yield ServerSentEvent(json.dumps(item.to_dict(), ensure_ascii=False), event="done")
        elif isinstance(item, AssistantError):
            yield ServerSentEvent(json.dumps({"detail": item.message}, ensure_ascii=False), event="error")
        elif item:
            yield ServerSentEvent(item, event="token")


@router.post("/search", response_model=SearchResponse, summary="只检索，不生成答案")
def search(body: SearchRequest, request: Request, assistant: AssistantDep):
    note_question(request, body.query)
    return {"hits": [h.to_dict() for h in assistant.search(body.query, top_k=body.top_k)]}
