"""The snapshot a commit derives from the previous one equals a full load of the same documents (issue 11).

Small synthetic texts: every structure a question reads (documents, chunks, BM25, phrases, the character
index, typo correction, search results) is compared after adds and removes against a snapshot built from
scratch. The last test does the same through `Assistant` on a real index (store.changes_since).
"""

from __future__ import annotations

import numpy as np
import pytest

from assistant.chunking import chunk_document
from assistant.corpus import Document, doc_id_for
from assistant.lexical import BM25Index, tokenize
from assistant.retrieval import DocumentTexts, Snapshot, StoredDocument, search
from assistant.store import Changes, Rows

TEXTS = [
    "青山社区推行“邻里帮帮团”服务模式。社区书记王兰说，帮帮团每周走访独居老人。\n\n全年调解纠纷 36 起。",
    "绿水街道打造“红色驿站”，为快递员提供休息场所。“邻里帮帮团”也在绿水街道推广。\n\n驿站共有 12 个。",
    "白云镇以“三治融合”推进乡村治理。镇党委书记李强介绍，全镇划分 48 个网格。",
    "金桥社区成立物业党支部，推动“红色物业”建设。物业收费率提高到 95%。\n\n居民满意度明显上升。",
    "石门村探索“积分超市”，村民以积分兑换生活用品。“三治融合”在石门村落地见效。",
]
QUESTIONS = [
    "邻里帮帮团是哪个社区推行的？",
    "“红色驿站”为谁提供休息场所？",
    "三治融合在哪里推进？",
    "物业收费率提高到多少？",
    "积分超市怎么兑换？",
    "绿水街到有多少个驿站？",  # a typo the corpus corrects
    "哪个社区有“不存在的短语”？",
]


def _rows(texts: list[str], generation: int, added_at: str = "2026-01-01T00:00:00") -> Rows:
    documents, chunks = {}, []
    for text in texts:
        i = TEXTS.index(text) if text in TEXTS else len(TEXTS)
        doc = Document(doc_id_for(text), text, f"文档{i}", f"d{i}.txt", file=f"d{i}.txt")
        pieces = chunk_document(doc, target_chars=40, max_chars=80)
        documents[doc.doc_id] = {
            "doc_id": doc.doc_id,
            "file": doc.file,
            "source": doc.source,
            "title": doc.title,
            "region": "",
            "date": "",
            "text": text,
            "chars": len(text),
            "added_at": f"{added_at}{i:02d}",
            "parser": "",
            "chunks": len(pieces),
        }
        chunks += [
            {
                "chunk_id": c.chunk_id,
                "doc_id": c.doc_id,
                "ordinal": c.ordinal,
                "start": c.start,
                "end": c.end,
                "tokens": tokenize(c.text),
            }
            for c in pieces
        ]
    chunks.sort(key=lambda c: (c["doc_id"], c["ordinal"]))
    return Rows(generation, documents, chunks)


def _all_texts() -> DocumentTexts:
    return DocumentTexts.held({doc_id_for(t): t for t in TEXTS})


def _full(texts: list[str], generation: int = 1) -> Snapshot:
    return Snapshot.from_rows(_rows(texts, generation), texts=_all_texts())


def _add(snap: Snapshot, texts: list[str], generation: int) -> Snapshot:
    rows = _rows(texts, generation)
    return snap.updated(Changes(generation, [], rows))


def _remove(snap: Snapshot, texts: list[str], generation: int) -> Snapshot:
    return snap.updated(Changes(generation, [doc_id_for(t) for t in texts], Rows(generation, {}, [])))


class NoVectors:
    """The store as a search sees it with Chroma left out: BM25 and phrases decide."""

    def dense_query(self, vector, n):
        return []

    def cosines(self, chunk_ids, vector):
        return {}


def _bm25_by_chunk(snap: Snapshot, query: str) -> dict[str, float]:
    scores = snap.bm25.scores(tokenize(query))
    return {c.chunk_id: float(scores[snap.slot_of[c.chunk_id]]) for c in snap.chunks}


