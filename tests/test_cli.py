"""The real console script: contract objects with --json, Chinese errors and non-zero exits on bad input."""

import json
import re
import subprocess

import pytest
from conftest import ASSISTANT_BIN, DEV_SET, cli_env


def run(args, dirs, **env):
    corpus_dir, index_dir = dirs
    return subprocess.run(
        [str(ASSISTANT_BIN), *args],
        env=cli_env(corpus_dir=corpus_dir, index_dir=index_dir, **env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ask_json_is_the_api_object(shared_dirs):
    result = run(["ask", "青龙山街道是哪一天挂牌成立的？", "--json"], shared_dirs)
    assert result.returncode == 0, result.stderr
    obj = json.loads(result.stdout)
    assert set(obj) >= {"answer", "grounded", "mode", "citations"}
    assert obj["grounded"] and "2020年5月31日" in obj["answer"] and obj["mode"] == "extractive"
    c = obj["citations"][0]
    assert set(c) == {"n", "doc_id", "title", "source", "chunk_id", "text", "quote", "start", "end", "score"}


def test_ask_plain_prints_answer_and_sources(shared_dirs):
    result = run(["ask", "哪个社区推行了碧·有服务？"], shared_dirs)
    assert result.returncode == 0 and "碧海社区" in result.stdout
    # sources named as the chat names them (sources.references_block): title, place, never the stored file name
    answer, sep, refs = result.stdout.rstrip("\n").partition("\n\n参考资料：\n")
    assert sep and "[1]" in answer, result.stdout
    assert all(
        re.match(r"\[\d+\] 《[^》]+》（(贵州省|湖南省)[^）]*）：“", line) for line in refs.split("\n")
    ), refs
    assert not re.search(r"\d{3}_[0-9a-f]{16}\.txt", result.stdout)


def test_search_and_docs_list(shared_dirs):
    hits = json.loads(run(["search", "网格化管理", "--json", "--top-k", "3"], shared_dirs).stdout)["hits"]
    assert len(hits) == 3 and set(hits[0]) == {
        "doc_id",
        "title",
        "source",
        "chunk_id",
        "text",
        "start",
        "end",
        "score",
    }
    docs = json.loads(run(["docs", "list", "--json"], shared_dirs).stdout)["documents"]
    assert len(docs) == 5 and all(d["chunks"] > 0 for d in docs)


def test_index_noop_is_incremental(writable_dirs):
    result = run(["index", "--json"], writable_dirs)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["unchanged"] == 5


@pytest.mark.parametrize(
    "args, message",
    [
        (["ask", "   "], "不能为空"),
        (["ask", "问题", "--top-k", "0"], "top_k"),
        (["index", "--corpus", "/nonexistent/dir"], "语料目录不存在"),
        (["docs", "remove", "0000000000000000"], "未找到文档"),
        (["docs", "add", "/nonexistent/file.txt"], "文件不存在"),
        (["eval", "/nonexistent/gold.jsonl"], "评测文件不存在"),
    ],
)
def test_bad_input_is_a_chinese_error_without_traceback(shared_dirs, args, message):
    result = run(args, shared_dirs)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_docs_add_unreadable_and_unsupported(writable_dirs, tmp_path):
    bad = tmp_path / "x.exe"
    bad.write_bytes(b"MZ")
    result = run(["docs", "add", str(bad)], writable_dirs)
    assert result.returncode != 0 and "不支持的文件类型" in result.stderr and "Traceback" not in result.stderr
    good = tmp_path / "通知.txt"
    good.write_text("某街道召开网格员培训会，共有120名网格员参加。培训内容包括矛盾调解和政策宣传。", "utf-8")
    result = run(["docs", "add", str(good)], writable_dirs)
    assert result.returncode == 0, result.stderr
    doc_id = result.stdout.split()[1]
    result = run(["ask", "网格员培训会有多少名网格员参加？", "--json"], writable_dirs)
    assert "120名" in json.loads(result.stdout)["answer"]
    assert run(["docs", "remove", doc_id], writable_dirs).returncode == 0
    assert len(json.loads(run(["docs", "list", "--json"], writable_dirs).stdout)["documents"]) == 5


def test_eval_reports_every_metric(shared_dirs):
    result = run(["eval", str(DEV_SET), "--json"], shared_dirs)
    assert result.returncode == 0, result.stderr
    overall = json.loads(result.stdout)["overall"]
    for key in (
        "evidence_recall",
        "answer_hit",
        "grounded_acc",
        "refusal_recall",
        "false_refusal",
        "citations_per_answer",
        "citation_valid",
        "latency_p50_ms",
        "latency_p95_ms",
    ):
        assert key in overall
    table = run(["eval", str(DEV_SET)], shared_dirs).stdout
    assert "overall" in table and "paraphrase" in table


def test_eval_on_another_corpus_in_the_news_gold_format(shared_dirs, tmp_path):
    """`assistant eval FILE --corpus DIR`: a temporary index of DIR; answers with nested alternatives."""
    corpus = tmp_path / "other"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "东岸社区志愿服务简报\n\n2021年，东岸社区组建了12支志愿服务队，服务居民3000余人次。", "utf-8"
    )
    (corpus / "b.txt").write_text("河滨街道简讯\n\n河滨街道今年新建了两个口袋公园，方便居民休闲。", "utf-8")
    gold = tmp_path / "qa.jsonl"
    lines = [
        {
            "id": "q1",
            "question": "东岸社区组建了多少支志愿服务队？",
            "answers": [["12支", "十二支"]],
            "answerable": True,
        },
        {"id": "q2", "question": "东岸社区志愿服务队队长是谁？", "answers": ["某人"], "answerable": False},
    ]
    gold.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), "utf-8")
    result = run(["eval", str(gold), "--corpus", str(corpus), "--json"], shared_dirs)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    o = report["overall"]
    assert o["n"] == 2 and o["citation_valid"] == 1.0
    assert set(report["by_type"]) == {"answerable", "unanswerable"}
    q1 = report["questions"][0]
    assert q1["answer_hit"], q1["answer"]
    assert 0.0 <= q1["confidence"] <= 1.0
    assert not (shared_dirs[0] / "a.txt").exists()  # the shared corpus was not touched
    bad = run(["eval", str(gold), "--corpus", str(tmp_path / "missing")], shared_dirs)
    assert bad.returncode != 0 and "语料目录不存在" in bad.stderr
