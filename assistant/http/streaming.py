"""A sync answer generator (`Assistant.ask_stream`) served from the event loop: pulled item by item in worker
threads, errors before the first byte raised (so they become a 4xx), errors after it yielded (the 200 is sent),
the generator closed when the client goes away. Also the OpenAPI description of a server-sent event."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import anyio
from starlette.concurrency import run_in_threadpool

from ..errors import INTERNAL_ERROR, AssistantError

log = logging.getLogger(__name__)

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
