"""The middlewares every request passes, outermost first as `create_app` adds them: `AccessLog` (one line
per request), `SecurityHeaders`, `OriginGuard` (Host and cross-site writes), then `auth.ApiKeyGuard`, then
`BodyLimit` (size and arrival deadline of request bodies). Their refusals are tree errors rendered by
`http.errors`, so a middleware's 403 looks like a handler's."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import AssistantError, Forbidden, PayloadTooLarge
from .errors import JSON_BODY_LIMIT, error_body, error_response, is_api_path, render, too_large_message

access_log = logging.getLogger("assistant.access")

MULTIPART_OVERHEAD = 64 * 1024  # multipart framing and form fields on top of the file itself


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
        try:
            self._check(scope)
        except AssistantError as exc:
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            return await render(scope.get("path", ""), exc)(scope, receive, send)
        await self.app(scope, receive, send)

    def _check(self, scope: Scope) -> None:
        headers = dict(scope.get("headers") or ())
        host_header = headers.get(b"host", b"").decode("latin-1").strip().lower()
        if host_header and not self._host_allowed(_host_name(host_header), scope):
            raise AssistantError(
                f"不接受的 Host 请求头“{host_header[:100]}”：请用本机地址访问；"
                "通过其他域名访问时，请在 ASSISTANT_ALLOWED_HOSTS 中加入该域名。"
            )
        if scope["type"] != "http" or scope.get("method") in SAFE_METHODS:
            return
        origin = headers.get(b"origin", b"").decode("latin-1").strip().lower()
        if not origin:
            referer = headers.get(b"referer", b"").decode("latin-1").strip()
            if referer:
                parts = urlsplit(referer)
                origin = f"{parts.scheme}://{parts.netloc}".lower()
        if origin and not self._same_or_allowed(origin, host_header, scope):
            raise Forbidden(
                "拒绝跨站请求：来自其他网站（Origin/Referer 不是本服务）的修改类请求不被接受。"
                "如需从其他网址调用，请在 ASSISTANT_ALLOWED_ORIGINS 中加入该来源，或不带 Origin 直接调用 API。"
            )

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
        elif is_api_path(path):
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
        await render(path, PayloadTooLarge(too_large_message(path, self.max_upload_mb)))(scope, receive, send)

    def _chinese_413(self, send: Send) -> Send:
        """Gradio's upload route says "File size exceeded ..." in English: the same 413, in Chinese."""
        message = (
            f"文件过大：单个文件上限为 {self.max_upload_mb:g} MB（ASSISTANT_MAX_UPLOAD_MB），请拆分后上传。"
        )
        body = json.dumps(error_body(GRADIO_UPLOAD, 413, message), ensure_ascii=False).encode("utf-8")
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
        ours = path == "/healthz" or is_api_path(path) or path in ("/docs", "/openapi.json")
        level = logging.INFO if ours else logging.DEBUG
        if status >= 500:
            level = logging.ERROR
        if not access_log.isEnabledFor(level):
            return
        state = scope.get("state") or {}
        line = {
            "method": scope.get("method"),
            "route": getattr(scope.get("route"), "path", None) or path,
            "path": path,
            "status": status,
            "ms": round(1000 * seconds, 1),
        }
        if "question_chars" in state:
            line["question_chars"] = state["question_chars"]
        access_log.log(level, json.dumps(line, ensure_ascii=False))
