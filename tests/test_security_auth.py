"""Issue 12, item 9: key and login attempts are rate-limited per client, against a real `assistant serve` with
ASSISTANT_API_KEYS (a burst of failures is a 429 with Retry-After — a right key too, so the limit confirms
nothing — and the client is let in again once the window has passed). Slow clients: tests/test_security.py."""

from __future__ import annotations

import time

import httpx
import pytest
from test_security import ServeProcess

KEY = "correct-horse-battery"


@pytest.fixture(scope="module")
def keyed(base_index, tmp_path_factory):
    srv = ServeProcess(
        tmp_path_factory.mktemp("auth"), base_index, api_keys=KEY, auth_max_failures=5, auth_window_s=3
    )
    yield srv
    srv.stop()


def wait_out(response: httpx.Response) -> None:
    """Sleep until the limiter's window has passed (the server says how long in Retry-After)."""
    time.sleep(int(response.headers["retry-after"]) + 0.5)


def test_failed_logins_then_keys_are_limited(keyed):
    with httpx.Client(base_url=keyed.url, timeout=60) as c:
        for _ in range(5):
            r = c.post("/login", data={"username": "干部", "password": "guess"})
            assert r.status_code in (400, 401), r.text
        blocked = c.post("/login", data={"username": "干部", "password": KEY})
        assert blocked.status_code == 429
        assert "尝试过于频繁" in blocked.json()["detail"]
        assert c.get("/healthz").status_code == 200  # nothing else is limited
        wait_out(blocked)
        assert c.post("/login", data={"username": "干部", "password": KEY}).status_code == 200

        headers = {"Authorization": "Bearer wrong-key"}
        for _ in range(5):
            assert c.get("/api/documents", headers=headers).status_code == 401
        limited = c.get("/api/documents", headers={"Authorization": f"Bearer {KEY}"})
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        openai = c.get("/v1/models", headers={"Authorization": f"Bearer {KEY}"})
        assert openai.status_code == 429 and openai.json()["error"]["type"]
        wait_out(limited)
        assert c.get("/api/documents", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