def assert_same(incremental: Snapshot, full: Snapshot) -> None:
    assert list(incremental.documents) == list(full.documents)
    assert list(incremental.documents.values()) == list(full.documents.values())
    assert incremental.chunks == full.chunks
    assert incremental.phrases == full.phrases
    assert incremental.bm25.size == full.bm25.size
    for q in QUESTIONS:
        assert incremental.phrases_in(q) == full.phrases_in(q)
        assert _bm25_by_chunk(incremental, q) == _bm25_by_chunk(full, q)
        for term in tokenize(q):
            assert incremental.bm25.idf(term) == full.bm25.idf(term)
            assert incremental.bm25.doc_freq.get(term, 0) == full.bm25.doc_freq.get(term, 0)
            assert incremental.mentions(term) == full.mentions(term)
            assert incremental.chunks_containing(term) == full.chunks_containing(term)
        assert incremental.spelling.correct(q) == full.spelling.correct(q)
        got = search(incremental, NoVectors(), q, np.zeros(4), top_k=5)
        want = search(full, NoVectors(), q, np.zeros(4), top_k=5)
        assert [(h.chunk, h.score, h.bm25, h.bm25_rank, h.text) for h in got] == [
            (h.chunk, h.score, h.bm25, h.bm25_rank, h.text) for h in want
        ]
    assert incremental.spelling.grams == full.spelling.grams
    assert {k: sorted(v) for k, v in incremental.spelling.by_sound.items()} == {
        k: sorted(v) for k, v in full.spelling.by_sound.items()
    }


def test_adding_documents_one_commit_at_a_time_equals_a_full_load():
    snap = _full(TEXTS[:2])
    _ = snap.spelling  # built before the change: the commit must carry it forward
    snap = _add(snap, TEXTS[2:4], 2)
    snap = _add(snap, TEXTS[4:], 3)
    assert snap.generation == 3
    assert_same(snap, _full(TEXTS))


def test_removing_documents_equals_a_full_load_of_what_is_left():
    snap = _full(TEXTS)
    _ = snap.spelling
    snap = _remove(snap, [TEXTS[1], TEXTS[4]], 2)
    assert snap.bm25.dead > 0  # removed chunks leave dead slots, scored as if they were never there
    left = [TEXTS[0], TEXTS[2], TEXTS[3]]
    assert_same(snap, _full(left))
    assert "红色驿站" not in snap.phrases and "三治融合" in snap.phrases  # still quoted by 白云镇
    assert not snap.mentions("快递员")


def test_a_removed_document_added_again_equals_a_full_load():
    snap = _remove(_full(TEXTS), [TEXTS[0]], 2)
    snap = _add(snap, [TEXTS[0]], 3)
    assert_same(snap, _full(TEXTS))


def test_a_phrase_new_to_the_corpus_finds_the_chunks_that_already_held_it_unquoted():
    snap = _full([TEXTS[1]])
    assert "邻里帮帮团" in snap.phrases  # quoted in 绿水街道's text
    snap = _full(["白云镇的邻里帮帮团很活跃。"])
    assert not snap.phrases
    snap = snap.updated(Changes(2, [], _rows([TEXTS[0]], 2)))
    holders = {snap.slot_chunks[s].doc_id for s in snap.phrase_slots("邻里帮帮团")}
    assert holders == {doc_id_for("白云镇的邻里帮帮团很活跃。"), doc_id_for(TEXTS[0])}


def test_a_saved_snapshot_loads_equal_and_catches_up_with_later_commits(tmp_path):
    snap = _remove(_full(TEXTS[:4]), [TEXTS[1]], 2)
    snap.save(tmp_path / "snapshot.pickle")
    loaded = Snapshot.load(tmp_path / "snapshot.pickle", _all_texts())
    assert loaded.generation == 2 and "spelling" in loaded.__dict__
    assert_same(loaded, snap)
    assert_same(_add(loaded, TEXTS[4:], 3), _full([TEXTS[0], TEXTS[2], TEXTS[3], TEXTS[4]]))
    assert Snapshot.load(tmp_path / "snapshot.pickle", _all_texts(), max_sentence_chars=99) is None
    (tmp_path / "damaged.pickle").write_bytes(b"not a snapshot")
    assert Snapshot.load(tmp_path / "damaged.pickle", _all_texts()) is None
    assert Snapshot.load(tmp_path / "missing.pickle", _all_texts()) is None


