"""HTTP layer: parse, call one `Assistant` method, format.

`create_app()` wires, in this order: error handlers (mapped once, for both error shapes), API-key guard and
access log middleware, the routers in `api_routers()` (add new ones there), 404/405 catch-alls for /api and
/v1, and the Gradio UI last at `/` (it catches every other path). Handlers are plain `def` (run in the
threadpool) except the streaming ones.
"""

from __future__ import annotations

import asyncio
import collections
import hmac
import ipaddress
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__
from .answer.citations import Answer
from .config import Settings
from .coursepack import TOPIC_PATTERN
from .errors import AssistantError, NotFound, TooManyRequests
from .http_common import (
    API_KEY,
    INTERNAL_ERROR,
    AssistantDep,
    CitationOut,
    TopK,
    UnicodeJSONResponse,
    error_response,
    first_item,
    is_openai_path,
    note_question,
    stream_items,
)
from .jobs import JobManager, job_manager
from .openai_compat import router as openai_router
from .parsers import SUPPORTED_LIST
from .service import MAX_QUESTION_CHARS, Assistant

log = logging.getLogger(__name__)
access_log = logging.getLogger("assistant.access")

JSON_BODY_LIMIT = 2 * 1024 * 1024  # bytes of a JSON request body (questions are at most 2000 characters)
MULTIPART_OVERHEAD = 64 * 1024  # multipart framing and form fields on top of the file itself

# --------------------------------------------------------------------------- request models


