"""What route handlers receive by injection: the one `Assistant`, its job manager, the upload gate, and the
bearer key scheme. Everything lives on `app.state` (set once by `create_app`), never in module globals."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool

from ..config import Settings
from ..errors import TooManyRequests
from ..jobs import JobManager
from ..service import Assistant


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


def get_assistant(request: Request) -> Assistant:
    return request.app.state.assistant


def get_jobs(request: Request) -> JobManager:
    return request.app.state.jobs


def get_upload_gate(request: Request) -> UploadGate:
    return request.app.state.upload_gate


AssistantDep = Annotated[Assistant, Depends(get_assistant)]
JobsDep = Annotated[JobManager, Depends(get_jobs)]
UploadGateDep = Annotated[UploadGate, Depends(get_upload_gate)]

# Declares the scheme in OpenAPI (the 🔒 in /docs); `auth.ApiKeyGuard` enforces it before the body is even read.
bearer = HTTPBearer(
    auto_error=False, description="设置了 ASSISTANT_API_KEYS 时必填：Authorization: Bearer <密钥>"
)
API_KEY = [Security(bearer)]


@contextlib.asynccontextmanager
async def client_gone(request: Request) -> AsyncIterator[threading.Event]:
    """An event set once the client disconnects while the block runs, for work in worker threads to check.
    Only after the body has been read: then the server's next message for this request is the disconnect."""
    gone = threading.Event()

    async def watch() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
        gone.set()

    watcher = asyncio.create_task(watch())
    try:
        yield gone
    finally:
        watcher.cancel()


def note_question(request: Request, text: str) -> None:
    """Question length for the access log line (never the text itself)."""
    request.state.question_chars = len(text)
