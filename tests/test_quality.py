"""Quality floors (extractive mode, top_k 5). The dev questions are never special-cased.

- The packaged answer model through the real `Assistant.ask` on the seed dev sets (in-sample for the model).
- Out-of-fold: the answer model re-fitted by `answer.fit` in 5 folds, every question answered by a model that
  never saw it, on the two seed sets and (when ../shared is beside the clone) the third-party news set.
"""

import statistics

import pytest
from conftest import (
    DEV_SET,
    EVAL_DIR,
    NATURAL_DEV,
    NATURAL_DEV2,
    NATURAL_DEV3,
    NATURAL_DEV4,
    NATURAL_DEV5,
    NATURAL_DEV6,
    NATURAL_DEV7,
    NATURAL_DEV8,
    NATURAL_DEV9,
    NATURAL_DEV10,
    NATURAL_DEV11,
    NATURAL_DEV12,
    NATURAL_DEV13,
    NATURAL_DEV14,
    NATURAL_DEV15,
    NATURAL_DEV16,
    NATURAL_DEV17,
    NATURAL_DEV18,
    NATURAL_DEV19,
    NATURAL_DEV20,
    NATURAL_DEV21,
    NATURAL_DEV22,
    NATURAL_DEV23,
    NATURAL_DEV24,
    NATURAL_DEV25,
    NATURAL_DEV26,
    NATURAL_DEV27,
    NATURAL_DEV28,
    NATURAL_DEV29,
    NATURAL_DEV30,
    NATURAL_DEV31,
    NATURAL_DEV32,
    NATURAL_DEV33,
    NATURAL_DEV34,
    NATURAL_HOLDOUT,
    NEWS_DIR,
    requires_news,
)

from assistant.answer import fit as fitting
from assistant.evaluation import covered, evaluate, load_gold


@pytest.fixture(scope="module")
def report(assistant):
    return evaluate(assistant, DEV_SET, top_k=5)


def test_floors(report):
    o = report["overall"]
    print({k: o[k] for k in o})
    assert o["citation_valid"] == 1.0
    assert o["evidence_recall"] >= 0.90
    assert o["citations_per_answer"] <= 3.0
    assert o["answer_hit"] >= 0.92
    assert o["refusal_recall"] >= 0.83
    # 0.029 when the model was fitted on four seed sets; refitted on fourteen with each corpus weighing the same
    # it refuses 2 of 34 (0.059), while the sets never fitted on and the news set are refused right more often
    assert o["false_refusal"] <= 0.06