def test_documents_are_typed_and_read_their_text_on_demand():
    reads = []

    def read(doc_id):
        reads.append(doc_id)
        return {doc_id_for(t): t for t in TEXTS}.get(doc_id)

    snap = Snapshot.from_rows(_rows(TEXTS[:1], 1), texts=DocumentTexts(read, keep=0))
    doc = next(iter(snap.documents.values()))
    assert isinstance(doc, StoredDocument)
    with pytest.raises(AttributeError):
        doc.title = "改"  # frozen
    assert doc.text == TEXTS[0] == doc.text and doc.title == "文档0"
    assert reads == [doc.doc_id, doc.doc_id]  # nothing kept (keep=0): read each time it is asked for
    assert doc.to_dict()["chars"] == len(TEXTS[0])


def test_bm25_removal_is_scored_like_an_index_without_the_chunk():
    a, b, c = tokenize("网格化管理成效明显"), tokenize("物业党建工作"), tokenize("新就业群体服务")
    without = BM25Index([a, c])
    removed = BM25Index([a, b, c]).removed([1])
    for q in ("网格化管理", "物业党建", "新就业群体"):
        s = removed.scores(tokenize(q))
        assert s[1] == 0
        assert list(s[[0, 2]]) == list(without.scores(tokenize(q)))


def test_a_commit_reaches_the_service_snapshot_incrementally_and_equals_a_full_load(writable_assistant):
    before = writable_assistant.snapshot
    entry = writable_assistant.add_document("增量.txt", "增量测试社区推行“增量帮办”服务。居民满意。".encode())
    after = writable_assistant.snapshot
    assert after.generation > before.generation
    assert after.bm25 is not before.bm25 and after.documents[entry["doc_id"]].title
    full = Snapshot.from_rows(writable_assistant.store.load_rows(), texts=writable_assistant.snapshot.texts)
    assert list(after.documents) == list(full.documents) and after.chunks == full.chunks
    assert after.phrases == full.phrases and "增量帮办" in after.phrases
    for q in ("增量帮办是哪个社区的？", "碧·有服务"):
        assert _bm25_by_chunk(after, q) == _bm25_by_chunk(full, q)
    writable_assistant.remove_document(entry["doc_id"])
    gone = writable_assistant.snapshot
    assert entry["doc_id"] not in gone.documents and "增量帮办" not in gone.phrases
    assert gone.bm25.dead == len([c for c in after.chunks if c.doc_id == entry["doc_id"]])


def test_many_dead_slots_are_rebuilt_in_the_background_and_swapped_in(writable_assistant, monkeypatch):
    import threading

    from assistant import retrieval

    monkeypatch.setattr(retrieval, "REBUILD_DEAD_MIN", 0)
    monkeypatch.setattr(retrieval, "REBUILD_DEAD_SHARE", 0.0)
    doc_id = writable_assistant.documents()[0]["doc_id"]
    writable_assistant.remove_document(doc_id)
    with_dead = writable_assistant.snapshot  # answers at once, dead slots and all
    assert with_dead.bm25.dead and doc_id not in with_dead.documents
    for thread in threading.enumerate():
        if thread.name == "rebuild-snapshot":
            thread.join()
    fresh = writable_assistant.snapshot
    assert fresh.bm25.dead == 0 and fresh.generation == with_dead.generation
    assert fresh.chunks == with_dead.chunks and list(fresh.documents) == list(with_dead.documents)


def test_phrase_ranks_are_those_of_a_full_sort_where_they_can_matter():
    from collections import Counter

    from assistant.retrieval import _phrase_ranks

    snap = _full(TEXTS)
    phrases = ["邻里帮帮团", "三治融合"]
    for scores in (
        snap.bm25.scores(tokenize("邻里帮帮团在三治融合中")),
        np.zeros(snap.bm25.slots, np.float32),
    ):
        counts = Counter(s for p in phrases for s in snap.phrase_slots(p))
        full = sorted(counts, key=lambda s: (-counts[s], -float(scores[s]), snap.slot_chunks[s].chunk_id))
        assert len(full) >= 3
        got = dict(_phrase_ranks(snap, phrases, scores, top_k=1, listed={full[-1]}))
        assert got == {full[0]: 0, full[-1]: len(full) - 1}
        assert dict(_phrase_ranks(snap, phrases, scores, top_k=len(full), listed=set())) == {
            s: r for r, s in enumerate(full)
        }
