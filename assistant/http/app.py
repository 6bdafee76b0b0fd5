"""`create_app`: the FastAPI app over one `Assistant`.

Wired in this order: error handlers (`http.errors`, one rendering for both error shapes), the middlewares
(`http.middleware`, `http.auth`), the routers in `api_routers()` (add new ones there), 404/405 catch-alls for
/api and /v1, and the Gradio UI last at `/` (it catches every other path). Handlers are plain `def` (run in
the threadpool) except the streaming and upload ones.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from .. import __version__
from ..errors import NotFound
from ..jobs import job_manager
from ..service import Assistant
from .auth import ApiKeyGuard, AuthLimiter
from .deps import UploadGate
from .errors import install_error_handlers
from .middleware import AccessLog, BodyLimit, OriginGuard, SecurityHeaders
from .responses import UnicodeJSONResponse
from .routes import ask, coursepack, documents, health, jobs, openai


def api_routers() -> list[APIRouter]:
    """Every router of the API, in one place."""
    return [health.router, ask.router, documents.router, jobs.router, coursepack.router, openai.router]


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

    if with_ui:  # last: the UI is mounted at `/` and catches every other path (Gradio imported only then)
        from ..ui.app import mount_ui

        app = mount_ui(app, assistant)
    return app
