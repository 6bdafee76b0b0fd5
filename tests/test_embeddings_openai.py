"""The OpenAI-compatible embeddings, both ways, on loopback: the assistant serves `POST /v1/embeddings` from its
own embedder (the real `openai` client and LangChain's `OpenAIEmbeddings` use it), and a second Assistant with
ASSISTANT_EMBEDDING=openai:e5-small-q4 embeds through the first (batching, retries, the embedding cache)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import make_settings
from http_utils import free_port, serve_app

from assistant.embeddings import EmbeddingUnavailable, OpenAIEmbedder, load_embedder
from assistant.http.app import create_app
from assistant.service import DENSE_DOWN_WARNING, Assistant

KEY = "sk-embed-test"
PASSAGES = [
    "碧海社区探索总结出“碧·有服务”服务群众新模式。",
    "工业园区多家企业开工复工。",
    "乡村振兴五项行动。",
]
QUESTION = "哪个社区推行了碧·有服务？"


class Counting:
    """ASGI wrapper: counts POST /v1/embeddings and their inputs, and answers the next ones with the statuses
    queued in `fail` (503, 429 ...) before letting requests through."""

    def __init__(self, app):
        self.app = app
        self.requests = 0
        self.inputs = 0
        self.fail: list[int] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != "/v1/embeddings":
            return await self.app(scope, receive, send)
        self.requests += 1
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if self.fail:
            status = self.fail.pop(0)
            headers = [(b"content-type", b"application/json")]
            if status == 429:
                headers.append((b"retry-after", b"0"))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": b'{"error": {"message": "busy"}}'})
            return
        self.inputs += len(json.loads(body).get("input") or [])
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


@pytest.fixture(scope="module")
def server(shared_dirs):
    """The first assistant (local e5-small-q4), with an API key, serving /v1/embeddings on loopback."""
    host = Assistant(make_settings(*shared_dirs, api_keys=[KEY]))
    app = Counting(create_app(host, with_ui=False))
    with serve_app(app) as base_url:
        yield app, f"{base_url}/v1"


def e5():
    return load_embedder("e5-small-q4")


def test_openai_client_gets_the_local_model_vectors(server):
    from openai import OpenAI

    _, base_url = server
    client = OpenAI(base_url=base_url, api_key=KEY, max_retries=0)
    expected = e5().embed_passages(PASSAGES)
    default = client.embeddings.create(model="e5-small-q4", input=PASSAGES)  # the SDK asks for base64
    floats = client.embeddings.create(model="e5-small-q4", input=PASSAGES, encoding_format="float")
    for response in (default, floats):
        got = np.asarray(
            [d.embedding for d in sorted(response.data, key=lambda d: d.index)], dtype=np.float32
        )
        assert got.shape == (3, 384) and np.allclose(got, expected, atol=1e-5)
        assert response.model == "e5-small-q4" and response.usage.prompt_tokens == sum(map(len, PASSAGES))
    one = client.embeddings.create(model="e5-small-q4", input=f"query: {QUESTION}", encoding_format="float")
    assert np.allclose(one.data[0].embedding, e5().embed_question(QUESTION), atol=1e-5)  # e5's query prefix


def test_langchain_openai_embeddings_work_against_us(server):
    from langchain_openai import OpenAIEmbeddings

    _, base_url = server
    lc = OpenAIEmbeddings(
        model="e5-small-q4", base_url=base_url, api_key=KEY, check_embedding_ctx_length=False, max_retries=0
    )
    docs = np.asarray(lc.embed_documents(PASSAGES), dtype=np.float32)
    assert np.allclose(docs, e5().embed_passages(PASSAGES), atol=1e-5)
    query = np.asarray(lc.embed_query(f"query: {QUESTION}"), dtype=np.float32)
    assert int(np.argmax(docs @ query)) == 0


def test_embedding_requests_are_checked(server):
    import openai

    _, base_url = server
    client = openai.OpenAI(base_url=base_url, api_key=KEY, max_retries=0)
    with pytest.raises(openai.NotFoundError) as err:
        client.embeddings.create(model="text-embedding-3-small", input="x")
    assert "e5-small-q4" in err.value.body["message"] and err.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError, match="check_embedding_ctx_length"):
        client.embeddings.create(model="e5-small-q4", input=[[101, 102]])
    with pytest.raises(openai.BadRequestError, match="dimensions"):
        client.embeddings.create(model="e5-small-q4", input="x", dimensions=256)
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="e5-small-q4", input=[])
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=base_url, api_key="wrong", max_retries=0).embeddings.create(
            model="e5-small-q4", input="x"
        )


def test_a_second_assistant_embeds_through_the_first(server, tmp_path):
    counting, base_url = server
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "社区.txt").write_text(
        "碧海社区服务纪实\n\n碧海社区探索总结出“碧·有服务”服务群众新模式，组织党员志愿者入户走访。"
        "\n\n工业园区多家企业开工复工，社区网格员上门服务。",
        encoding="utf-8",
    )
    settings = make_settings(
        corpus,
        tmp_path / "index",
        embedding="openai:e5-small-q4",
        embedding_base_url=base_url,
        embedding_api_key=KEY,
        embedding_batch_size=2,
        embedding_max_retries=2,
    )
    b = Assistant(settings)
    assert isinstance(b.embedder, OpenAIEmbedder) and b.embedder.name == "openai:e5-small-q4"
    # the same vectors as the first host's own model, questions and passages alike
    assert np.allclose(b.embedder.embed_question(QUESTION), e5().embed_question(QUESTION), atol=1e-5)
    before = counting.requests
    vectors = b.embedder.embed_passages(PASSAGES)
    assert counting.requests - before == 2  # batches of 2
    assert np.allclose(vectors, e5().embed_passages(PASSAGES), atol=1e-5)
    # a course pack's wordings go in batches too, with the question prefix
    before = counting.requests
    assert np.allclose(
        b.embedder.embed_terms(["疫情防控", "防疫", "带团建"]),
        e5().embed_terms(["疫情防控", "防疫", "带团建"]),
        atol=1e-5,
    )
    assert counting.requests - before == 2

    b.sync()
    answer = b.ask(QUESTION)
    assert answer.grounded and "碧海社区" in answer.answer and not answer.warning
    assert any(h.dense_rank is not None for h in b.search(QUESTION))

    # a rebuild embeds nothing again: the embedding cache is keyed by the embedder's name
    inputs = counting.inputs
    assert b.sync(rebuild=True).rebuilt and counting.inputs == inputs

    # 503 and 429 are retried (Retry-After honoured); more failures than retries are a clear 503 error
    counting.fail = [503, 429]
    before = counting.requests
    assert np.allclose(b.embedder.embed_passages(PASSAGES[:1]), e5().embed_passages(PASSAGES[:1]), atol=1e-5)
    assert counting.requests - before == 3
    counting.fail = [503, 503, 503]
    with pytest.raises(EmbeddingUnavailable, match="已重试 2 次"):
        b.embedder.embed_passages(PASSAGES[:1])
    assert not counting.fail

    # the endpoint down: questions are answered from keywords, with the warning
    dead = Assistant(settings.model_copy(update={"embedding_base_url": f"http://127.0.0.1:{free_port()}/v1"}))
    answer = dead.ask(QUESTION)
    assert answer.grounded and "碧海社区" in answer.answer and answer.warning == DENSE_DOWN_WARNING


def test_openai_backend_needs_a_base_url():
    from assistant.errors import AssistantError

    with pytest.raises(AssistantError, match="ASSISTANT_EMBEDDING_BASE_URL"):
        load_embedder("openai:bge-m3", {"base_url": ""})


def test_prefixes_follow_the_model_and_change_the_name():
    e5_remote = OpenAIEmbedder("multilingual-e5-large", "http://127.0.0.1:9/v1")
    assert (e5_remote.query_prefix, e5_remote.passage_prefix) == ("query: ", "passage: ")
    assert e5_remote.name == "openai:multilingual-e5-large"
    bge = OpenAIEmbedder("bge-m3", "http://127.0.0.1:9/v1")
    assert (bge.query_prefix, bge.passage_prefix) == ("", "") and bge.name == "openai:bge-m3"
    custom = OpenAIEmbedder("bge-m3", "http://127.0.0.1:9/v1", query_prefix="为这个句子生成表示：")
    assert custom.name.startswith("openai:bge-m3#")  # other prefixes, other vectors: never mixed in one index
    with pytest.raises(EmbeddingUnavailable):
        httpx_free = OpenAIEmbedder("bge-m3", f"http://127.0.0.1:{free_port()}/v1", max_retries=0)
        httpx_free.embed_passages(["x"])