@pytest.mark.parametrize(
    ("gold", "hit", "refused", "wrongly_refused"),
    [
        (NATURAL_DEV, 0.82, 0.85, 0.07),
        (NATURAL_DEV3, 0.78, 0.85, 0.10),
        (NATURAL_DEV4, 0.75, 0.85, 0.20),
        # since the eighth round the model is fitted on every set here but natural_dev9, natural_dev14 and
        # natural_holdout (never fitted on nor read for a rule); figures below are from before that refit.
        # read for rules (0.855 / 0.833 / 0.048): two near misses it refused for a wrong reason
        # (a place cut from 观山湖|那, 安顺智慧社区 never written whole) are answered since names are read right
        (NATURAL_DEV5, 0.75, 0.80, 0.15),
        (NATURAL_DEV6, 0.70, 0.85, 0.25),  # blind 0.730 / 0.941 / 0.222; after rules 0.810 / 0.941 / 0.143
        (NATURAL_DEV7, 0.72, 0.65, 0.20),  # blind 0.698 / 0.588 / 0.222; after rules 0.778 / 0.706 / 0.143
        (NATURAL_DEV8, 0.72, 0.58, 0.25),  # blind 0.746 / 0.647 / 0.222; after rules 0.810 / 0.647 / 0.175
        # never read for a rule: 0.766 / 0.769 / 0.213 (the code before the sixth round: 0.745 / 0.769 / 0.234);
        # with the eighth round's refit 0.766 / 0.846 / 0.170
        (NATURAL_DEV9, 0.70, 0.69, 0.28),
        (NATURAL_DEV10, 0.85, 0.70, 0.12),  # blind 0.827 / 0.722 / 0.135; after rules 0.904 / 0.778 / 0.058
        (NATURAL_DEV11, 0.82, 0.70, 0.14),  # blind 0.769 / 0.778 / 0.135; after rules 0.885 / 0.778 / 0.077
        # blind to the code before the seventh round: 0.839 / 0.786 / 0.125 and 0.620 / 0.750 / 0.260; to its
        # first rules: 0.857 / 0.929 / 0.125 and 0.640 / 0.800 / 0.240; after rules 0.857 / 0.929 / 0.125 and
        # 0.720 / 0.800 / 0.200
        (NATURAL_DEV12, 0.80, 0.85, 0.17),
        (NATURAL_DEV13, 0.66, 0.72, 0.26),
        # blind to the code before the seventh round: 0.865 / 0.611 / 0.077 and 0.827 / 0.778 / 0.115; after it
        # natural_dev14 (never read for a rule) 0.865 / 0.667 / 0.077 (refit: 0.846 / 0.778 / 0.096),
        # natural_dev15 0.846 / 0.833 / 0.115 blind,
        # 0.865 / 0.833 / 0.077 once read for rules
        (NATURAL_DEV14, 0.80, 0.58, 0.14),
        (NATURAL_DEV15, 0.80, 0.75, 0.14),
        # the eighth round's two writers, never fitted on: blind to the model before it 0.844 / 0.867 / 0.111 and
        # 0.651 / 0.706 / 0.256, to its refit 0.822 / 0.867 / 0.067 and 0.698 / 0.706 / 0.233, after the rules
        # read from them 0.867 / 0.867 / 0.044 and 0.767 / 0.706 / 0.163
        (NATURAL_DEV16, 0.80, 0.77, 0.10),
        (NATURAL_DEV17, 0.70, 0.64, 0.22),
        # the ninth round's two writers, never fitted on: blind 0.711 / 0.867 / 0.111 and 0.667 / 0.533 / 0.267;
        # after the rules read from them (traditional characters, spoken years, another place's document)
        # 0.733 / 0.867 / 0.089 and 0.822 / 0.467 / 0.156
        (NATURAL_DEV18, 0.68, 0.80, 0.14),
        (NATURAL_DEV19, 0.74, 0.40, 0.21),
        # two more writers after those rules, never fitted on: blind 0.800 / 0.800 / 0.178 and 0.778 / 0.867 /
        # 0.178; after the rules read from them (a comparison every side answers, a chat's modal particle before a
        # space ends a sentence, 多少个退休法官 counts people, a place's name decides of one place, 差多少 compares)
        # 0.822 / 0.867 / 0.156 and 0.844 / 0.867 / 0.133
        (NATURAL_DEV20, 0.76, 0.73, 0.21),
        (NATURAL_DEV21, 0.76, 0.80, 0.19),
        # the tenth round's four writers, never fitted on: blind 0.800 / 0.867 / 0.067 and 0.867 / 0.733 / 0.089,
        # then 0.800 / 0.867 / 0.089 and 0.711 / 0.933 / 0.156 (after the first rules); after the rules read from
        # them (two questions in one each answered on their own, things asked of each one by one, ties, a figure in
        # a quoted name, 个 of any thing, a stem with a rare character) 0.933 / 0.867 / 0.022, 0.911 / 0.800 / 0.067,
        # 0.889 / 0.867 / 0.067, 0.733 / 0.933 / 0.178
        (NATURAL_DEV22, 0.88, 0.80, 0.07),
        (NATURAL_DEV23, 0.86, 0.66, 0.12),
        (NATURAL_DEV24, 0.84, 0.80, 0.12),
        (NATURAL_DEV25, 0.66, 0.86, 0.21),
        # two more writers after those rules, never fitted on: blind 0.844 / 0.600 / 0.133 and 0.756 / 0.933 /
        # 0.133; after the rule read from them (asked who said or told it, the speaker answers) 0.889 / 0.600 /
        # 0.111 and 0.778 / 0.933 / 0.111
        (NATURAL_DEV26, 0.84, 0.53, 0.16),
        (NATURAL_DEV27, 0.70, 0.86, 0.16),
        # the eleventh round's four writers, never fitted on: blind 0.911 / 0.733 / 0.022, 0.667 / 0.933 / 0.267,
        # 0.889 / 0.867 / 0.044 and 0.844 / 0.867 / 0.067; after the round's rules 0.911 / 0.733 / 0.022, 0.711 /
        # 0.933 / 0.244, 0.911 / 0.867 / 0.022 and 0.889 / 0.933 / 0.022
        (NATURAL_DEV28, 0.86, 0.66, 0.07),
        (NATURAL_DEV29, 0.64, 0.86, 0.29),
        (NATURAL_DEV30, 0.86, 0.80, 0.07),
        (NATURAL_DEV31, 0.84, 0.86, 0.07),
        # two more writers after all of the round's rules but the last (十几万 asks nothing): blind 0.822 / 0.667 /
        # 0.089 and 0.956 / 0.533 / 0.000; after it 0.844 / 0.667 / 0.067 and 0.956 / 0.533 / 0.000
        (NATURAL_DEV32, 0.78, 0.60, 0.12),
        (NATURAL_DEV33, 0.90, 0.46, 0.05),
        (NATURAL_DEV34, 0.74, 0.62, 0.17),
        (NATURAL_HOLDOUT, 0.62, 0.85, 0.25),
    ],
    ids=[
        "natural_dev",
        "natural_dev3",
        "natural_dev4",
        "natural_dev5",
        "natural_dev6",
        "natural_dev7",
        "natural_dev8",
        "natural_dev9",
        "natural_dev10",
        "natural_dev11",
        "natural_dev12",
        "natural_dev13",
        "natural_dev14",
        "natural_dev15",
        "natural_dev16",
        "natural_dev17",
        "natural_dev18",
        "natural_dev19",
        "natural_dev20",
        "natural_dev21",
        "natural_dev22",
        "natural_dev23",
        "natural_dev24",
        "natural_dev25",
        "natural_dev26",
        "natural_dev27",
        "natural_dev28",
        "natural_dev29",
        "natural_dev30",
        "natural_dev31",
        "natural_dev32",
        "natural_dev33",
        "natural_dev34",
        "natural_holdout",
    ],
)
def test_natural_phrasing_floors(assistant, gold, hit, refused, wrongly_refused):
    """`natural_holdout.jsonl`: 30 questions written after the model and its rules, never fitted on nor read for
    a rule (measured 0.714 / 1.000 / 0.190): a guard against fitting the natural sets alone."""
    o = evaluate(assistant, gold, top_k=5)["overall"]
    print(o)
    assert o["citation_valid"] == 1.0
    assert o["answer_hit"] >= hit
    assert o["refusal_recall"] >= refused
    assert o["false_refusal"] <= wrongly_refused


