"""Errors rendered once: every error body of the HTTP layer is built here, in the shape of its path family
({"detail"} for our API, OpenAI's {"error": {...}} under /v1), whether an exception handler or a middleware
answers. Pydantic's validation errors become one Chinese sentence naming each field.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import INTERNAL_ERROR, AssistantError, TooManyRequests
from .responses import UnicodeJSONResponse

log = logging.getLogger(__name__)

JSON_BODY_LIMIT = 2 * 1024 * 1024  # bytes of a JSON request body (questions are at most 2000 characters)


def is_openai_path(path: str) -> bool:
    return path == "/v1" or path.startswith("/v1/")


def is_api_path(path: str) -> bool:
    """/api and /v1: behind the key, with JSON errors (everything else is the UI, /healthz or /docs)."""
    return path in ("/api", "/v1") or path.startswith(("/api/", "/v1/"))


OPENAI_ERROR_TYPES = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    413: ("invalid_request_error", "request_too_large"),
    422: ("invalid_request_error", "invalid_request"),
}


def error_body(path: str, status: int, message: str, *, code: str | None = None, param: str | None = None):
    """{"detail"} for our API, OpenAI's {"error": {...}} for /v1."""
    if not is_openai_path(path):
        return {"detail": message}
    server = status >= 500
    kind, default_code = OPENAI_ERROR_TYPES.get(
        status, ("server_error", "server_error") if server else ("invalid_request_error", "invalid_request")
    )
    return {"error": {"message": message, "type": kind, "param": param, "code": code or default_code}}


def error_response(
    path: str,
    status: int,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    headers: dict | None = None,
) -> JSONResponse:
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    body = error_body(path, status, message, code=code, param=param)
    return UnicodeJSONResponse(body, status_code=status, headers=headers)


def render(path: str, exc: AssistantError) -> JSONResponse:
    """An `AssistantError` as a response: its status, message, OpenAI `code` and `Retry-After`."""
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    return error_response(path, exc.status, exc.message, code=getattr(exc, "code", None), headers=headers)


def too_large_message(path: str, max_upload_mb: float) -> str:
    if path.rstrip("/") == "/api/documents":
        return f"文件过大：上传上限为 {max_upload_mb:g} MB（ASSISTANT_MAX_UPLOAD_MB），请拆分后上传。"
    return f"请求体过大：JSON 请求上限为 {JSON_BODY_LIMIT // 1048576} MB，请缩短问题或对话历史。"


# --------------------------------------------------------------------------- exception handlers


async def on_assistant_error(request: Request, exc: AssistantError) -> JSONResponse:
    if exc.status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc.message)
    return render(request.url.path, exc)


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


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, UnicodeError):  # e.g. a lone surrogate that slipped past validation: the input's fault
        log.warning("undecodable input on %s %s: %s", request.method, request.url.path, exc)
        return error_response(
            request.url.path,
            400,
            "请求中含有无效的 Unicode 字符（如孤立的代理项 \\ud800）：请检查文本编码后重试。",
        )
    route = getattr(request.scope.get("route"), "path", None)
    log.exception("unhandled error on %s %s (route %s)", request.method, request.url.path, route)
    return error_response(request.url.path, 500, INTERNAL_ERROR)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AssistantError, on_assistant_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


# --------------------------------------------------------------------------- validation errors in Chinese

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
