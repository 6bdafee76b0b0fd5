"""Issue 12 (hardening), attacked against a real `assistant serve` on loopback with default settings (no keys):
the UI's upload (raw Gradio queue protocol), Host/Origin checks and security headers, inputs that used to be a
500, document Markdown in answers, long questions, and slow clients. Keys and login limits: test_security_auth.py;
upload load: test_security_load.py; a hostile model: test_security_llm.py.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from conftest import ROOT
from http_utils import ServeProcess


@pytest.fixture(scope="module")
def server(base_index, tmp_path_factory):
    srv = ServeProcess(
        tmp_path_factory.mktemp("security"),
        base_index,
        max_upload_mb=1,
        body_timeout_s=2,
        header_timeout_s=2,
        keep_alive_s=2,
    )
    yield srv
    srv.stop()


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, timeout=120) as c:
        yield c


def doc_count(client) -> int:
    return len(client.get("/api/documents").json()["documents"])


# --------------------------------------------------------------------------- raw Gradio protocol


class GradioClient:
    """The UI's wire protocol, spoken directly: /config, /gradio_api/upload, /gradio_api/queue/join + data."""

    def __init__(self, client: httpx.Client):
        self.client = client
        config = client.get("/config").json()
        self.components = {c["id"]: c for c in config["components"]}
        self.dependencies = config["dependencies"]

    def component(self, elem_id: str) -> int:
        return next(i for i, c in self.components.items() if c.get("props", {}).get("elem_id") == elem_id)

    def fn_index(self, trigger: int, event: str) -> int:
        return next(
            i
            for i, d in enumerate(self.dependencies)
            if [trigger, event] in [list(t) for t in d.get("targets", [])]
        )

    def upload(self, name: str, data: bytes) -> httpx.Response:
        return self.client.post("/gradio_api/upload", files=[("files", (name, data))])

    def call(self, fn_index: int, data: list, trigger: int) -> dict:
        """Join the queue and read the event stream until the call completes; returns that message."""
        session = uuid.uuid4().hex[:12]
        joined = self.client.post(
            "/gradio_api/queue/join",
            json={
                "data": data,
                "fn_index": fn_index,
                "session_hash": session,
                "event_data": None,
                "trigger_id": trigger,
            },
        )
        assert joined.status_code == 200, joined.text
        with self.client.stream("GET", f"/gradio_api/queue/data?session_hash={session}") as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    if message.get("msg") == "process_completed":
                        return message
        raise AssertionError("the event stream ended without process_completed")


def file_data(path: str, name: str = "文件.txt") -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": name}


def test_ui_upload_reads_only_files_uploaded_through_gradio(server, client):
    """Item 1: a FileData naming a server file is refused, whether or not the file exists (same answer)."""
    ui = GradioClient(client)
    button = ui.component("qa-upload")
    fn = ui.fn_index(button, "click")
    before = doc_count(client)
    license_txt = next((p for p in ("/usr/lib/python3.11/LICENSE.txt",) if Path(p).is_file()), None)
    secrets = [str(ROOT / "README.md"), str(server.corpus_dir.parent / "index" / "assistant.db")]
    if license_txt:
        secrets.append(license_txt)
    # a file inside Gradio's cache that no client uploaded (another user's export, say)
    planted = server.gradio_dir / uuid.uuid4().hex / "planted.txt"
    planted.parent.mkdir(parents=True)
    planted.write_text("未经上传的服务器文件：社区网格员每月走访一次。", encoding="utf-8")
    outcomes = {}
    for path in [*secrets, "/nonexistent/none.txt", str(planted), "../../../../etc/hostname"]:
        started = time.monotonic()
        message = ui.call(fn, [[file_data(path, Path(path).name)]], button)
        outcomes[path] = (message, time.monotonic() - started)
        assert message["success"] is False or "只能编入通过本页面上传的文件" in json.dumps(
            message, ensure_ascii=False
        ), (path, message)
    assert doc_count(client) == before
    # existing and missing server files get the same answer: nothing leaks whether a path exists
    shape = {k: v for k, v in outcomes["/nonexistent/none.txt"][0].items() if k not in ("event_id",)}
    for path in secrets:
        assert {k: v for k, v in outcomes[path][0].items() if k != "event_id"} == shape
    assert "只能编入通过本页面上传的文件" in json.dumps(outcomes[str(planted)][0], ensure_ascii=False)
    assert "README" not in json.dumps([m for m, _ in outcomes.values()], ensure_ascii=False)

    # the page's own flow still works: upload through Gradio's route, then the event with the returned path
    uploaded = ui.upload(
        "社区食堂.txt", "青松社区食堂为八十岁以上老人每餐减免三元，今年已服务一万人次。".encode()
    )
    assert uploaded.status_code == 200, uploaded.text
    path = uploaded.json()[0]
    message = ui.call(fn, [[file_data(path, "社区食堂.txt")]], button)
    assert message["success"] is True
    assert 'data-outcome="added"' in message["output"]["data"][0]
    assert doc_count(client) == before + 1
    assert not Path(path).exists(), "the cached upload is deleted once indexed"
    # and an upload is used once: replaying its path is refused
    again = ui.call(fn, [[file_data(path, "社区食堂.txt")]], button)
    assert again["success"] is False or 'data-outcome="added"' not in json.dumps(again, ensure_ascii=False)
    assert doc_count(client) == before + 1

    # Gradio's upload route applies ASSISTANT_MAX_UPLOAD_MB (1 MB here), in Chinese
    too_big = ui.upload("大文件.txt", b"a" * (1024 * 1024 + 10))
    assert too_big.status_code == 413
    assert "文件过大" in too_big.json()["detail"]
    assert not list(server.gradio_dir.rglob("大文件.txt"))


