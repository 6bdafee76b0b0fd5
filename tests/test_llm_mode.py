"""LLM mode against a real OpenAI-protocol server on loopback (tests/openai_server.py) that answers from the
passages it receives, or misbehaves on request: every failure must end in a verified answer, never an error."""

from __future__ import annotations

import json
import re
import socket
import subprocess

import httpx
import pytest
from assistant.prompts import load_prompt, prompt_names, render_prompt
from conftest import ASSISTANT_BIN, DEV_SET, cli_env, make_settings
from openai_server import FakeLLM, compose_answer, parse_passages, parse_question, serve

from assistant.answer.citations import REFUSAL_PREFIX, markers
from assistant.answer.llm import VerifiedStream, build_passages, claims, parse_rewrite
from assistant.answer.model import AnswerModel
from assistant.answer.model import load as load_model
from assistant.evaluation import citation_valid, evaluate
from assistant.service import Assistant

QUESTION = "“碧·有服务”这个服务群众的模式是哪个社区探索出来的？"


@pytest.fixture(scope="module")
def server():
    with serve(FakeLLM()) as fake:
        yield fake


@pytest.fixture
def llm(server):
    yield server.reset()
    server.reset()  # ends a stall the test left behind


# How long an LLM-mode Assistant waits for the model: generous, so a model that answers is never timed out on a
# loaded machine; tests of timeouts set a short one against a model that stalls until the test is over.
ANSWERING_TIMEOUT_S = 60.0
STALLING_TIMEOUT_S = 0.5


@pytest.fixture
def make_assistant(assistant, shared_dirs, llm):
    """An LLM-mode Assistant over the shared read-only index (sharing the loaded embedder)."""

    def make(**overrides) -> Assistant:
        options = {
            "llm_base_url": llm.base_url,
            "llm_timeout_s": ANSWERING_TIMEOUT_S,
            "llm_max_retries": 0,
            **overrides,
        }
        return Assistant(make_settings(*shared_dirs, **options), embedder=assistant.embedder)

    return make


def run(assistant: Assistant, question: str, **kwargs):
    """(streamed text, final Answer) of one ask_stream."""
    pieces = list(assistant.ask_stream(question, **kwargs))
    *texts, final = pieces
    assert all(isinstance(t, str) for t in texts)
    return "".join(texts), final


def assert_verified(answer, assistant: Assistant):
    """quote == document text[start:end], and the [n] markers match the citations exactly."""
    docs = assistant.snapshot.documents
    assert citation_valid(answer, docs)
    for c in answer.citations:
        assert docs[c.doc_id].text[c.start : c.end] == c.quote
        assert c.quote in c.text
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    if answer.grounded:
        assert sorted(set(markers(answer.answer))) == [c.n for c in answer.citations]


# ---------------------------------------------------------------- prompts


def test_prompts_are_chinese_templates_loaded_by_name():
    assert {"system", "answer", "query_rewrite"} <= set(prompt_names())
    system = load_prompt("system")
    assert REFUSAL_PREFIX in system and "[1]" in system
    assert "{passages}" in load_prompt("answer") and "{question}" in load_prompt("answer")
    assert "{history}" in load_prompt("query_rewrite")
    filled = render_prompt("answer", passages="[1] 《甲》\n含有{大括号}的正文", question="问什么？")
    assert "含有{大括号}的正文" in filled and "问题：问什么？" in filled
    with pytest.raises(KeyError):
        load_prompt("no_such_prompt")
    with pytest.raises(KeyError):
        render_prompt("answer", question="缺少 passages")


# ---------------------------------------------------------------- the happy path


def test_answer_is_fluent_cited_and_verified(make_assistant, llm):
    a = make_assistant()
    streamed, answer = run(a, QUESTION)
    assert answer.mode == "llm" and answer.grounded and answer.warning is None
    assert streamed == answer.answer  # what streamed is exactly the verified text
    assert answer.answer.startswith("根据资料")  # the model's prose, not an extract
    assert "碧海社区" in "".join(c.quote for c in answer.citations)
    assert_verified(answer, a)