def test_every_type_is_reported(report):
    assert {"fact", "number", "list", "paraphrase", "cross_doc", "unanswerable"} <= set(report["by_type"])


@pytest.fixture(scope="module")
def seed_cases(assistant):
    return (
        fitting.collect(assistant, load_gold(DEV_SET), "dev")
        + fitting.collect(assistant, load_gold(NATURAL_DEV), "natural")
        + fitting.collect(assistant, load_gold(NATURAL_DEV2), "natural2")
        + fitting.collect(assistant, load_gold(NATURAL_DEV3), "natural3")
    )


def _oof(cases, splits: int = 6):
    """Out-of-fold metrics per set, the mean over `splits` 5-fold splits (seeds 0…): one split of 6–20
    unanswerable questions moves a set's refusal by a question or two (dev answer_hit 0.853–1.000 by seed)."""
    full = fitting.fit(cases)
    results = [fitting.report(cases, full, fitting.cross_validate(cases, 5, seed)) for seed in range(splits)]
    print(fitting.format_report(results[0]))

    def mean(name: str, key: str):
        values = [r[name]["out_of_fold"][key] for r in results]
        return None if values[0] is None else statistics.fmean(values)

    oof = {name: {key: mean(name, key) for key in results[0][name]["out_of_fold"]} for name in results[0]}
    print("six-split means:", oof)
    return oof


def test_out_of_fold_floors_on_the_seed_sets(seed_cases):
    oof = _oof(seed_cases)
    # measured (six-split means): dev 0.961 / 0.639 / 0.039, natural 0.885 / 0.875 / 0.023, natural2 0.819 / 0.917 /
    # 0.010, natural3 0.946 / 0.927 / 0.012; fitted without the news set, dev's six tempting questions are refused less
    assert oof["dev"]["answer_hit"] >= 0.90 and oof["dev"]["false_refusal"] <= 0.08
    assert oof["natural"]["answer_hit"] >= 0.82 and oof["natural"]["refusal_recall"] >= 0.80
    assert oof["natural2"]["answer_hit"] >= 0.70 and oof["natural2"]["false_refusal"] <= 0.08
    assert oof["natural3"]["answer_hit"] >= 0.88 and oof["natural3"]["false_refusal"] <= 0.06


