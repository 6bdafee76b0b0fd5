"""Issue 12, item 5: a hostile OpenAI-protocol model on loopback (tests/openai_server.py, behaviour "hostile")
behind a real uvicorn. Its answers carry a valid [n] next to a javascript: link, an image beacon, raw HTML, an
uncited hotline and injected instructions (one with a borrowed [n]); only the cited, supported, plain-text
sentences may reach a client — streamed or not, over /api and /v1, and in course-pack summaries."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from conftest import make_settings
from http_utils import serve_app
from openai_server import HOTLINE, INJECTION, FakeLLM, serve

from assistant.http.app import create_app
from assistant.service import Assistant

QUESTION = "哪个社区推行了碧·有服务？"
FORBIDDEN = (
    "javascript:",
    "<img",
    "onerror",
    "<script",
    "<a ",
    "![",
    "](",
    "http://",
    HOTLINE,
    INJECTION,
    "leak",
)


def assert_clean(text: str) -> None:
    for bad in FORBIDDEN:
        assert bad not in text, (bad, text)


@pytest.fixture(scope="module")
def hostile_server(shared_dirs):
    with serve(FakeLLM("hostile")) as fake:
        assistant = Assistant(
            make_settings(*shared_dirs, llm_base_url=fake.base_url, llm_model="fake-policy-model")
        )
        with serve_app(create_app(assistant, with_ui=False)) as url:
            yield url, fake


def test_only_cited_supported_plain_sentences_are_released(hostile_server):
    url, fake = hostile_server
    fake.reset("hostile")
    r = httpx.post(f"{url}/api/ask", json={"question": QUESTION}, timeout=120)
    assert r.status_code == 200
    body = r.json()
    assert body["mode"] == "llm" and body["grounded"] is True and "warning" not in body
    assert (
        "碧海社区" in body["answer"] and "根据官方通知" in body["answer"]
    )  # the link's words, not its target
    assert_clean(body["answer"])
    assert re.search(r"\[1\]", body["answer"])
    # every released sentence carries its own citation
    for sentence in filter(None, re.split(r"(?<=[。！？])", body["answer"])):
        assert re.search(r"\[\d+\]", sentence), sentence


def test_the_stream_never_shows_what_the_answer_drops(hostile_server):
    url, fake = hostile_server
    fake.reset("hostile", chunk_chars=2)
    tokens, done = [], None
    with httpx.stream("POST", f"{url}/api/ask/stream", json={"question": QUESTION}, timeout=120) as r:
        assert r.status_code == 200
        event = None
        for line in r.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
                if event == "token":
                    tokens.append(data)
                elif event == "done":
                    done = json.loads(data)
    streamed = "".join(tokens)
    assert done is not None and done["grounded"] is True
    assert_clean(streamed)
    assert streamed.replace("\n", "") == done["answer"].replace("\n", "")


def test_v1_content_is_clean_streamed_or_not(hostile_server):
    url, fake = hostile_server
    fake.reset("hostile")
    body = {"model": "policy-assistant", "messages": [{"role": "user", "content": QUESTION}]}
    reply = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=120).json()
    content = reply["choices"][0]["message"]["content"]
    assert reply["grounded"] is True and "碧海社区" in content
    assert_clean(content)
    parts = []
    with httpx.stream("POST", f"{url}/v1/chat/completions", json={**body, "stream": True}, timeout=120) as r:
        for line in r.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                chunk = json.loads(line[6:])
                parts += [c["delta"].get("content") or "" for c in chunk.get("choices", [])]
    assert_clean("".join(parts))
    assert "碧海社区" in "".join(parts)


def test_an_answer_of_only_uncited_prose_is_a_refusal(hostile_server):
    url, fake = hostile_server
    fake.reset("no_markers")
    body = httpx.post(f"{url}/api/ask", json={"question": QUESTION}, timeout=120).json()
    assert body["grounded"] is False and body["answer"].startswith("资料中未找到")


def test_course_pack_summaries_are_sanitised(hostile_server):
    url, fake = hostile_server
    fake.reset("hostile")
    r = httpx.post(f"{url}/api/coursepack", json={"topics": ["网格化管理"]}, timeout=300)
    assert r.status_code == 200, r.text
    pack = r.json()
    summaries = [
        s.get("summary") or ""
        for section in [*pack.get("sections", []), *[s for p in pack.get("parts", []) for s in p["sections"]]]
        for s in [section]
    ]
    assert any(summaries), pack.get("notice") or pack.get("summaries_note")
    for summary in summaries:
        assert_clean(summary)
