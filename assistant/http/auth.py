"""API keys (ASSISTANT_API_KEYS): the bearer check on /api and /v1, and a per-client limit on failed key and
UI login attempts. Runs as middleware, before any body is read, so an unauthenticated client learns nothing
else; its refusals are `Unauthorized`/`TooManyRequests` rendered by `http.errors` like any other error."""

from __future__ import annotations

import collections
import hmac
import threading
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import AssistantError, TooManyRequests, Unauthorized
from .errors import is_api_path, render

LOGIN_PATHS = ("/login", "/login/")


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

    def check(self, client: str) -> None:
        """Raises `TooManyRequests` while this client is over its failures."""
        retry = self.retry_after(client)
        if retry is not None:
            raise TooManyRequests(
                f"密钥或登录尝试过于频繁：请 {retry} 秒后再试（同一客户端 {self.window_s:g} 秒内最多失败 "
                f"{self.max_failures} 次）。",
                retry_after=retry,
            )

    @staticmethod
    def client(scope: Scope) -> str:
        client = scope.get("client")
        return str(client[0]) if client else "?"


class ApiKeyGuard:
    """With ASSISTANT_API_KEYS set, /api/* and /v1/* need `Authorization: Bearer <key>`; /healthz, /docs and the
    UI stay open. Wrong keys and failed UI logins (POST /login) are counted per client by `AuthLimiter`: a burst
    of them is a 429."""

    def __init__(self, app: ASGIApp, keys: list[str], limiter: AuthLimiter):
        self.app = app
        self.keys = [k for k in keys if k]
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not self.keys:
            return await self.app(scope, receive, send)
        is_login = path in LOGIN_PATHS and scope.get("method") == "POST"
        if not is_login and not is_api_path(path):
            return await self.app(scope, receive, send)
        try:
            if is_login:
                self.limiter.check(self.limiter.client(scope))
            else:
                self._check_key(scope)
        except AssistantError as exc:
            scope.setdefault("state", {})["auth_failed"] = True
            return await render(path, exc)(scope, receive, send)
        if is_login:
            return await self.app(scope, receive, self._count_failed_login(scope, send))
        await self.app(scope, receive, send)

    def _check_key(self, scope: Scope) -> None:
        header = dict(scope.get("headers") or ()).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("缺少 API 密钥：请在请求头中加入 Authorization: Bearer <密钥>。")
        client = self.limiter.client(scope)
        self.limiter.check(client)
        if not key_matches(token.strip(), self.keys):
            self.limiter.failed(client)
            raise Unauthorized("API 密钥无效：请检查 Authorization: Bearer 后的密钥是否正确。")

    def _count_failed_login(self, scope: Scope, send: Send) -> Send:
        client = self.limiter.client(scope)

        async def note(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                self.limiter.failed(client)
            await send(message)

        return note
