"""How uvicorn serves the app: keep-alive and request-head deadlines (uvicorn itself never times out a slow
request head). `workers.HeaderDeadlineProtocol` rebuilds the protocol for spawned worker processes."""

from __future__ import annotations

from ..config import Settings


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