def test_prompt_holds_the_numbered_passages_and_question(make_assistant, llm):
    a = make_assistant()
    _, answer = run(a, QUESTION, top_k=4)
    request = llm.requests[-1]
    assert request["model"] == a.settings.llm_model and request["stream"] is True
    assert request["temperature"] == a.settings.llm_temperature
    assert request["max_completion_tokens"] == a.settings.llm_max_tokens
    system, user = request["messages"][0], request["messages"][-1]
    assert system["role"] == "system" and system["content"] == load_prompt("system")
    passages = parse_passages(user["content"])
    assert sorted(passages) == [1, 2, 3, 4]
    assert parse_question(user["content"]) == QUESTION
    hits = a.search(QUESTION, 4)
    for n, hit in enumerate(hits, start=1):
        assert f"[{n}] 《{hit.doc.title}》" in user["content"]
        assert re.sub(r"\s+", "", passages[n]) == re.sub(r"\s+", "", hit.text)  # whole chunks: budget not hit
    for c in answer.citations:  # each citation points at the passage the model cited
        assert any(re.sub(r"\s+", "", c.quote) in re.sub(r"\s+", "", p) for p in passages.values())


def test_follow_up_is_rewritten_by_the_model_and_history_is_sent(make_assistant, llm):
    a = make_assistant()
    history = [
        {"role": "user", "content": "花果园成立的广场舞协会，会长由什么人担任？"},
        {"role": "assistant", "content": "会长由社区党支部书记担任[1]。\n\n参考资料：\n[1] 《某文》：“……”"},
    ]
    _, answer = run(a, "那调解员又是从哪里聘请的？", history=history)
    rewrite_request, answer_request = llm.requests[-2], llm.requests[-1]
    assert rewrite_request["stream"] is False
    rewrite_prompt = rewrite_request["messages"][-1]["content"]
    assert "用户：花果园成立的广场舞协会，会长由什么人担任？" in rewrite_prompt
    assert "助手：会长由社区党支部书记担任。" in rewrite_prompt  # old markers and 参考资料 stripped
    assert "后续问题：那调解员又是从哪里聘请的？" in rewrite_prompt
    # retrieval used the model's standalone question
    assert answer.query == "那调解员又是从哪里聘请的（花果园成立的广场舞协会，会长由什么人担任）？"
    roles = [m["role"] for m in answer_request["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert answer_request["messages"][1]["content"] == history[0]["content"]
    assert "[1]" not in answer_request["messages"][2]["content"]
    assert "花果园" in answer_request["messages"][-1]["content"]
    assert parse_question(answer_request["messages"][-1]["content"]) == "那调解员又是从哪里聘请的？"
    assert answer.mode == "llm"
    assert_verified(answer, a)


def test_no_rewrite_call_without_history(make_assistant, llm):
    run(make_assistant(), QUESTION)
    assert len(llm.requests) == 1 and llm.requests[0]["stream"] is True


def test_api_key_is_sent(make_assistant, llm):
    llm.api_key = "sk-local-test"
    good = make_assistant(llm_api_key="sk-local-test")
    _, answer = run(good, QUESTION)
    assert answer.mode == "llm" and answer.grounded
    bad = make_assistant(llm_api_key="wrong")
    _, answer = run(bad, QUESTION)
    assert answer.mode == "extractive" and "401" in answer.warning


# ---------------------------------------------------------------- the model cites badly


def test_invalid_marker_is_dropped(make_assistant, llm):
    llm.reset("bad_marker")
    a = make_assistant()
    streamed, answer = run(a, QUESTION, top_k=3)
    assert "另有资料显示这一做法已推广到全市" not in answer.answer + streamed  # its only marker was invalid
    assert "[6]" not in answer.answer and "[6]" not in streamed
    assert max(markers(answer.answer)) <= len(answer.citations)
    assert answer.grounded and streamed == answer.answer
    assert_verified(answer, a)


def test_only_invalid_markers_is_not_grounded(make_assistant, llm):
    llm.reset("only_bad_markers")
    a = make_assistant()
    streamed, answer = run(a, QUESTION)
    assert not answer.grounded and answer.mode == "llm"
    assert answer.answer.startswith(REFUSAL_PREFIX)
    assert "根据资料" not in streamed  # the uncited prose never reached the user
    assert answer.citations and "以下是最相关的段落" in answer.answer  # the nearest passages, verified
    assert_verified(answer, a)


def test_answer_without_markers_is_not_grounded(make_assistant, llm):
    llm.reset("no_markers")
    a = make_assistant()
    streamed, answer = run(a, QUESTION)
    assert not answer.grounded and answer.answer.startswith(REFUSAL_PREFIX)
    assert "根据资料" not in streamed and streamed == answer.answer
    assert_verified(answer, a)


@pytest.fixture
def always_ask(tmp_path):
    """An answer model whose threshold lets every question through to the LLM (to test the model's own refusals)."""
    path = tmp_path / "always_ask.json"
    model = AnswerModel.from_dict(json.loads(load_model().to_json()))  # a copy: the packaged one is shared
    model.threshold = 0.0
    model.save(path)
    return {"answer_model": path}


def test_questions_the_documents_do_not_answer_never_reach_the_model(make_assistant, llm):
    a = make_assistant()
    streamed, answer = run(a, "观山湖区“豌豆家”儿童托管服务每月收费多少钱？")
    assert not answer.grounded and answer.mode == "llm" and answer.answer.startswith(REFUSAL_PREFIX)
    assert answer.confidence < load_model().threshold and not llm.requests
    assert_verified(answer, a)


def test_model_refusal_is_not_grounded(make_assistant, llm, always_ask):
    llm.reset("refuse")
    a = make_assistant(**always_ask)
    streamed, answer = run(a, "观山湖区“豌豆家”儿童托管服务每月收费多少钱？")
    assert not answer.grounded and answer.mode == "llm" and answer.warning is None
    assert answer.answer.startswith("资料中未找到能够回答该问题的信息")
    assert streamed == answer.answer
    assert len(answer.citations) == 3
    assert_verified(answer, a)


def test_refusal_citing_a_passage_keeps_that_citation(make_assistant, llm, always_ask):
    a = make_assistant(**always_ask)
    _, answer = run(a, "花果园街道的广场舞协会目前有多少名会员？")
    assert not answer.grounded and answer.answer.startswith(REFUSAL_PREFIX)
    assert markers(answer.answer) == [1] and len(answer.citations) == 1
    assert_verified(answer, a)


# ---------------------------------------------------------------- the endpoint fails: extractive + warning


@pytest.mark.parametrize(
    "behaviour, reason",
    [
        ("stall", "超时"),
        ("stall_mid", "超时"),
        ("error500", "HTTP 500"),
        ("cut", "中断"),
        ("truncate", "中断"),
        ("garbage", "格式错误"),
        ("empty", "空回答"),
    ],
)
def test_endpoint_failure_falls_back_to_extractive(make_assistant, llm, behaviour, reason, caplog):
    llm.reset(behaviour, stall_s=ANSWERING_TIMEOUT_S)
    a = make_assistant(llm_timeout_s=STALLING_TIMEOUT_S)
    extractive = Assistant(make_settings(*_dirs(a)), embedder=a.embedder).ask(QUESTION)
    with caplog.at_level("WARNING", logger="assistant.answer.llm"):
        streamed, answer = run(a, QUESTION)
    assert answer.mode == "extractive" and answer.warning
    assert answer.warning.startswith("大模型暂时不可用") and reason in answer.warning
    assert answer.answer == extractive.answer and answer.grounded == extractive.grounded
    assert streamed.endswith(answer.answer)
    assert any("LLM endpoint failed" in r.message for r in caplog.records)
    assert_verified(answer, a)
    assert a.health()["llm_reachable"] is False  # the failure counts as a health check


def test_stream_cut_after_text_was_shown_says_so(make_assistant, llm):
    a = make_assistant()
    second = "这一服务模式得到了社区居民的普遍认可[1]。"
    llm.reset(suffix=second)
    _, full = run(a, QUESTION)
    # cut a few characters into the second sentence: the first, complete and cited, has been released
    cut_at = (len(full.answer) - len(second) + 6) / len(full.answer)
    llm.reset("cut", chunk_chars=2, break_at=cut_at, suffix=second)
    streamed, answer = run(a, QUESTION)
    assert answer.mode == "extractive" and "中断" in answer.warning
    head, _, tail = streamed.partition("（大模型输出中断，以下改为摘录式回答。）")
    assert head.startswith("根据资料") and tail.strip() == answer.answer, (full.answer, streamed)


def test_endpoint_down(make_assistant, llm):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    down = {"llm_base_url": f"http://127.0.0.1:{closed_port}/v1", "llm_max_retries": 1}
    a = make_assistant(**down)
    _, answer = run(a, QUESTION)
    assert answer.mode == "extractive" and "无法连接" in answer.warning
    assert a.health()["llm_reachable"] is False
    b = make_assistant(**down)  # a follow-up: the rewrite call fails first, which is no outage either
    _, follow_up = run(b, "那它在哪个区？", history=[{"role": "user", "content": QUESTION}])
    assert follow_up.mode == "extractive" and "无法连接" in follow_up.warning
    assert follow_up.query != "那它在哪个区？"  # retrieval still borrowed the earlier question's terms
    assert_verified(follow_up, b)


def test_after_a_failure_questions_skip_the_endpoint_for_a_moment(make_assistant, llm, monkeypatch):
    from assistant.answer import llm as llm_module

    a = make_assistant(llm_timeout_s=STALLING_TIMEOUT_S)
    llm.reset("stall", stall_s=ANSWERING_TIMEOUT_S)
    monkeypatch.setattr(llm_module, "RETRY_AFTER_FAILURE_S", 3600.0)  # the moment outlasts any slow machine
    _, first = run(a, QUESTION)
    assert "超时" in first.warning and len(llm.requests) == 1
    llm.reset("normal")
    _, second = run(a, QUESTION)  # no second timeout to sit through
    assert second.mode == "extractive" and "超时" in second.warning and not llm.requests
    monkeypatch.setattr(llm_module, "RETRY_AFTER_FAILURE_S", 0.0)
    _, third = run(a, QUESTION)  # the pause is over: the endpoint is asked again
    assert third.mode == "llm" and third.warning is None and len(llm.requests) == 1


def test_retry_is_bounded(make_assistant, llm):
    llm.reset("error500")
    _, answer = run(make_assistant(llm_max_retries=2), QUESTION)
    assert answer.mode == "extractive" and len(llm.requests) == 3  # first try + 2 retries, then give up
    llm.reset("error500", fail_first=1)
    _, answer = run(make_assistant(llm_max_retries=1), QUESTION)
    assert answer.mode == "llm" and answer.grounded and len(llm.requests) == 2  # one failure retried


def test_answer_at_token_limit_is_kept_with_a_warning(make_assistant, llm):
    _, full = run(make_assistant(), QUESTION)
    assert full.answer.endswith("]。")
    limit = len(full.answer) - 1  # the fake counts one character as one token: the final 。 is cut
    a = make_assistant(llm_max_tokens=limit)
    _, answer = run(a, QUESTION)
    assert llm.requests[-1]["max_completion_tokens"] == limit
    assert answer.mode == "llm" and "长度上限" in answer.warning
    assert answer.grounded and full.answer.startswith(answer.answer) and len(answer.answer) < len(full.answer)
    assert_verified(answer, a)


# ---------------------------------------------------------------- health


def test_health_reports_reachability_cheaply(make_assistant, llm):
    a = make_assistant()
    assert a.health()["llm_reachable"] is True
    assert a.health()["llm_reachable"] is True
    assert llm.model_list_calls == 1  # cached: the second /healthz did not ask the endpoint
    llm.api_key = "required-now"
    b = make_assistant()
    assert b.health()["llm_reachable"] is False


# ---------------------------------------------------------------- context budget


def test_passages_are_trimmed_by_whole_sentences(make_assistant, llm, assistant):
    a = make_assistant(llm_context_chars=500)
    question = "乌当区引领乡村振兴的“五项行动”分别是哪五项？"
    _, answer = run(a, question, top_k=8)
    snapshot = a.snapshot
    hits = a.search(question, 8)
    passages = build_passages(hits, snapshot, 500, question)
    assert sum(p.spans[-1][1] - p.spans[0][0] for p in passages) <= 500
    assert sum(len(h.text) for h in hits) > 500  # the budget really bit
    for p in passages:
        sentences = snapshot.sentences_in(p.hit.chunk)
        i = sentences.index(p.spans[0])
        assert p.spans == sentences[i : i + len(p.spans)]  # a contiguous run of whole sentences
    sent = parse_passages(llm.requests[-1]["messages"][-1]["content"])
    assert len(sent) == len(passages)
    assert sum(len(t) for t in sent.values()) <= 500
    for p in passages:
        assert re.sub(r"\s+", "", sent[p.n]) == re.sub(r"\s+", "", p.text)
        assert p.text.rstrip()[-1] in "。！？!?…”’」』）)》" or p.spans[-1] in snapshot.sentences_in(
            p.hit.chunk
        )
    for c in answer.citations:  # quotes come from what the model saw
        assert any(p.spans[0][0] <= c.start and c.end <= p.spans[-1][1] for p in passages)
    assert_verified(answer, a)


# ---------------------------------------------------------------- verification units


def test_markers_split_across_pieces_are_renumbered_consistently():
    raw = "碧海社区探索出新模式[3]。该模式覆盖全区[3, 1]，另见 [9]。【2】资料[资料1][^3]。"
    expected = "碧海社区探索出新模式[1]。该模式覆盖全区[1][2]，另见。[3]资料[2][1]。"
    for size in range(1, 8):
        stream = VerifiedStream(given=3)
        out = "".join(stream.feed(raw[i : i + size]) for i in range(0, len(raw), size)) + stream.close()
        assert out == expected and stream.text == expected
        assert stream.mapping == {3: 1, 1: 2, 2: 3}


def test_each_sentence_needs_its_own_valid_citation():
    """Sentence by sentence (issue 12): a sentence is released once complete and cited by itself; one with no
    valid marker is dropped, not delayed — even after an earlier sentence was cited."""
    stream = VerifiedStream(given=2)
    assert stream.feed("根据资料，碧海社区") == ""
    assert stream.feed("探索了新模式[") == ""
    assert stream.feed("5]。") == ""  # an invalid marker does not make a sentence citable
    assert stream.feed("它服务居民[2") == ""
    assert stream.feed("]。") == "它服务居民[1]。"  # complete and cited: released at its full stop
    assert stream.feed("热线") == ""
    assert stream.feed("电话是12345。") == ""
    assert stream.close() == ""
    assert stream.text == "它服务居民[1]。"
    assert stream.dropped == ["根据资料，碧海社区探索了新模式[5]。", "热线电话是12345。"]
    refusal = VerifiedStream(given=2)
    assert refusal.feed("资料中未") == ""
    assert refusal.feed("找到收费标准。") == ""  # uncited: a marker may still follow the full stop
    assert refusal.feed("另") == "资料中未找到收费标准。"
    late = VerifiedStream(given=2)
    assert late.feed("碧海社区探索了新模式。") == ""
    assert late.feed("[2]该") == "碧海社区探索了新模式。[1]"  # a marker after the full stop still counts


def test_links_images_and_html_are_stripped_before_release():
    stream = VerifiedStream(given=1)
    out = stream.feed("![](http://x/leak?q=1)<b>碧海社区</b>见[通知](javascript:alert(1))[1]。")
    out += stream.close()
    assert out == "碧海社区见通知[1]。" == stream.text


def test_unfinished_marker_at_the_end_is_dropped():
    stream = VerifiedStream(given=2)
    out = stream.feed("碧海社区[1]。另有说明[") + stream.feed("2")
    out += stream.close()
    assert out == "碧海社区[1]。" == stream.text  # "另有说明" lost its marker: uncited, dropped


def test_claims_find_the_sentence_each_marker_cites():
    text = "碧海社区探索出新模式[1]。该模式服务老人，也服务儿童[2][1]。另见[3]。"
    found = claims(text)
    assert found[1] == ["碧海社区探索出新模式", "该模式服务老人，也服务儿童"]
    assert found[2] == ["该模式服务老人，也服务儿童"]
    assert found[3] == ["该模式服务老人，也服务儿童。另见"]  # a bare "另见[3]" borrows the sentence before


def test_parse_rewrite():
    assert (
        parse_rewrite("改写后的问题：花果园的调解员从哪里聘请？\n解释……", "x") == "花果园的调解员从哪里聘请？"
    )
    assert parse_rewrite("  \n", "原问题") == "原问题"


def test_fake_model_answers_from_passages_like_a_model():
    passages = {1: "甲街道成立了协会。", 2: "碧海社区探索总结出“碧·有服务”这一服务群众新模式。"}
    assert (
        compose_answer(QUESTION, passages) == "根据资料，碧海社区探索总结出“碧·有服务”这一服务群众新模式[2]。"
    )
    assert compose_answer("遵义市有多少个网格？", passages).startswith(REFUSAL_PREFIX)


# ---------------------------------------------------------------- whole runs


def test_dev_set_in_llm_mode_has_valid_citations(make_assistant, llm):
    report = evaluate(make_assistant(), DEV_SET)
    assert report["mode"] == "llm"
    assert report["overall"]["citation_valid"] == 1.0
    # the model is asked exactly when the extractive confidence says the documents hold an answer (its timeout
    # is generous: no answer falls back for a loaded machine)
    asked = [r for r in report["questions"] if r["confidence"] >= load_model().threshold]
    assert len(asked) == len(llm.requests) > 0.7 * report["overall"]["n"]
    assert all(not r["grounded"] for r in report["questions"] if r["confidence"] < load_model().threshold)


def test_cli_ask_streams_in_llm_mode(shared_dirs, llm):
    env = cli_env(corpus_dir=shared_dirs[0], index_dir=shared_dirs[1], llm_base_url=llm.base_url)
    out = subprocess.run(
        [str(ASSISTANT_BIN), "ask", QUESTION, "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["mode"] == "llm" and answer["grounded"] and "warning" not in answer
    plain = subprocess.run(
        [str(ASSISTANT_BIN), "ask", QUESTION], env=env, capture_output=True, text=True, timeout=300
    )
    assert plain.returncode == 0 and answer["answer"] in plain.stdout and "参考资料" in plain.stdout


def _sse(response: httpx.Response) -> list[tuple[str, str]]:
    """(event, data) pairs of a Server-Sent Events body; multi-line data joined with \\n."""
    events, name, data = [], "message", []
    for line in response.iter_lines():
        if not line:
            if data:
                events.append((name, "\n".join(data)))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        events.append((name, "\n".join(data)))
    return events


def test_http_surfaces_stream_llm_answers(make_assistant, llm):
    from http_utils import serve_app
    from openai import OpenAI

    from assistant.http.app import create_app

    a = make_assistant()
    with serve_app(create_app(a, with_ui=False)) as base_url, httpx.Client(timeout=60) as http:
        health = http.get(f"{base_url}/healthz").json()
        assert health["mode"] == "llm" and health["llm_reachable"] is True
        with http.stream("POST", f"{base_url}/api/ask/stream", json={"question": QUESTION}) as r:
            assert r.status_code == 200
            events = _sse(r)
        tokens = "".join(d for e, d in events if e == "token")
        done = json.loads(next(d for e, d in events if e == "done"))
        assert done["mode"] == "llm" and done["grounded"] and tokens == done["answer"]
        client = OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0)
        stream = client.chat.completions.create(
            model="policy-assistant", stream=True, messages=[{"role": "user", "content": QUESTION}]
        )
        content = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert content.startswith(done["answer"])
        llm.reset("error500")
        degraded = http.post(f"{base_url}/api/ask", json={"question": QUESTION})
        assert degraded.status_code == 200
        body = degraded.json()
        assert body["mode"] == "extractive" and "HTTP 500" in body["warning"]
        assert http.get(f"{base_url}/healthz").json()["llm_reachable"] is False


def _dirs(a: Assistant):
    return a.settings.corpus_dir, a.settings.index_dir


# ---------------------------------------------------------------- course-pack summaries


def _summary_prompts(llm) -> list[str]:
    return [
        m["content"] for r in llm.requests for m in r["messages"] if "要点小结" in str(m.get("content", ""))
    ]


def test_course_pack_sections_get_cited_summaries(make_assistant, llm):
    a = make_assistant()
    pack = a.course_pack(["网格化管理"])
    sections = [s for s in pack.sections if s.items]
    prompts = _summary_prompts(llm)
    assert len(prompts) == len(sections), "one summary request per non-empty section"
    refs = {r.n: r.doc_id for r in pack.references}
    for section in sections:
        text = section.summary_text()
        assert text and markers(text), f"{section.kind} has no cited summary"
        in_section = {i.doc_id for i in section.items}
        assert all(refs[n] in in_section for n in markers(text)), "a summary cites only its section's sources"
        prompt = next(p for p in prompts if f"“{section.kind}”" in p)
        assert (
            f"[{section.items[0].n}] 《{section.items[0].title}》" in prompt
            and section.items[0].text in prompt
        )
    data = pack.to_dict()
    assert all(s.get("summary") for s in data["sections"] if s["items"]) and "notice" not in data
    # reviewing keeps a summary sentence only while an item of a source it cites stays, renumbered
    first = sections[0]
    cited_doc = refs[markers(first.summary_text())[0]]
    reviewed = pack.select([i.id for i in first.items if i.doc_id == cited_doc])
    kept = next(s for s in reviewed.sections if s.kind == first.kind)
    new_refs = {r.n: r.doc_id for r in reviewed.references}
    assert cited_doc not in {new_refs[n] for n in markers(kept.summary_text())}
    # the exports carry them
    import io

    import docx

    from assistant.coursepack_render import to_docx, to_markdown

    assert f"**要点**：{first.summary_text()}" in to_markdown(pack)
    paragraphs = [
        p for p in docx.Document(io.BytesIO(to_docx(pack))).paragraphs if p.text.startswith("要点：")
    ]
    assert [p.text for p in paragraphs] == [f"要点：{s.summary_text()}" for s in sections]
    assert all(r.font.superscript for p in paragraphs for r in p.runs if re.fullmatch(r"\[\d+\]", r.text))


def test_course_pack_summary_drops_invalid_citations(make_assistant, llm):
    llm.reset("bad_marker")
    pack = make_assistant().course_pack(["网格化管理"])
    texts = [s.summary_text() for s in pack.sections if s.items]
    assert all(texts) and not any("推广到全省" in t for t in texts), (
        "a sentence citing no given source is dropped"
    )


@pytest.mark.parametrize("behaviour", ["error500", "refuse", "no_markers"])
def test_course_pack_without_usable_summaries_keeps_every_item(make_assistant, llm, behaviour, assistant):
    llm.reset(behaviour)
    pack = make_assistant().course_pack(["网格化管理"])
    plain = assistant.course_pack(["网格化管理"])
    assert [i.id for i in pack.items] == [i.id for i in plain.items]
    assert all(not s.summary_text() for s in pack.sections)
    assert bool(pack.notice) == (behaviour == "error500")
    if pack.notice:
        assert pack.notice.startswith("大模型暂时不可用") and "HTTP 500" in pack.notice


def test_course_pack_summaries_can_be_turned_off(make_assistant, llm):
    pack = make_assistant().course_pack(["网格化管理"], summaries=False)
    assert not _summary_prompts(llm) and all(not s.summary for s in pack.sections)
