"""What both HTTP routers (`api.py` and `openai_compat.py`) share, so neither imports the other's module:
the response class, the `Assistant` dependency and key scheme, the schemas both return, the error body for each
path family, and the helpers that run a sync answer generator as a stream.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import anyio
from fastapi import Depends, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from .errors import AssistantError
from .service import Assistant

log = logging.getLogger(__name__)

INTERNAL_ERROR = "服务器内部错误：请稍后重试；如果问题持续出现，请联系管理员并告知出错时间。"


class UnicodeJSONResponse(JSONResponse):
    """UTF-8 JSON with Chinese unescaped (JSON is UTF-8 by definition: RFC 8259, no charset parameter)."""

    media_type = "application/json"


# --------------------------------------------------------------------------- shared schemas

TopK = Annotated[int, Field(ge=1, le=20, strict=True, description="检索的片段数，1–20")]


class CitationOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    n: int
    doc_id: str
    title: str
    source: str
    chunk_id: str
    text: str = Field(..., description="检索到的整个片段")
    quote: str = Field(..., description="支持答案的原句，等于文档 text[start:end]")
    start: int
    end: int
    score: float


# --------------------------------------------------------------------------- dependencies


def get_assistant(request: Request) -> Assistant:
    return request.app.state.assistant


AssistantDep = Annotated[Assistant, Depends(get_assistant)]

# Declares the scheme in OpenAPI (the 🔒 in /docs); `ApiKeyGuard` enforces it before the body is even read.
bearer = HTTPBearer(
    auto_error=False, description="设置了 ASSISTANT_API_KEYS 时必填：Authorization: Bearer <密钥>"
)
API_KEY = [Security(bearer)]


def note_question(request: Request, text: str) -> None:
    """Question length for the access log line (never the text itself)."""
    request.state.question_chars = len(text)


# --------------------------------------------------------------------------- errors


def is_openai_path(path: str) -> bool:
    return path == "/v1" or path.startswith("/v1/")


OPENAI_ERROR_TYPES = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    413: ("invalid_request_error", "request_too_large"),
    422: ("invalid_request_error", "invalid_request"),
}


def error_response(
    path: str,
    status: int,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    headers: dict | None = None,
) -> JSONResponse:
    """{"detail"} for our API, OpenAI's {"error": {...}} for /v1."""
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    if is_openai_path(path):
        kind, default_code = OPENAI_ERROR_TYPES.get(
            status,
            (
                "server_error" if status >= 500 else "invalid_request_error",
                "server_error" if status >= 500 else "invalid_request",
            ),
        )
        body = {"error": {"message": message, "type": kind, "param": param, "code": code or default_code}}
    else:
        body = {"detail": message}
    return UnicodeJSONResponse(body, status_code=status, headers=headers)


# --------------------------------------------------------------------------- streaming helpers

_END = object()


async def first_item(pieces: Iterator):
    """Run a sync generator to its first item in a worker thread; its exceptions reach the error handlers."""
    return await run_in_threadpool(next, pieces, _END)


async def stream_items(pieces: Iterator, first) -> AsyncIterator:
    """The generator's items (pulled in worker threads); an error mid-stream is yielded, not raised, because
    the 200 status is already sent. The generator is closed when the client goes away."""
    item = first
    try:
        while item is not _END:
            yield item
            item = await run_in_threadpool(next, pieces, _END)
    except AssistantError as exc:
        log.warning("stream stopped: %s", exc.message)
        yield exc
    except Exception:
        log.exception("stream failed")
        yield AssistantError(INTERNAL_ERROR)
    finally:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(pieces.close)
