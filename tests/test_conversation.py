"""Follow-up questions in extractive mode, over every answerable question of the dev set: a follow-up is
answered with new sentences about the same subject, never the previous answer again, and refused when the
documents do not say."""

import json

import pytest
from conftest import DEV_SET

from assistant.answer import conversation


@pytest.fixture(scope="module")
def first_turns(assistant):
    """(question, grounded first answer) for every dev question the assistant answers."""
    turns = []
    for line in DEV_SET.read_text("utf-8").splitlines():
        question = json.loads(line)["question"]
        answer = assistant.ask(question)
        if answer.grounded:
            turns.append((question, answer))
    assert len(turns) >= 25
    return turns


def _history(question, answer) -> list[dict]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer.answer}]


@pytest.mark.parametrize(("follow_up", "floor"), [("那它的具体做法呢？", 0.55), ("还有呢？", 0.8)])
def test_follow_ups_bring_new_sentences_on_the_same_subject(assistant, first_turns, follow_up, floor):
    grounded = on_topic = 0
    for question, first in first_turns:
        answer = assistant.ask(follow_up, history=_history(question, first))
        if not answer.grounded:
            assert answer.answer.startswith("资料中未找到")
            continue
        grounded += 1
        said = {(c.doc_id, c.start, c.end) for c in first.citations}
        assert not said & {(c.doc_id, c.start, c.end) for c in answer.citations}, (question, answer.answer)
        on_topic += any(c.doc_id in {f.doc_id for f in first.citations} for c in answer.citations)
        for c in answer.citations:
            assert assistant.document(c.doc_id).text[c.start : c.end] == c.quote
    print(f"[follow-up] {follow_up}: answered {grounded}/{len(first_turns)}, on topic {on_topic}/{grounded}")
    assert grounded >= floor * len(first_turns)
    assert on_topic >= 0.9 * grounded


def test_follow_up_on_what_the_documents_do_not_say_is_refused(assistant, first_turns):
    answered = [
        q
        for q, first in first_turns
        if assistant.ask("它的收费标准是多少？", history=_history(q, first)).grounded
    ]
    print(f"[follow-up] 它的收费标准是多少？ answered {len(answered)}/{len(first_turns)}")
    assert len(answered) <= 0.15 * len(first_turns), answered


def test_measures_follow_up_continues_the_story(assistant):
    question = "哪个社区推行了碧·有服务？"
    first = assistant.ask(question)
    follow = conversation.follow_up("那它的具体做法呢？", _history(question, first), assistant.snapshot)
    assert follow.intent == "measure"
    assert any("碧海社区" in s for s in follow.subjects), follow.subjects  # borrowed from the answer
    answer = assistant.ask("那它的具体做法呢？", history=_history(question, first))
    assert answer.grounded and answer.citations
    assert not {c.quote for c in answer.citations} & {c.quote for c in first.citations}, "nothing repeated"
    assert all(c.doc_id == first.citations[0].doc_id for c in answer.citations)
    story_start = min(c.start for c in first.citations)
    assert all(c.start > story_start for c in answer.citations), "what follows where the first answer began"


def test_a_question_that_stands_alone_ignores_the_history(assistant, first_turns):
    question, first = first_turns[0]
    other = "安顺市的城市社区一共划分了多少个网格？"
    alone = assistant.ask(other)
    assert conversation.follow_up(other, _history(question, first), assistant.snapshot) is None
    assert assistant.ask(other, history=_history(question, first)).answer == alone.answer


def test_a_refused_turn_lends_no_subject(assistant):
    history = [
        {"role": "user", "content": "遵义市的城市社区一共划分了多少个网格？"},
        {"role": "assistant", "content": "资料中未找到能够直接回答该问题的内容。"},
    ]
    follow = conversation.follow_up("那它的做法呢？", history, assistant.snapshot)
    assert follow.given == ""
    assert assistant.ask("那它的做法呢？", history=history).citations  # answered or refused, never an error
