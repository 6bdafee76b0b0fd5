"""Quality floors on the whole dev set (extractive mode, top_k 5). The dev questions are never special-cased."""

import pytest
from conftest import DEV_SET

from assistant.evaluation import covered, evaluate


@pytest.fixture(scope="module")
def report(assistant):
    return evaluate(assistant, DEV_SET, top_k=5)


def test_floors(report):
    o = report["overall"]
    print({k: o[k] for k in o})
    assert o["citation_valid"] == 1.0
    assert o["evidence_recall"] >= 0.95
    assert o["citations_per_answer"] <= 3.0
    assert o["answer_hit"] >= 0.85
    assert o["refusal_recall"] >= 0.75
    assert o["false_refusal"] <= 0.10


def test_every_type_is_reported(report):
    assert {"fact", "number", "list", "paraphrase", "cross_doc", "unanswerable"} <= set(report["by_type"])


def test_covered_rule():
    assert covered("调解成功率达到83.87%", "……累计受理申请5382件,调解成功4514件,调解成功率达到83.87%。")
    assert covered(
        "全区现有新业态新就业群体2.2万人,通", "全区现有新业态新就业群体2.2万人"
    )  # cut by a boundary
    assert not covered("全区现有新业态新就业群体2.2万人,通过建立联动闭环服务机制", "新就业群体2.2万人")
