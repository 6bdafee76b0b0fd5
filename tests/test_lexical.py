from assistant.lexical import BM25Index, quoted_phrases, tokenize, words


def test_quoted_domain_phrases_are_whole_tokens():
    tokens = tokenize("推行了“碧·有服务”模式")
    assert "碧·有服务" in tokens
    assert quoted_phrases("以“一中心一张网十联户”为载体") == ["一中心一张网十联户"]


def test_full_width_and_case_are_normalised_for_matching_only():
    assert tokenize("ＡＢＣ社区") == tokenize("abc社区")


def test_deputy_titles_stay_one_word():
    assert "主任" not in words("管委会副主任林安海")
    assert "主任" in words("管委会主任")


def test_question_words_are_not_terms():
    assert not {"哪个", "什么", "多少"} & set(tokenize("哪个社区有什么做法，多少人？"))


def test_bm25_prefers_the_matching_chunk():
    index = BM25Index([tokenize("网格化管理成效明显"), tokenize("物业党建工作"), tokenize("新就业群体服务")])
    scores = index.scores(tokenize("物业党建"))
    assert scores.argmax() == 1
    assert index.idf("从未出现的词") > index.idf("物业")


def test_named_units_are_names_not_kinds():
    from assistant.lexical import named_units

    text = "碧海社区打造智慧社区，世纪城街道推行数字社区服务，全市城市社区建立智能小区平台。"
    assert named_units(text) == ["碧海社区", "世纪城街道"]