# --------------------------------------------------------------------------- item 6: Host, Origin, headers


def test_host_header_must_name_this_server(server, client):
    for host in ("evil.example", "evil.example:80", "127.0.0.1.nip.io"):
        r = client.get("/healthz", headers={"Host": host})
        assert r.status_code == 400, host
        assert "ASSISTANT_ALLOWED_HOSTS" in r.json()["detail"]
    assert client.get("/", headers={"Host": "rebind.attacker.test"}).status_code == 400
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", "localhost"):
        assert client.get("/healthz", headers={"Host": host}).status_code == 200, host


def test_cross_origin_writes_are_refused(server, client):
    """A page elsewhere posting a `no-cors` form (multipart, no custom header) is refused; same origin is not."""
    before = doc_count(client)
    form = {"file": ("跨站.txt", "跨站上传的文档：某社区开展了活动。".encode())}
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": f"http://localhost:{server.port + 1}"},
        {"Referer": "http://evil.example/page.html"},
    ):
        r = client.post("/api/documents", files=form, headers=headers)
        assert r.status_code == 403, headers
        assert "拒绝跨站请求" in r.json()["detail"]
    assert doc_count(client) == before
    doc_id = client.get("/api/documents").json()["documents"][0]["doc_id"]
    assert (
        client.delete(f"/api/documents/{doc_id}", headers={"Origin": "http://evil.example"}).status_code
        == 403
    )
    cross = client.post(
        "/gradio_api/queue/join",
        json={"data": [], "fn_index": 0, "session_hash": "x"},
        headers={"Origin": "http://evil.example"},
    )
    assert cross.status_code == 403
    chat = client.post(
        "/v1/chat/completions",
        json={"model": "policy-assistant", "messages": [{"role": "user", "content": "你好"}]},
        headers={"Origin": "http://evil.example"},
    )
    assert chat.status_code == 403 and "error" in chat.json()
    # same origin (the UI itself) and clients without Origin (curl, SDKs) pass
    same = client.post(
        "/api/search", json={"query": "网格化管理"}, headers={"Origin": f"http://127.0.0.1:{server.port}"}
    )
    assert same.status_code == 200
    assert client.post("/api/search", json={"query": "网格化管理"}).status_code == 200


def test_security_headers(client):
    page = client.get("/")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "frame-ancestors 'none'",
        "connect-src 'self'",
        "object-src 'none'",
    ):
        assert directive in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    api = client.get("/api/documents")
    assert api.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in api.headers["content-security-policy"]


# --------------------------------------------------------------------------- item 7: no 500


def test_long_chinese_file_name_is_shortened_keeping_its_extension(client):
    name = "关于进一步加强城乡社区治理" * 8 + "通知.txt"  # 106 characters, 318 bytes
    assert len(name.encode()) > 255
    r = client.post(
        "/api/documents", files={"file": (name, "某街道推行了楼栋长制度，每栋楼设一名楼栋长。".encode())}
    )
    assert r.status_code == 201, r.text
    stored = r.json()["file"]
    assert stored.endswith(".txt") and len(stored.encode()) <= 180
    assert stored.startswith("关于进一步加强城乡社区治理")


@pytest.mark.parametrize(
    "path, body",
    [
        (
            "/v1/chat/completions",
            '{"model":"policy-assistant","messages":[{"role":"user","content":"\\ud800"}]}',
        ),
        (
            "/v1/chat/completions",
            '{"model":"policy-assistant","messages":[{"role":"user","content":"你好"},'
            '{"role":"assistant","content":"好\\udfff"},{"role":"user","content":"那呢？"}]}',
        ),
        (
            "/v1/chat/completions",
            '{"model":"policy-assistant","stream":true,"messages":[{"role":"user","content":"a\\ud800b"}]}',
        ),
        ("/api/ask", '{"question":"社区\\ud800"}'),
        ("/api/ask", '{"question":"社区？","history":[{"role":"user","content":"\\ud800"}]}'),
        ("/api/ask/stream", '{"question":"社区？","history":[{"role":"assistant","content":"\\udc00"}]}'),
        ("/api/search", '{"query":"\\ud800"}'),
    ],
)
def test_lone_surrogates_are_a_4xx(client, path, body):
    r = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    text = r.text
    assert "Traceback" not in text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)  # a Chinese message


