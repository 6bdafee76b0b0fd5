"""/v1 through real OpenAI clients: the official `openai` SDK (plain and stream=True) and LangChain's ChatOpenAI,
against a live uvicorn server on a loopback socket over the real index."""

from __future__ import annotations

import json
import re

import httpx
import openai
import pytest
from conftest import make_settings
from http_utils import serve_app

from assistant.errors import AssistantError
from assistant.http.app import create_app
from assistant.service import Assistant

QUESTION = "哪个社区推行了碧·有服务？"
HASH_NAME = re.compile(r"\d{3}_[0-9a-f]{16}\.txt")
MODEL = "policy-assistant"


@pytest.fixture(scope="module")
def base_url(assistant):
    with serve_app(create_app(assistant, with_ui=False)) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url):
    with openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0, timeout=120) as c:
        yield c


def split_answer(content: str) -> tuple[str, list[str]]:
    """(answer, reference lines) of a /v1 reply: the answer, a blank line, 参考资料：, one line per citation."""
    answer, sep, refs = content.partition("\n\n参考资料：\n")
    assert sep, content
    return answer, refs.split("\n")


def assert_cited_reply(content: str, citations: list[dict], assistant: Assistant) -> None:
    """Markers of the given citations, and one 参考资料 line each naming the source as the chat does: title,
    place and date, never the stored file name (000_67bc69122a840741.txt)."""
    answer, refs = split_answer(content)
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", answer)}
    assert markers and markers <= {c["n"] for c in citations}
    assert len(refs) == len(citations)
    for line, c in zip(refs, citations):
        doc = assistant.document(c["doc_id"])
        assert line.startswith(f"[{c['n']}] 《{c['title']}》（{doc.region}") and c["quote"] in line
    assert not HASH_NAME.search(content), content


def history_messages(first_question: str) -> list[dict]:
    return [
        {"role": "system", "content": "你是政策问答助手。"},
        {"role": "user", "content": first_question},
        {"role": "assistant", "content": "相关做法见下。\n\n参考资料：\n[1] 《某文件》（a.txt）：“……”"},
        {"role": "user", "content": "那里做了哪些工作？"},
    ]


# --------------------------------------------------------------------------- the official SDK


def test_models(client):
    assert [m.id for m in client.models.list()] == [MODEL]
    assert client.models.retrieve(MODEL).owned_by
    with pytest.raises(openai.NotFoundError) as err:
        client.models.retrieve("gpt-4o")
    assert err.value.code == "model_not_found"


def test_completion_carries_markers_references_and_citations(client, base_url, assistant):
    resp = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": QUESTION}])
    assert resp.object == "chat.completion" and resp.model == MODEL
    choice = resp.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    content = choice.message.content
    citations = resp.model_extra["citations"]
    assert "碧海社区" in content and resp.model_extra["grounded"] is True
    assert_cited_reply(content, citations, assistant)
    assert resp.usage.completion_tokens == len(content)
    # the same answer and citations as POST /api/ask
    ask = httpx.post(f"{base_url}/api/ask", json={"question": QUESTION}, timeout=60).json()
    assert citations == ask["citations"]
    assert content.startswith(ask["answer"] + "\n\n参考资料：")


def test_stream_matches_the_plain_completion(client, assistant):
    messages = [{"role": "user", "content": QUESTION}]
    plain = client.chat.completions.create(model=MODEL, messages=messages).choices[0].message.content
    chunks = list(
        client.chat.completions.create(
            model=MODEL, messages=messages, stream=True, stream_options={"include_usage": True}
        )
    )
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finals) == 1 and finals[0].choices[0].finish_reason == "stop"
    assert_cited_reply(text, finals[0].model_extra["citations"], assistant)
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == len(text)
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 2  # really streamed


@pytest.mark.parametrize(
    "place, first_question",
    [("安顺", "安顺市的智慧社区示范点怎么样？"), ("观山湖", "观山湖区的党建品牌怎么打造？")],
)
def test_earlier_messages_are_the_history(client, base_url, place, first_question):
    messages = history_messages(first_question)
    resp = client.chat.completions.create(model=MODEL, messages=messages)
    first = resp.model_extra["citations"][0]
    assert place in first["title"] or place in first["text"]
    history = [
        {"role": "user", "content": first_question},
        {"role": "assistant", "content": "相关做法见下。"},
    ]
    ask = httpx.post(
        f"{base_url}/api/ask", json={"question": "那里做了哪些工作？", "history": history}, timeout=60
    ).json()
    assert resp.model_extra["citations"] == ask["citations"]