@requires_news
def test_out_of_fold_floors_with_the_news_set(seed_cases, news_assistant):
    cases = seed_cases + fitting.collect(news_assistant, load_gold(NEWS_DIR / "qa.jsonl"), "news")
    oof = _oof(cases)
    # measured (six-split means): dev 0.951 / 0.805 / 0.049, natural 0.908 / 0.917 / 0.046, natural2 0.829 / 0.965 /
    # 0.044, natural3 0.902 / 0.969 / 0.051, news 0.921 / 0.408 / 0.041; since each corpus weighs the same (the
    # news set half of this fit, not a third) and with the eighth round's rules: dev 0.917 / 0.861 / 0.083, natural
    # 0.868 / 0.969 / 0.081, natural2 0.770 / 0.953 / 0.093, natural3 0.902 / 0.979 / 0.063, news 0.900 / 0.500 /
    # 0.056 (the floors leave a question or two: a rule moves these as much)
    assert oof["dev"]["answer_hit"] >= 0.88 and oof["dev"]["false_refusal"] <= 0.11
    assert oof["natural"]["answer_hit"] >= 0.83 and oof["natural"]["refusal_recall"] >= 0.85
    assert oof["news"]["answer_hit"] >= 0.87 and oof["news"]["false_refusal"] <= 0.08  # BM25 baseline: 0.65
    assert oof["natural2"]["answer_hit"] >= 0.70 and oof["natural2"]["false_refusal"] <= 0.12
    assert oof["natural3"]["answer_hit"] >= 0.85 and oof["natural3"]["false_refusal"] <= 0.08
    # the natural sets' hard questions set a threshold that answers tempting news questions more often
    assert oof["news"]["refusal_recall"] >= 0.35


@requires_news
def test_news_citations_are_valid(news_assistant):
    o = evaluate(news_assistant, NEWS_DIR / "qa.jsonl", top_k=5)["overall"]
    print(o)
    assert o["citation_valid"] == 1.0
    assert o["answer_hit"] >= 0.90


def test_covered_rule():
    assert covered("调解成功率达到83.87%", "……累计受理申请5382件,调解成功4514件,调解成功率达到83.87%。")
    assert covered(
        "全区现有新业态新就业群体2.2万人,通", "全区现有新业态新就业群体2.2万人"
    )  # cut by a boundary
    assert not covered("全区现有新业态新就业群体2.2万人,通过建立联动闭环服务机制", "新就业群体2.2万人")


def _news_corpus():
    """eval/news_corpus.py, which builds a news-style set's corpus and says which passages it leaves out."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("news_corpus", EVAL_DIR / "news_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_news_style_sets_withhold_only_what_their_negatives_ask():
    """Our news-style sets (eval/news_dev.jsonl, eval/news_holdout.jsonl): each unanswerable question's answer was
    left out of its corpus with every passage holding it, and no answerable question lost its own passages."""
    news_corpus = _news_corpus()
    for name in ("news_dev", "news_holdout"):
        items = load_gold(EVAL_DIR / f"{name}.jsonl")
        negatives = [i for i in items if not i.answerable]
        withheld = news_corpus.withheld(name)
        assert len(items) >= 160 and 30 <= len(negatives) <= 40
        assert withheld and not withheld & {f for i in items for f in i.files}
        assert all(i.files for i in items if i.answerable)


@requires_news
def test_news_style_corpus_is_the_news_corpus_without_the_withheld_passages(tmp_path):
    news_corpus = _news_corpus()
    written = news_corpus.build("news_dev", tmp_path / "corpus", NEWS_DIR / "corpus")
    withheld = news_corpus.withheld("news_dev")
    names = {p.name for p in (tmp_path / "corpus").iterdir()}
    assert written == len(names) == len(list((NEWS_DIR / "corpus").glob("*.txt"))) - len(withheld)
    assert not names & withheld