def _trimmed(what: str):
    def check(value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError(f"{what}不能为空（不能只有空白）：请输入要查询的内容")
        if len(value) > MAX_QUESTION_CHARS:
            raise ValueError(f"{what}过长（{len(value)} 字）：请控制在 {MAX_QUESTION_CHARS} 字以内")
        return value

    return AfterValidator(check)


Question = Annotated[
    str,
    Field(
        min_length=1,
        description=f"问题，去除首尾空白后 1–{MAX_QUESTION_CHARS} 字",
        examples=["哪个社区推行了碧·有服务？"],
    ),
    _trimmed("问题"),
]
Query = Annotated[
    str,
    Field(
        min_length=1, description=f"检索词，去除首尾空白后 1–{MAX_QUESTION_CHARS} 字", examples=["网格化管理"]
    ),
    _trimmed("查询"),
]


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Question
    top_k: TopK = 5
    history: list[Turn] | None = Field(None, max_length=100, description="之前的对话（可选），按时间顺序")

    def history_dicts(self) -> list[dict] | None:
        return [t.model_dump() for t in self.history] if self.history else None


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: Query
    top_k: TopK = 5


# --------------------------------------------------------------------------- response models
# extra="allow": fields added to the service's dicts later pass through (and the schema says they may).


class ErrorDetail(BaseModel):
    detail: str = Field(..., description="出错原因与改正方法（中文）")


class Health(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["ok", "degraded", "down"] = Field(
        ...,
        description="ok；degraded：部分依赖不可用，仍可回答（如 Chroma 停机时仅按关键词检索）；down：无法回答（503）",
    )
    documents: int
    chunks: int
    chroma: Literal["ok", "down"] | None = Field(None, description="向量库（Chroma）是否可用")
    database: Literal["ok", "down"] | None = Field(None, description="索引数据库是否可读")


class AskResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    answer: str = Field(..., description="答案，用 [n] 标注出处，对应 citations[].n")
    grounded: bool = Field(..., description="资料中没有答案时为 false（answer 说明“资料中未找到……”）")
    mode: Literal["extractive", "llm"]
    citations: list[CitationOut]
    confidence: float | None = Field(
        None, ge=0, le=1, description="回答模型估计答案正确的概率；不低于拟合阈值时 grounded 为 true"
    )
    warning: str | None = Field(None, description="答案降级时的说明（例如大模型不可用，改用摘录式回答）")


class HitOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    doc_id: str
    title: str
    source: str
    chunk_id: str
    text: str
    start: int
    end: int
    score: float


class SearchResponse(BaseModel):
    hits: list[HitOut]


class DocumentEntry(BaseModel):
    model_config = ConfigDict(extra="allow")

    doc_id: str
    title: str
    source: str
    chars: int
    chunks: int
    added_at: str


class DocumentList(BaseModel):
    documents: list[DocumentEntry]


class DocumentDetail(DocumentEntry):
    text: str = Field(..., description="清洗后的全文；引用的 start/end 即此文本中的位置")


class JobAccepted(BaseModel):
    job_id: str
    status: Literal["queued", "running", "done", "failed"]
    status_url: str = Field(..., description="查询进度：GET /api/jobs/{job_id}")


class JobStatus(BaseModel):
    model_config = ConfigDict(extra="allow")

    job_id: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float = Field(..., ge=0, le=1)
    doc_id: str | None = Field(None, description="完成后的文档 doc_id")
    error: str | None = Field(None, description="失败原因")


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the 4xx codes a route can return, all in the {"detail"} shape."""
    meaning = {
        400: "请求有误",
        401: "缺少或错误的 API 密钥",
        404: "不存在",
        405: "请求方法不对",
        409: "内容已在知识库中",
        413: "请求或文件过大",
        429: "请求过多（上传或后台任务已满、密钥尝试过多），稍后按 Retry-After 重试",
        415: "不支持的文件类型",
        422: "参数校验失败或文件中没有可提取的文字",
    }
    return {code: {"model": ErrorDetail, "description": meaning[code]} for code in codes}


# --------------------------------------------------------------------------- dependencies


def get_jobs(request: Request) -> JobManager:
    return request.app.state.jobs


JobsDep = Annotated[JobManager, Depends(get_jobs)]

# --------------------------------------------------------------------------- routes

health_router = APIRouter(tags=["系统"])


@health_router.get(
    "/healthz",
    response_model=Health,
    summary="健康检查（无需密钥）",
    responses={503: {"model": Health, "description": "无法回答问题（如索引数据库不可读且尚未加载索引）"}},
)
def healthz(assistant: AssistantDep):
    health = assistant.health()
    if health["status"] == "down":  # 503 only when nothing can answer; a degraded service is still 200
        body = Health.model_validate(health).model_dump(exclude_none=True)
        return UnicodeJSONResponse(body, status_code=503)
    return health


ask_router = APIRouter(
    prefix="/api", tags=["问答"], dependencies=API_KEY, responses=errors(400, 401, 413, 422)
)


@ask_router.post(
    "/ask", response_model=AskResponse, response_model_exclude_none=True, summary="提问，返回带引用的答案"
)
def ask(body: AskRequest, request: Request, assistant: AssistantDep):
    note_question(request, body.question)
    return assistant.ask(body.question, top_k=body.top_k, history=body.history_dicts()).to_dict()


def sse_event_schema(event: str, data: dict | None = None) -> dict:
    """OpenAPI (< 3.2) describes each server-sent event as an object; JSON data via contentSchema."""
    data_schema = {"type": "string"}
    if data is not None:
        data_schema |= {"contentMediaType": "application/json", "contentSchema": data}
    return {
        "type": "object",
        "required": ["event", "data"],
        "properties": {"event": {"const": event}, "data": data_schema},
    }


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


@ask_router.post(
    "/ask/stream", response_class=EventSourceResponse, responses=SSE_DOC, summary="提问（流式，SSE）"
)
async def ask_stream(body: AskRequest, request: Request, assistant: AssistantDep):
    note_question(request, body.question)
    pieces = assistant.ask_stream(body.question, top_k=body.top_k, history=body.history_dicts())
    first = await first_item(pieces)  # validation errors become a 4xx here, before any byte is sent
    return EventSourceResponse(_ask_events(pieces, first), ping=15)


async def _ask_events(pieces: Iterator, first) -> AsyncIterator[ServerSentEvent]:
    async for item in stream_items(pieces, first):
        if isinstance(item, Answer):
            yield ServerSentEvent(json.dumps(item.to_dict(), ensure_ascii=False), event="done")
        elif isinstance(item, AssistantError):
            yield ServerSentEvent(json.dumps({"detail": item.message}, ensure_ascii=False), event="error")
        elif item:
            yield ServerSentEvent(item, event="token")


@ask_router.post("/search", response_model=SearchResponse, summary="只检索，不生成答案")
def search(body: SearchRequest, request: Request, assistant: AssistantDep):
    note_question(request, body.query)
    return {"hits": [h.to_dict() for h in assistant.search(body.query, top_k=body.top_k)]}


documents_router = APIRouter(prefix="/api", tags=["文档"], dependencies=API_KEY, responses=errors(401))


@documents_router.get("/documents", response_model=DocumentList, summary="列出已编入索引的文档")
def list_documents(assistant: AssistantDep):
    return {"documents": assistant.documents()}


@documents_router.get(
    "/documents/{doc_id}", response_model=DocumentDetail, responses=errors(404, 422), summary="文档全文"
)
def get_document(doc_id: str, assistant: AssistantDep):
    return assistant.document(doc_id)


@documents_router.post(
    "/documents",
    status_code=201,
    response_model=DocumentEntry,
    summary=f"上传文档（{SUPPORTED_LIST}），编入索引后返回",
    description="小文件编入索引后返回 201 与文档条目（此时已可检索）；预计耗时超过约 10 秒的大文件返回 202 与 job_id，"
    "在后台编入索引，用 GET /api/jobs/{job_id} 查看进度。大小上限为 ASSISTANT_MAX_UPLOAD_MB（默认 20 MB）。",
    responses={
        202: {"model": JobAccepted, "description": "大文件：已接受，后台编入索引"},
        **errors(400, 409, 413, 415, 422, 429),
    },
)
async def upload_document(
    request: Request,
    jobs: JobsDep,
    file: Annotated[UploadFile, File(description=f"文档文件：{SUPPORTED_LIST}")],
    title: Annotated[
        str | None, Form(max_length=200, description="标题（可选，默认取文档首个标题行）")
    ] = None,
):
    limit = int(jobs.assistant.settings.max_upload_mb * 1024 * 1024)
    data = await file.read(limit + 1)  # one byte over is enough for the 413 raised by check_upload
    meta = {"title": title.strip()} if title and title.strip() else None
    gate: UploadGate = request.app.state.upload_gate
    result = await gate.run(jobs.upload, file.filename or "", data, meta)
    if result.job is not None:
        url = f"/api/jobs/{result.job['job_id']}"
        return UnicodeJSONResponse(
            {"job_id": result.job["job_id"], "status": result.job["status"], "status_url": url},
            status_code=202,
            headers={"Location": url},
        )
    return result.document


class UploadGate:
    """At most `upload_concurrency` uploads are parsed and embedded at once, each on a worker thread; others
    wait in the event loop (holding no thread, so /healthz and questions always find one), at most
    `upload_queue` of them and for at most `upload_wait_s`; beyond that a 429 with Retry-After."""

    def __init__(self, settings: Settings):
        self.slots = settings.upload_concurrency
        self.max_waiting = settings.upload_queue
        self.wait_s = settings.upload_wait_s
        self._semaphore: asyncio.Semaphore | None = None
        self.waiting = 0

    async def run(self, fn, *args):
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.slots)
        if self._semaphore.locked() and self.waiting >= self.max_waiting:
            raise TooManyRequests(
                f"上传过于集中：已有 {self.slots} 个文件正在编入索引、{self.waiting} 个在排队，请稍后重试（见 Retry-After）。",
                retry_after=10,
            )
        self.waiting += 1
        try:
            await asyncio.wait_for(self._semaphore.acquire(), self.wait_s)
        except TimeoutError:
            raise TooManyRequests(
                f"上传排队超过 {self.wait_s:g} 秒仍未轮到：服务器正忙，请稍后重试（见 Retry-After）。",
                retry_after=30,
            ) from None
        finally:
            self.waiting -= 1
        try:
            return await run_in_threadpool(fn, *args)
        finally:
            self._semaphore.release()


@documents_router.delete(
    "/documents/{doc_id}",
    status_code=204,
    response_class=Response,
    responses=errors(404, 422),
    summary="删除文档（从 corpus/ 与两个索引中移除）",
)
def delete_document(doc_id: str, assistant: AssistantDep):
    assistant.remove_document(doc_id)
    return Response(status_code=204)


@documents_router.get(
    "/jobs/{job_id}",
    response_model=JobStatus,
    response_model_exclude_none=True,
    responses=errors(404, 422),
    summary="后台编入索引任务的状态",
)
def get_job(job_id: str, jobs: JobsDep):
    return jobs.get(job_id)


PackTopic = Annotated[
    str, Field(json_schema_extra={"minLength": 1, "maxLength": 50, "pattern": TOPIC_PATTERN})
]
PackKind = Annotated[str, Field(json_schema_extra={"enum": ["典型案例", "数据成效", "工作举措"]})]


class CoursePackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The limits are documented here and checked by the service, which answers with a Chinese 400 saying what to fix.
    topics: list[PackTopic] = Field(
        ...,
        description="主题，1–10 个，每个不超过 50 字",
        examples=[["网格化管理", "物业党建"]],
        json_schema_extra={"minItems": 1, "maxItems": 10},
    )
    format: str = Field(
        "json",
        description="json（默认）、docx（Word/WPS）或 md（Markdown）",
        json_schema_extra={"enum": ["json", "docx", "md"]},
    )
    exclude: list[str] | None = Field(None, description="不要的素材条目 id（来自 JSON 结果的 items[].id）")
    sections: list[PackKind] | None = Field(
        None,
        description='要导出的类别及其顺序，例如 ["工作举措", "典型案例"]；未列出的类别不导出（与网页上删掉类别相同）',
    )
    summaries: StrictBool = Field(
        True, description="大模型模式下为每个类别生成带出处的要点小结（抽取式模式忽略）"
    )
    max_items: int | None = Field(
        None, ge=1, le=100, strict=True, description="每个主题最多几条素材（默认 25，按相关程度取前若干条）"
    )


class PackItemOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    text: str
    n: int = Field(..., description="出处编号，对应 references[].n")
    doc_id: str
    title: str
    source: str
    quote: str = Field(..., description="原文摘录，等于文档 text[start:end]")
    start: int
    end: int
    sentences: list[dict] = Field(
        default_factory=list, description="条目中的各句（start、end），每句都标注出处 [n]"
    )
    topic: str = Field("", description="条目所在的主题")
    also: list[str] = Field(default_factory=list, description="条目同样涉及的其他主题（只出现一次）")
    label: str = Field("", description="可读的出处：《标题》（地区，日期）")


class PackSectionOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    kind: Literal["典型案例", "数据成效", "工作举措"]
    items: list[PackItemOut]
    summary: str | None = Field(None, description="大模型模式：本类别的要点小结，[n] 对应 references[].n")


class PackReferenceOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    n: int
    doc_id: str
    title: str
    source: str
    region: str = ""
    date: str = ""
    label: str = Field("", description="可读的出处：《标题》（地区，日期），不含内部文件名")


class PackPartOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    topic: str
    lead: str = Field("", description="导语：涉及的地方/单位及主要数据，每句标注 [n]（原文摘录）")
    sections: list[PackSectionOut]


class CoursePackResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    title: str
    topics: list[str]
    parts: list[PackPartOut] = Field(default_factory=list, description="每个主题一部分（导语 + 各类别）")
    sections: list[PackSectionOut] = Field(..., description="各部分的条目按类别合并（每条只出现一次）")
    references: list[PackReferenceOut]
    max_items: int = 25
    summaries_note: str | None = Field(None, description="未生成要点小结时的说明")


COURSEPACK_FILES = {
    200: {
        "description": "format=json 时为 JSON；docx、md 时为文件本身（Content-Disposition 给出文件名）",
        "content": {
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
                "schema": {"type": "string", "format": "binary"}
            },
            "text/markdown": {"schema": {"type": "string"}},
        },
    }
}

coursepack_router = APIRouter(
    prefix="/api", tags=["课程素材"], dependencies=API_KEY, responses=errors(400, 401, 413, 422)
)


@coursepack_router.post(
    "/coursepack",
    response_model=CoursePackResponse,
    responses=COURSEPACK_FILES,
    summary="按主题汇编带出处的课程素材（JSON、Word 或 Markdown）",
)
def coursepack(body: CoursePackRequest, assistant: AssistantDep):
    if body.format == "json":
        return assistant.course_pack(
            body.topics, body.exclude, body.sections, body.summaries, body.max_items
        ).to_dict()
    export = assistant.course_pack_export(
        body.topics, body.format, body.exclude, body.sections, body.summaries, body.max_items
    )
    return Response(
        export.data, media_type=export.media_type, headers={"Content-Disposition": export.content_disposition}
    )


def api_routers() -> list[APIRouter]:
    """Every router of the API, in one place. New features (e.g. POST /api/coursepack) add theirs here."""
    return [health_router, ask_router, documents_router, coursepack_router, openai_router]


# --------------------------------------------------------------------------- errors, mapped once


async def on_assistant_error(request: Request, exc: AssistantError) -> JSONResponse:
    if exc.status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc.message)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    return error_response(
        request.url.path, exc.status, exc.message, code=getattr(exc, "code", None), headers=headers
    )


async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    message, param = describe_validation_errors(exc.errors())
    if is_openai_path(request.url.path):  # OpenAI answers malformed requests with 400
        return error_response(request.url.path, 400, message, param=param)
    return error_response(request.url.path, 422, message)


async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code < 400:
        return Response(status_code=exc.status_code, headers=exc.headers)
    path = request.url.path
    messages = {
        400: "无法解析请求体：JSON 请求须为 UTF-8 编码的 JSON 对象（Content-Type: application/json），"
        "上传文件须用 multipart/form-data。",
        404: f"接口不存在：{path}。可用的接口见 /docs。",
        405: f"接口 {path} 不支持 {request.method} 请求：请查看 /docs 中的用法。",
        413: too_large_message(path, request.app.state.assistant.settings.max_upload_mb),
    }
    message = messages.get(exc.status_code) or f"请求无法处理（HTTP {exc.status_code}）：{exc.detail}"
    return error_response(path, exc.status_code, message, headers=exc.headers)


def too_large_message(path: str, max_upload_mb: float) -> str:
    if path.rstrip("/") == "/api/documents":
        return f"文件过大：上传上限为 {max_upload_mb:g} MB（ASSISTANT_MAX_UPLOAD_MB），请拆分后上传。"
    return f"请求体过大：JSON 请求上限为 {JSON_BODY_LIMIT // 1048576} MB，请缩短问题或对话历史。"


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, UnicodeError):  # e.g. a lone surrogate that slipped past validation: the input's fault
        log.warning("undecodable input on %s %s: %s", request.method, request.url.path, exc)
        return error_response(
            request.url.path,
            400,
            "请求中含有无效的 Unicode 字符（如孤立的代理项 \\ud800）：请检查文本编码后重试。",
        )
    log.exception(
        "unhandled error on %s %s (route %s)", request.method, request.url.path, _route_path(request.scope)
    )
    return error_response(request.url.path, 500, INTERNAL_ERROR)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AssistantError, on_assistant_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


_TYPE_NAMES = {
    "string": "字符串",
    "int": "整数",
    "float": "数字",
    "bool": "true 或 false",
    "list": "列表",
    "dict": "JSON 对象",
    "model": "JSON 对象",
    "model_attributes": "JSON 对象",
}


def describe_validation_errors(errs: list[dict]) -> tuple[str, str | None]:
    """Pydantic errors → one readable Chinese sentence (and the first offending field, for OpenAI's `param`)."""
    parts, first_field = [], None
    for err in errs[:5]:
        loc = list(err.get("loc", ()))
        if loc and loc[0] in ("body", "query", "path", "header", "cookie"):  # where, not which field
            loc = loc[1:]
        name = _field_name(loc)
        first_field = first_field or (name or None)
        parts.append(_describe_one(err, name or "请求体"))
    if len(errs) > 5:
        parts.append(f"另有 {len(errs) - 5} 处错误")
    return "请求参数有误：" + "；".join(dict.fromkeys(parts)) + "。", first_field


def _field_name(loc: list) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe_one(err: dict, name: str) -> str:
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "missing":
        if name == "file":
            return "缺少上传文件：请用 multipart/form-data 上传，文件字段名为 file"
        return (
            "缺少请求体：请发送 JSON 对象（Content-Type: application/json）"
            if name == "请求体"
            else f"缺少必填字段 {name}"
        )
    if kind == "json_invalid":
        return f"请求体不是合法的 JSON（{ctx.get('error', '格式错误')}）：请检查引号、逗号和括号"
    if kind == "value_error":
        return f"{name}：{ctx.get('error', err.get('msg', ''))}"
    if kind in ("string_too_short", "too_short"):
        return (
            f"{name} 不能为空"
            if ctx.get("min_length") == 1
            else f"{name} 至少需要 {ctx.get('min_length')} 个（字符/项）"
        )
    if kind in ("string_too_long", "too_long"):
        return f"{name} 过长：最多 {ctx.get('max_length')} 个（字符/项）"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {
            "greater_than_equal": ("不小于", "ge"),
            "greater_than": ("大于", "gt"),
            "less_than_equal": ("不大于", "le"),
            "less_than": ("小于", "lt"),
        }[kind]
        return f"{name} 应{bound[0]} {ctx.get(bound[1])}"
    if kind in ("literal_error", "enum"):
        return f"{name} 只能是 {str(ctx.get('expected')).replace(' or ', ' 或 ')}"
    if kind == "extra_forbidden":
        return f"不认识的字段 {name}：请删除它（字段名见 /docs）"
    if kind in ("model_attributes_type", "dict_type") and name == "请求体":
        if isinstance(err.get("input"), (bytes, str)):  # the body was not parsed as JSON at all
            return "请求体应为 JSON 对象：请设置请求头 Content-Type: application/json"
        return "请求体应为 JSON 对象"
    for prefix, label in _TYPE_NAMES.items():
        if kind.startswith(prefix + "_") or kind == prefix:
            return f"{name} 应为{label}"
    return f"{name}：{err.get('msg', '格式错误')}"


# --------------------------------------------------------------------------- middleware


def key_matches(given: str, keys: list[str]) -> bool:
    """Constant-time comparison against every configured key (no early exit that leaks which one)."""
    given_bytes = given.encode("utf-8", "surrogatepass")
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given_bytes, key.encode("utf-8"))
    return matched


class AuthLimiter:
    """Failed key or login attempts per client address: after `max_failures` within `window_s`, every attempt
    from that client is a 429 (Retry-After) until the oldest failure leaves the window — a right key too, so
    the limiter never confirms a guess."""

    def __init__(self, max_failures: int, window_s: float):
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, collections.deque] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int | None:
        now = time.monotonic()
        with self._lock:
            times = self._failures.get(client)
            if not times:
                return None
            while times and now - times[0] > self.window_s:
                times.popleft()
            if not times:
                del self._failures[client]
                return None
            if len(times) < self.max_failures:
                return None
            return max(1, int(self.window_s - (now - times[0])) + 1)

    def failed(self, client: str) -> None:
        with self._lock:
            if len(self._failures) > 10_000:  # many clients: forget the quiet ones first
                self._failures = {k: v for k, v in self._failures.items() if len(v) > 1}
            self._failures.setdefault(client, collections.deque(maxlen=self.max_failures)).append(
                time.monotonic()
            )

    @staticmethod
    def client(scope: Scope) -> str:
        client = scope.get("client")
        return str(client[0]) if client else "?"

    def too_many(self, path: str, retry: int) -> Response:
        return error_response(
            path,
            429,
            f"密钥或登录尝试过于频繁：请 {retry} 秒后再试（同一客户端 {self.window_s:g} 秒内最多失败 "
            f"{self.max_failures} 次）。",
            headers={"Retry-After": str(retry)},
        )


LOGIN_PATHS = ("/login", "/login/")


class ApiKeyGuard:
    """With ASSISTANT_API_KEYS set, /api/* and /v1/* need `Authorization: Bearer <key>`; /healthz, /docs and the
    UI stay open. Checked before the body is read, so an unauthenticated client learns nothing else. Wrong keys
    and failed UI logins (POST /login) are counted per client by `AuthLimiter`: a burst of them is a 429."""

    def __init__(self, app: ASGIApp, keys: list[str], limiter: AuthLimiter):
        self.app = app
        self.keys = [k for k in keys if k]
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not self.keys:
            return await self.app(scope, receive, send)
        if path in LOGIN_PATHS and scope.get("method") == "POST":
            return await self._login(scope, receive, send)
        if not _is_protected(path):
            return await self.app(scope, receive, send)
        header = dict(scope.get("headers") or ()).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        client = self.limiter.client(scope)
        if scheme.lower() != "bearer" or not token.strip():
            response = error_response(
                path, 401, "缺少 API 密钥：请在请求头中加入 Authorization: Bearer <密钥>。"
            )
        elif (retry := self.limiter.retry_after(client)) is not None:
            response = self.limiter.too_many(path, retry)
        elif not key_matches(token.strip(), self.keys):
            self.limiter.failed(client)
            response = error_response(
                path, 401, "API 密钥无效：请检查 Authorization: Bearer 后的密钥是否正确。"
            )
        else:
            return await self.app(scope, receive, send)
        scope.setdefault("state", {})["auth_failed"] = True
        await response(scope, receive, send)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = self.limiter.client(scope)
        if (retry := self.limiter.retry_after(client)) is not None:
            scope.setdefault("state", {})["auth_failed"] = True
            return await self.limiter.too_many(scope.get("path", ""), retry)(scope, receive, send)

        async def note(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                self.limiter.failed(client)
            await send(message)

        await self.app(scope, receive, note)


# Gradio's upload route takes several files per request; each is limited by Gradio (max_file_size).
GRADIO_UPLOAD = "/gradio_api/upload"
GRADIO_UPLOAD_FILES = 20  # files' worth of bytes one upload request may carry


class BodyLimit:
    """413 for oversized bodies before the app reads them: uploads up to ASSISTANT_MAX_UPLOAD_MB (plus multipart
    framing), JSON up to JSON_BODY_LIMIT. A body without Content-Length is buffered up to the limit, then replayed.

    Every request body (the UI's too) must also arrive within `body_timeout_s`: a client trickling its body
    gets a 408 and the connection is closed, so slow bodies cannot hold workers or sockets."""

    def __init__(self, app: ASGIApp, max_upload_mb: float, body_timeout_s: float = 60.0):
        self.app = app
        self.max_upload_mb = max_upload_mb
        self.upload_limit = int(max_upload_mb * 1024 * 1024) + MULTIPART_OVERHEAD
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        receive, send = self._deadline(scope, receive, send)
        path = scope.get("path", "")
        if path.rstrip("/") == GRADIO_UPLOAD:
            limit = self.upload_limit * GRADIO_UPLOAD_FILES
            send = self._chinese_413(send)
        elif _is_protected(path):
            limit = self.upload_limit if path.rstrip("/") == "/api/documents" else JSON_BODY_LIMIT
        else:
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or ()).get(b"content-length")
        if length is not None and length.isdigit():
            if int(length) > limit:
                return await self._reject(scope, receive, send)
            return await self.app(scope, receive, send)
        buffered, size = [], 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                return await self._reject(scope, receive, send)
            if not message.get("more_body"):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    def _deadline(self, scope: Scope, receive: Receive, send: Send) -> tuple[Receive, Send]:
        """`receive` that gives up on a body not complete by the deadline: it answers 408 itself, then tells the
        app the client is gone; whatever the app sends afterwards is dropped."""
        deadline = time.monotonic() + self.body_timeout_s
        state = {"body_done": scope.get("method") in ("GET", "HEAD", "OPTIONS"), "started": False}
        state["timed_out"] = False

        async def timed_receive() -> Message:
            if state["body_done"] or state["timed_out"]:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                state["timed_out"] = True
                if not state["started"]:
                    state["started"] = True
                    path = scope.get("path", "")
                    message_text = (
                        f"请求体在 {self.body_timeout_s:g} 秒内未传完，连接已关闭：请检查网络后重试。"
                    )
                    response = error_response(path, 408, message_text, headers={"Connection": "close"})
                    await response(scope, receive, send)
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body"):
                state["body_done"] = True
            return message

        async def guarded_send(message: Message) -> None:
            if state["timed_out"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        return timed_receive, guarded_send

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        await error_response(path, 413, too_large_message(path, self.max_upload_mb))(scope, receive, send)

    def _chinese_413(self, send: Send) -> Send:
        """Gradio's upload route says "File size exceeded ..." in English: the same 413, in Chinese."""
        body = json.dumps(
            {
                "detail": f"文件过大：单个文件上限为 {self.max_upload_mb:g} MB（ASSISTANT_MAX_UPLOAD_MB），请拆分后上传。"
            },
            ensure_ascii=False,
        ).encode("utf-8")
        swapped = {"on": False, "sent": False}

        async def translate(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 413:
                swapped["on"] = True
                headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ]
                return await send({**message, "headers": headers})
            if swapped["on"] and message["type"] == "http.response.body":
                if not swapped["sent"]:
                    swapped["sent"] = True
                    await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        return translate


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class OriginGuard:
    """DNS rebinding and cross-site requests, for the default setup without keys (and with them).

    `Host` must name this server: a loopback name, the address the connection arrived on (the bind address),
    or one of `ASSISTANT_ALLOWED_HOSTS` (`*` allows any, `.example.org` a domain and its subdomains); anything
    else is a 400. A state-changing request (POST, PUT, PATCH, DELETE) that a browser sent from another origin
    (its `Origin`, or failing that its `Referer`) is a 403 unless the origin is in `ASSISTANT_ALLOWED_ORIGINS`:
    a page elsewhere cannot upload, delete or ask through a visitor's browser, not even with a `no-cors` form.
    Clients that send neither header (curl, SDKs) are not browsers acting for someone else and pass."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str], allowed_origins: list[str]):
        self.app = app
        self.any_host = "*" in allowed_hosts
        self.hosts = {h.lower().rstrip(".") for h in allowed_hosts if h and not h.startswith(".")}
        self.domains = tuple(h.lower().rstrip(".") for h in allowed_hosts if h.startswith(".") and len(h) > 1)
        self.origins = {o.lower().rstrip("/") for o in allowed_origins if o}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or ())
        host_header = headers.get(b"host", b"").decode("latin-1").strip().lower()
        path = scope.get("path", "")
        if host_header and not self._host_allowed(_host_name(host_header), scope):
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            message = (
                f"不接受的 Host 请求头“{host_header[:100]}”：请用本机地址访问；"
                "通过其他域名访问时，请在 ASSISTANT_ALLOWED_HOSTS 中加入该域名。"
            )
            return await error_response(path, 400, message)(scope, receive, send)
        if scope["type"] == "http" and scope.get("method") not in SAFE_METHODS:
            origin = headers.get(b"origin", b"").decode("latin-1").strip().lower()
            if not origin:
                referer = headers.get(b"referer", b"").decode("latin-1").strip()
                if referer:
                    parts = urlsplit(referer)
                    origin = f"{parts.scheme}://{parts.netloc}".lower()
            if origin and not self._same_or_allowed(origin, host_header, scope):
                message = (
                    "拒绝跨站请求：来自其他网站（Origin/Referer 不是本服务）的修改类请求不被接受。"
                    "如需从其他网址调用，请在 ASSISTANT_ALLOWED_ORIGINS 中加入该来源，或不带 Origin 直接调用 API。"
                )
                return await error_response(path, 403, message)(scope, receive, send)
        await self.app(scope, receive, send)

    def _host_allowed(self, host: str, scope: Scope) -> bool:
        if self.any_host or host in LOOPBACK_HOSTS or host.endswith(".localhost") or host in self.hosts:
            return True
        if self.domains and any(host == d[1:] or host.endswith(d) for d in self.domains):
            return True
        server = scope.get("server")
        if server and host == str(server[0]).lower():  # the address this connection arrived on
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def _same_or_allowed(self, origin: str, host_header: str, scope: Scope) -> bool:
        if origin == "null":
            return False
        if origin.rstrip("/") in self.origins or "*" in self.origins:
            return True
        parts = urlsplit(origin)
        scheme = scope.get("scheme", "http").replace("ws", "http")
        default = {"http": 80, "https": 443}
        try:
            origin_port = parts.port or default.get(parts.scheme)
        except ValueError:
            return False
        own = urlsplit(f"{scheme}://{host_header}")
        try:
            own_port = own.port or default.get(scheme)
        except ValueError:
            return False
        return (
            parts.scheme == scheme
            and (parts.hostname or "") == (own.hostname or "")
            and origin_port == own_port
        )


def _host_name(host_header: str) -> str:
    """`example.org:8000` → `example.org`; `[::1]:8000` → `::1`."""
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0]
    if host_header.count(":") == 1:
        host_header = host_header.split(":", 1)[0]
    return host_header.rstrip(".")


# Pages may run their own (inline) scripts and styles and talk to this server only: no other origin can be
# framed, fetched, posted to or loaded from (an injected <img src=//elsewhere> or fetch() cannot leak anything).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' data: blob:; connect-src 'self'; "
    "worker-src 'self' blob:; frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class SecurityHeaders:
    """`X-Content-Type-Options: nosniff`, no framing by other sites (`X-Frame-Options` and CSP
    `frame-ancestors`) and a same-origin referrer policy on every response; the CSP above on HTML pages."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {k.lower() for k, _ in headers}
                content_type = dict(headers).get(b"content-type", b"")
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (
                        b"content-security-policy",
                        CONTENT_SECURITY_POLICY.encode()
                        if content_type.startswith(b"text/html")
                        else b"frame-ancestors 'none'",
                    ),
                ]
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def uvicorn_options(settings: Settings) -> dict:
    """Server options for `uvicorn.run`/`uvicorn.Config`: idle keep-alive connections closed after
    `keep_alive_s`, and a request whose headers are not complete within `header_timeout_s` is dropped
    (uvicorn itself never times out a slow request head)."""
    return {
        "timeout_keep_alive": settings.keep_alive_s,
        "http": header_deadline_protocol(settings.header_timeout_s),
        "h11_max_incomplete_event_size": 64 * 1024,
    }


def header_deadline_protocol(seconds: float):
    """uvicorn's h11 protocol with a deadline for each request head: armed when a connection opens and after
    each response, cleared once the whole head has arrived; when it passes, a 408 and the connection closes."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderDeadlineH11Protocol(H11Protocol):
        header_timeout_s = seconds

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._head_timer = None
            self._arm_head_timer()

        def _arm_head_timer(self) -> None:
            self._cancel_head_timer()
            self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timeout)

        def _cancel_head_timer(self) -> None:
            timer = getattr(self, "_head_timer", None)
            if timer is not None:
                timer.cancel()
                self._head_timer = None

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state is not h11.IDLE:  # a whole request head has arrived
                self._cancel_head_timer()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm_head_timer()

        def connection_lost(self, exc) -> None:
            self._cancel_head_timer()
            super().connection_lost(exc)

        def _head_timeout(self) -> None:
            self._head_timer = None
            if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
                return
            if self.cycle is not None and not self.cycle.response_complete:
                return
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"connection: close\r\ncontent-length: 0\r\n\r\n"
            )
            self.transport.close()

    return HeaderDeadlineH11Protocol


def _is_protected(path: str) -> bool:
    return path in ("/api", "/v1") or path.startswith(("/api/", "/v1/"))


def _route_path(scope: Scope) -> str | None:
    route = scope.get("route")
    return getattr(route, "path", None)


class AccessLog:
    """One structured line per request: method, route, status, latency, question length. Never headers
    (the API key) and never the question text."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = [500]

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self._log(scope, status[0], time.perf_counter() - started)

    @staticmethod
    def _log(scope: Scope, status: int, seconds: float) -> None:
        path = scope.get("path", "")
        ours = path == "/healthz" or _is_protected(path) or path in ("/docs", "/openapi.json")
        level = logging.INFO if ours else logging.DEBUG
        if status >= 500:
            level = logging.ERROR
        if not access_log.isEnabledFor(level):
            return
        state = scope.get("state") or {}
        line = {
            "method": scope.get("method"),
            "route": _route_path(scope) or path,
            "path": path,
            "status": status,
            "ms": round(1000 * seconds, 1),
        }
        if "question_chars" in state:
            line["question_chars"] = state["question_chars"]
        access_log.log(level, json.dumps(line, ensure_ascii=False))


# --------------------------------------------------------------------------- the app


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Methods the documented API accepts on this path (for a 405's Allow header)."""
    found = set()
    for template, operations in app.openapi().get("paths", {}).items():
        if compile_path(template)[0].match(path):
            found |= {m.upper() for m in operations}
    return sorted(found)


def add_not_found_routes(app: FastAPI) -> None:
    """Unknown paths under /api and /v1 get a 404 (or a 405 if the path exists for another method) in the
    right error shape, instead of falling through to the UI."""

    def not_found(request: Request):
        allowed = allowed_methods(request.app, request.url.path)
        if allowed:
            raise StarletteHTTPException(405, headers={"Allow": ", ".join(allowed)})
        raise NotFound(f"接口不存在：{request.method} {request.url.path}。可用的接口见 /docs。")

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    for prefix in ("/api", "/v1"):
        app.add_api_route(prefix + "/{rest:path}", not_found, methods=methods, include_in_schema=False)


def declare_security(app: FastAPI, required: bool) -> None:
    """Keep the schema honest: without ASSISTANT_API_KEYS the bearer key is optional (`{}` in `security`)."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = generate()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    security = operation.get("security")
                    if security is not None and not required and {} not in security:
                        security.append({})
        return app.openapi_schema

    app.openapi = openapi


def create_app(assistant: Assistant, with_ui: bool = True) -> FastAPI:
    app = FastAPIOffline(
        title="政策问答助手 API",
        version=__version__,
        default_response_class=UnicodeJSONResponse,
        description="基于政策文件的检索增强问答：答案逐句以 [n] 标注出处，引用原文可在文档全文中定位。"
        "设置了 ASSISTANT_API_KEYS 时，/api 与 /v1 接口需要 `Authorization: Bearer <密钥>`。"
        "另有 OpenAI 兼容接口 /v1/chat/completions（模型名 policy-assistant）。",
    )
    app.state.assistant = assistant
    app.state.jobs = job_manager(assistant)  # also settles jobs a previous process left unfinished
    s = assistant.settings
    app.state.upload_gate = UploadGate(s)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_upload_mb=s.max_upload_mb, body_timeout_s=s.body_timeout_s)
    app.add_middleware(  # before the body limit: 401 first
        ApiKeyGuard, keys=list(s.api_keys), limiter=AuthLimiter(s.auth_max_failures, s.auth_window_s)
    )
    app.add_middleware(
        OriginGuard, allowed_hosts=list(s.allowed_hosts), allowed_origins=list(s.allowed_origins)
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog)  # outermost: sees every request, including rejected ones
    for router in api_routers():
        app.include_router(router)
    add_not_found_routes(app)
    declare_security(app, required=bool(assistant.settings.api_keys))

    if with_ui:  # last: the UI is mounted at `/` and catches every other path
        try:
            from .ui import mount_ui
        except ImportError:
            mount_ui = None
        if mount_ui is not None:
            app = mount_ui(app, assistant)
    return app