def test_content_parts_are_accepted(client):
    resp = client.chat.completions.create(
        model=MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "哪个社区推行了"},
                    {"type": "text", "text": "碧·有服务？"},
                ],
            }
        ],
    )
    assert "碧海社区" in resp.choices[0].message.content


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "assistant", "content": "你好"}]}, "user"),
        ({"messages": [{"role": "user", "content": "   "}]}, "user"),
        (
            {
                "messages": [
                    {"role": "tool", "content": "x", "tool_call_id": "1"},
                    {"role": "user", "content": QUESTION},
                ]
            },
            "role",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]}
                ]
            },
            "文字",
        ),
        ({"messages": [{"role": "user", "content": "问" * 2001}]}, "2000"),
        ({"messages": [{"role": "user", "content": QUESTION}], "extra_body": {"top_k": 50}}, "top_k"),
        (
            {"messages": [{"role": "user", "content": QUESTION}], "stream": True, "extra_body": {"top_k": 0}},
            "top_k",
        ),
    ],
)
def test_bad_requests_are_openai_400s(client, kwargs, fragment):
    with pytest.raises(openai.BadRequestError) as err:
        result = client.chat.completions.create(model=MODEL, **kwargs)
        list(result) if kwargs.get("stream") else None
    assert err.value.status_code == 400
    body = err.value.body
    assert body["type"] == "invalid_request_error" and fragment in body["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])


def test_unknown_model_is_404_in_openai_shape(client):
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(
            model="gpt-3.5-turbo", messages=[{"role": "user", "content": QUESTION}]
        )
    assert err.value.code == "model_not_found" and MODEL in err.value.body["message"]


def test_malformed_json_is_an_openai_error(base_url):
    r = httpx.post(
        f"{base_url}/v1/chat/completions", content=b'{"model": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error" and "JSON" in r.json()["error"]["message"]


def test_api_keys_with_the_sdk(shared_dirs):
    assistant = Assistant(make_settings(*shared_dirs, api_keys="sdk-key-1,sdk-key-2"))
    with serve_app(create_app(assistant, with_ui=False)) as url:
        wrong = openai.OpenAI(base_url=f"{url}/v1", api_key="nope", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as err:
            wrong.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": QUESTION}])
        assert err.value.code == "invalid_api_key" and "密钥" in err.value.body["message"]
        with pytest.raises(openai.AuthenticationError):
            wrong.models.list()
        right = openai.OpenAI(base_url=f"{url}/v1", api_key="sdk-key-2", max_retries=0)
        assert (
            "碧海社区"
            in right.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": QUESTION}])
            .choices[0]
            .message.content
        )
        streamed = right.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": QUESTION}], stream=True
        )
        assert "碧海社区" in "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)


def test_error_in_the_middle_of_a_stream_is_an_error_event_then_done(assistant, monkeypatch):
    def failing_stream(question, top_k=5, history=None):
        yield "已经开始"
        raise AssistantError("大模型中途断开：请重试。")

    monkeypatch.setattr(assistant, "ask_stream", failing_stream)
    body = {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with serve_app(create_app(assistant, with_ui=False)) as url:
        with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=60) as r:
            assert r.status_code == 200
            data = [line.removeprefix("data: ") for line in r.iter_lines() if line.startswith("data: ")]
        assert data[-1] == "[DONE]"  # the stream is closed properly, not cut
        events = [json.loads(d) for d in data[:-1]]
        assert [e["choices"][0]["delta"].get("content") for e in events[1:-1]] == ["已经开始"]
        assert events[-1]["error"]["message"] == "大模型中途断开：请重试。"
        # the official SDK turns that event into an exception
        with openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=60) as client:
            stream = client.chat.completions.create(model=MODEL, messages=body["messages"], stream=True)
            with pytest.raises(openai.APIError, match="大模型中途断开"):
                for _ in stream:
                    pass


# --------------------------------------------------------------------------- LangChain


def test_langchain_chat_openai_invoke_and_stream(base_url):
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model=MODEL, base_url=f"{base_url}/v1", api_key="unused", max_retries=0, timeout=120)
    reply = llm.invoke(QUESTION)
    answer, refs = split_answer(reply.content)
    assert "碧海社区" in answer and re.search(r"\[\d+\]", answer) and refs[0].startswith("[1] 《")

    streamed = "".join(chunk.content for chunk in llm.stream(QUESTION))
    assert streamed == reply.content

    follow_up = llm.invoke(
        [
            SystemMessage("你是政策问答助手。"),
            HumanMessage("安顺市的智慧社区示范点怎么样？"),
            AIMessage("相关做法见下。"),
            HumanMessage("那里做了哪些工作？"),
        ]
    )
    answer, refs = split_answer(follow_up.content)
    assert "安顺" in follow_up.content and refs


def test_langchain_with_api_key(shared_dirs):
    from langchain_openai import ChatOpenAI

    assistant = Assistant(make_settings(*shared_dirs, api_keys="lc-key"))
    with serve_app(create_app(assistant, with_ui=False)) as url:
        ok = ChatOpenAI(model=MODEL, base_url=f"{url}/v1", api_key="lc-key", max_retries=0).invoke(QUESTION)
        assert "参考资料：" in ok.content
        with pytest.raises(openai.AuthenticationError):
            ChatOpenAI(model=MODEL, base_url=f"{url}/v1", api_key="bad", max_retries=0).invoke(QUESTION)