# --------------------------------------------------------------------------- item 8: document Markdown


def test_document_markdown_links_are_not_live_in_answers(client):
    line = "青松社区服务中心每天早上八点开放，办事指南见[点击办理](javascript:alert(document.cookie))。"
    doc = f"青松社区服务指南\n\n{line}\n\n![](data:image/svg+xml;base64,PHN2Zz4=)青松社区服务中心提供代办服务。\n"
    r = client.post("/api/documents", files={"file": ("青松社区服务指南.txt", doc.encode())})
    assert r.status_code == 201, r.text
    body = {
        "model": "policy-assistant",
        "messages": [{"role": "user", "content": "青松社区服务中心每天几点开放？"}],
    }
    reply = client.post("/v1/chat/completions", json=body).json()
    content = reply["choices"][0]["message"]["content"]
    quotes = [c["quote"] for c in reply["citations"]]
    assert any("](javascript:" in q for q in quotes), "the citation's quote stays verbatim"
    assert "青松社区服务中心每天早上八点开放" in content
    assert "](javascript:" not in content and "](data:" not in content
    assert "［点击办理］（javascript:" in content  # the words stay, the syntax does not
    ask = client.post("/api/ask", json={"question": "青松社区服务中心每天几点开放？"}).json()
    assert "](javascript:" not in ask["answer"]


# --------------------------------------------------------------------------- item 3: long questions


def test_long_questions_cost_one_window_and_do_not_hold_up_normal_asks(client):
    long_question = ("网格化管理怎样推进社区治理，楼栋长和网格员各自承担哪些职责，" * 70)[:2000]
    normal = "哪个社区推行了碧·有服务？"
    started = time.monotonic()
    assert client.post("/api/ask", json={"question": normal}).status_code == 200
    alone = time.monotonic() - started

    with ThreadPoolExecutor(3) as pool:
        longs = [pool.submit(client.post, "/api/ask", json={"question": long_question}) for _ in range(3)]
        started = time.monotonic()
        r = client.post("/api/ask", json={"question": normal})
        during = time.monotonic() - started
        assert r.status_code == 200 and "碧海社区" in r.json()["answer"]
        for f in longs:
            assert f.result().status_code == 200
    print(f"normal ask alone {alone:.2f} s, beside three 2000-character asks {during:.2f} s")
    assert during < max(2.0, 3 * alone)


def test_question_embedding_is_cut_to_one_model_window():
    from assistant.embeddings import load_embedder

    embedder = load_embedder("e5-small-q4")
    long_question = "网格化管理怎样推进社区治理，" * 150
    cut = embedder.fit_question(long_question)
    count = embedder._query_model.token_count
    assert count(cut, True) <= embedder.question_tokens <= 512 < count(long_question, True)
    assert long_question.startswith(cut) and len(cut) > 100
    assert embedder.fit_question("短问题") == "短问题"


# --------------------------------------------------------------------------- item 9: slow clients


def _connect(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while True:
        try:
            chunk = sock.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            return data
        if not chunk:
            return data
        data += chunk


def test_slow_headers_are_dropped(server):
    """Slowloris: a request head trickled a byte at a time never completes; the server closes after 2 s."""
    sock = _connect(server)
    stop = threading.Event()

    def trickle():
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        while not stop.wait(0.3):
            try:
                sock.sendall(b"X-a: b\r\n")
            except OSError:
                return

    sender = threading.Thread(target=trickle, daemon=True)
    started = time.monotonic()
    sender.start()
    reply = _read_until_closed(sock)
    elapsed = time.monotonic() - started
    stop.set()
    sock.close()
    assert reply.startswith(b"HTTP/1.1 408")
    assert elapsed < 15


def test_idle_connection_is_dropped(server):
    sock = _connect(server)
    started = time.monotonic()
    assert _read_until_closed(sock).startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 15
    sock.close()


def test_slow_body_times_out_with_408(server):
    sock = _connect(server)
    sock.sendall(
        b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 200\r\n\r\n" + b'{"question": "'
    )
    started = time.monotonic()
    reply = _read_until_closed(sock)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert "请求体在".encode() in reply
    assert time.monotonic() - started < 15


def test_keep_alive_connections_are_closed_when_idle(server):
    sock = _connect(server)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    reply = _read_until_closed(sock)  # the server closes the idle keep-alive connection (keep_alive_s=2)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 200")


def test_server_still_healthy_after_the_attacks(server, client):
    assert client.get("/healthz").status_code == 200
    assert '"status": 500' not in server.output()
