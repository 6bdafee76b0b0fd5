"""Cleaning: the stored text keeps every sentence of the original; only whitespace and web chrome go."""

import re

import pytest
from conftest import NEWS_DIR, ROOT, SEEDS, requires_news

from assistant import chunking, corpus
from assistant.errors import EmptyDocument, UnsupportedFileType
from assistant.punctuation import LOST

BOILERPLATE = {
    "小字号",
    "分享让更多人看到",
    "返回顶部",
    "人民网",
    "人民网>>湖南频道>>党建",
    "(责编:李淑静、罗帅)",
}


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def original_fragments(raw: str):
    """Every sentence piece of every non-boilerplate line of the original, markup stripped."""
    for line in raw.splitlines():
        line = re.sub(r"^#+\s*", "", line.strip())
        if not line or line in BOILERPLATE:
            continue
        for piece in re.split(r"(?<=[。！？!?])", line):
            if squash(piece):
                yield piece


@pytest.mark.parametrize("seed", list(SEEDS.values()), ids=list(SEEDS))
def test_no_sentence_lost_or_altered(seed):
    raw = seed.read_text("utf-8")
    cleaned = squash(corpus.clean_text(corpus.markdown_to_text(raw)))
    missing = [p for p in original_fragments(raw) if squash(p) not in cleaned]
    assert missing == []


@pytest.mark.parametrize("seed", list(SEEDS.values()), ids=list(SEEDS))
def test_only_whitespace_and_boilerplate_removed(seed):
    raw = seed.read_text("utf-8")
    kept = "".join(squash(p) for p in original_fragments(raw))
    # the cleaner's mark where the page lost words (punctuation.LOST) is no text of the document
    cleaned = squash(corpus.clean_text(corpus.markdown_to_text(raw)).replace(LOST, ""))
    # nothing invented: the cleaned text is no longer than the original minus chrome (duplicate captions dropped)
    assert len(cleaned) <= len(kept)
    assert len(cleaned) >= 0.97 * len(kept)


def test_web_boilerplate_removed_and_paragraphs_kept():
    text = corpus.clean_text(SEEDS["004_d70784d2eddda7ba.txt"].read_text("utf-8"))
    lines = text.split("\n")
    for chrome in ("小字号", "分享让更多人看到", "返回顶部", "人民网>>湖南频道>>党建"):
        assert chrome not in lines
    assert "党建抓得好 企业放心跑" in lines  # a heading stays its own line
    assert "\r" not in text and "\n\n\n" not in text and "\xa0" not in text


def test_layout_broken_lines_are_rejoined():
    text = corpus.clean_text(SEEDS["002_e3e3c721f5a2a88d.txt"].read_text("utf-8"))
    assert "已收集并解决诉求问题800余个" in text
    text = corpus.clean_text(SEEDS["003_6efcea03d811bbfd.txt"].read_text("utf-8"))
    assert "“多亏了各部门的共同参与,让社区工作" in text
    # a broken sentence continues after a photo caption, the caption stays a line of its own
    text = corpus.clean_text(SEEDS["000_67bc69122a840741.txt"].read_text("utf-8"))
    assert "支部党组织活动阵地进行提质改造，强化" in text
    assert "街道干部为社区群众分忧解难" in text.split("\n")


def test_words_a_page_lost_between_two_pieces_of_a_sentence_are_marked_not_glued():
    """……示范培训班和全市 ‖ 任。同时，……: the next piece opens with one character ending a sentence that makes no word
    with the broken one's end, so the words between were lost; they are marked (……) and the stray character left out.
    A word the layout cut runs on (……高效的服 ‖ 务。) and is joined as before. The mark ends the cut sentence, so
    the next one is a sentence of its own."""
    head = "为提升干部素质,市委组织部按照市级示范培训、县级兜底培训的原则,分别于4月、6月举办全市书记示范培训班和全市"
    lost = corpus.clean_text(f"{head}\n\n任。同时,各县对其余872名成员进行兜底培训。")
    assert lost == f"{head}（原文此处缺字）。同时,各县对其余872名成员进行兜底培训。"
    assert [lost[a:b] for a, b in chunking.split_sentences(lost)][
        -1
    ] == "同时,各县对其余872名成员进行兜底培训。"
    head = "社区深化网格化管理,着力为居民提供更优质、便捷、高效的服务体系建设和精细化管理的高效的服"
    cut = corpus.clean_text(f"{head}\n\n务。目前,全市159个城市社区共划分网格905个。")
    assert cut == f"{head}务。目前,全市159个城市社区共划分网格905个。"
    assert "全市（原文此处缺字）。同时" in corpus.clean_text(
        SEEDS["003_6efcea03d811bbfd.txt"].read_text("utf-8")
    )


def test_headings_bylines_and_captions_stand_alone():
    text = corpus.clean_text(SEEDS["001_0ee9dc594903093d.txt"].read_text("utf-8"))
    lines = text.split("\n")
    assert "□ 李焱坤 曾平" in lines
    assert "法治护航 构筑协同治理新矩阵" in lines


def test_indents_and_padding_of_a_flattened_web_page_mark_its_paragraphs():
    """A web page saved as one line keeps its paragraphs as runs of two ideographic spaces (the Chinese indent)
    after a space or a sentence's end, or as &nbsp; padding: each starts a paragraph, so a subheading or a photo
    credit between two paragraphs is never glued to the sentence after it, even when it holds a comma (which
    marks a line cut by a newspaper layout elsewhere)."""
    raw = (
        "某市召开工作会议。会议部署了全年任务。 \u3000\u3000家属：不服，还要继续申诉 \u3000\u3000宣判后，"
        "家属在法庭外表示不服。\u3000\u3000会上还通报了工作进展，全年完成任务120项。 \u3000\u3000某某 摄"
        " \u3000\u3000北\u3000\u3000京 76.7 45.4 \u00a0 \u00a0 多了一双眼，更智能 \u00a0 \u00a0 据介绍，某某BMW \u00a04系销量增长。"
    )
    assert corpus.clean_text(raw).split("\n\n") == [
        "某市召开工作会议。会议部署了全年任务。",
        "家属：不服，还要继续申诉",
        "宣判后，家属在法庭外表示不服。",
        "会上还通报了工作进展，全年完成任务120项。",
        "某某 摄",
        "北 京 76.7 45.4",  # two-character names spaced out in a table are no indent
        "多了一双眼，更智能",  # &nbsp; padding marks a break too, one no-break space does not
        "据介绍，某某BMW 4系销量增长。",
    ]
    # without indents the same short line with a comma is a line cut by the layout and is joined
    assert corpus.clean_text("家属：不服，还要继续申诉\n宣判后，家属在法庭外表示不服。").count("\n") == 0


def test_gb18030_and_crlf_decoded_to_the_same_text():
    utf8 = "第一段。\n\n第二段，内容。\n".encode()
    gbk = "第一段。\r\n\r\n第二段，内容。\r\n".encode("gb18030")
    a = corpus.document_from_bytes(utf8, "a.txt")
    b = corpus.document_from_bytes(gbk, "b.txt")
    assert a.text == b.text and a.doc_id == b.doc_id


def test_doc_id_is_content_hash():
    doc = corpus.document_from_bytes("内容一。".encode(), "x.txt")
    assert doc.doc_id == corpus.doc_id_for(doc.text) and len(doc.doc_id) == 16


def test_bad_files_get_clear_errors():
    with pytest.raises(UnsupportedFileType, match="不支持"):
        corpus.document_from_bytes(b"x", "a.exe")
    with pytest.raises(EmptyDocument, match="空"):
        corpus.document_from_bytes(b"   ", "a.txt")
    with pytest.raises(EmptyDocument):
        corpus.document_from_bytes(b"not a pdf at all", "a.pdf")
    with pytest.raises(EmptyDocument):
        corpus.document_from_bytes(b"PK\x03\x04broken", "a.docx")


def test_html_keeps_main_text_only():
    html = """<html><head><title>测试页</title></head><body><nav>首页 | 新闻 | 返回顶部</nav>
    <article><h1>社区治理新模式</h1><p>某社区推行网格化管理，成效明显。居民满意度达到95%。</p>
    <p>该社区还建立了志愿服务队，定期开展活动，服务居民群众。</p></article>
    <footer>版权所有 某网站</footer></body></html>"""
    doc = corpus.document_from_bytes(html.encode(), "page.html")
    assert "某社区推行网格化管理" in doc.text
    assert "版权所有" not in doc.text


def test_repository_corpus_has_metadata_for_every_file():
    sources = corpus.load_sources(ROOT / "corpus")
    files = {p.name for p in corpus.corpus_files(ROOT / "corpus")}
    assert files == set(sources)
    # the five seed documents, under the original names the eval files cite as `source`
    assert {m["source"] for m in sources.values()} >= {
        "000_67bc69122a840741.txt",
        "001_0ee9dc594903093d.txt",
        "002_e3e3c721f5a2a88d.txt",
        "003_6efcea03d811bbfd.txt",
        "004_d70784d2eddda7ba.txt",
    }
    assert all(m.get("title") for m in sources.values())


# ---------------------------------------------------------------- rules on layout signals (synthetic texts)


def paragraphs(raw: str, layout: str = "text") -> list[str]:
    return corpus.clean_text(raw, layout).split("\n\n")


def test_numbered_headings_never_join_the_next_paragraph():
    raw = (
        "（一）着力扩大国内需求，推动经济实现良性循环\n"
        "内需是经济发展的基本动力，要把恢复和扩大消费摆在优先位置，多渠道增加城乡居民收入。\n"
        "二、加快建设现代化产业体系，推进产业智能化\n"
        "围绕制造业重点产业链，集中优质资源合力推进关键核心技术攻关。\n"
        "3.稳步推进城市更新，改善居住条件\n"
        "今年计划改造老旧小区五万个。"
    )
    got = paragraphs(raw)
    for heading in (
        "（一）着力扩大国内需求，推动经济实现良性循环",
        "二、加快建设现代化产业体系，推进产业智能化",
        "3.稳步推进城市更新，改善居住条件",
    ):
        assert heading in got


def test_word_paragraphs_are_never_rejoined():
    raw = "坚持党建引领，推动基层治理\n\n各社区建立党群服务中心，为群众提供便利服务。"
    assert paragraphs(raw, "paragraphs") == [
        "坚持党建引领，推动基层治理",
        "各社区建立党群服务中心，为群众提供便利服务。",
    ]


@pytest.mark.parametrize(
    "raw",
    [
        "责任编辑：张三 某市今年新增就业岗位一万个，城镇调查失业率保持在百分之五以内，就业形势总体稳定，居民收入稳步增长。",
        "首页 >> 专题 >> 正文 某区推行网格化管理，群众诉求平均办结时间缩短至三天，满意度明显提升，各项工作取得积极进展。",
        "版权所有：某某杂志社有限公司",
    ],
)
def test_a_one_line_document_is_never_dropped_as_chrome(raw):
    doc = corpus.document_from_bytes(raw.encode(), "one-line.txt")
    assert squash(doc.text) == squash(raw)


def test_chrome_lines_still_dropped_beside_content():
    raw = "首页 >> 新闻 >> 正文\n某区推行网格化管理，成效明显。\n责任编辑：张三\n分享让更多人看到"
    assert paragraphs(raw) == ["某区推行网格化管理，成效明显。"]


@pytest.mark.parametrize(
    "line, dateline, first",
    [
        (
            "人民网长沙2月11日电 记者从省委组织部获悉，全省新建党群服务中心120个。",
            "人民网长沙2月11日电",
            "记者从",
        ),
        (
            "新华社北京3月5日电（记者 李明）国务院新闻办公室5日举行发布会。",
            "新华社北京3月5日电（记者 李明）",
            "国务院新闻办公室5日",
        ),
        ("本报讯（通讯员 王五）近日，某街道开展志愿服务活动。", "本报讯（通讯员 王五）", "近日"),
    ],
)
def test_datelines_stand_apart_from_the_first_sentence(line, dateline, first):
    got = paragraphs(f"某地举办活动 {line}")
    assert got[0] == "某地举办活动" and got[1] == dateline and got[2].startswith(first)


def test_dateline_lookalikes_stay_in_the_sentence():
    raw = "会议定于3月5日电话通知各单位，某公司12月1日电价调整方案已公布。"
    assert paragraphs(raw) == [raw]


def test_control_characters_removed():
    raw = "第一段\x07内容\x1b[0m。\u202e倒序\u202c文字\x00。\n\x0c第二段\u200f内容。"
    text = corpus.clean_text(raw)
    assert text == "第一段内容[0m。倒序文字。\n\n第二段内容。"
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)


# ---------------------------------------------------------------- three real layouts, built here


def test_work_report_excerpt():
    raw = """政府工作报告

——2024年3月5日在第十四届全国人民代表大会第二次会议上

一、2023年工作回顾

过去一年，我们坚持稳中求进工作总基调，国内生产总值增长5.2%，城镇新增就业1244万人。

（一）着力扩大国内需求，推动经济实现良性循环

加强财政、货币、就业、产业、区域等政策协调配合，促进消费稳定增长，
发挥政府投资带动作用，社会消费品零售总额增长7.2%。

（二）着力深化改革开放，持续增强发展内生动力

出台促进民营经济发展壮大的意见和举措。
"""
    got = paragraphs(raw)
    assert "（一）着力扩大国内需求，推动经济实现良性循环" in got
    assert "（二）着力深化改革开放，持续增强发展内生动力" in got
    assert (
        "加强财政、货币、就业、产业、区域等政策协调配合，促进消费稳定增长，发挥政府投资带动作用，社会消费品零售总额增长7.2%。"
        in got
    )


def test_news_article_with_dateline_and_editor():
    raw = """某市启动社区网格员培训
2024-03-18 09:30 来源：某某日报
新华社北京3月17日电（记者 赵六）记者17日从民政部获悉，全国已建成城乡社区综合服务设施60万个。
民政部有关负责人表示，将进一步推动服务下沉。
责任编辑：钱七
"""
    doc = corpus.document_from_bytes(raw.encode(), "news.txt")
    got = doc.text.split("\n\n")
    assert "新华社北京3月17日电（记者 赵六）" in got
    assert any(p.startswith("记者17日从民政部获悉") for p in got)
    assert "责任编辑：钱七" not in got
    assert doc.title == "某市启动社区网格员培训"


@pytest.mark.parametrize(
    "first_lines, title",
    [
        ("当前位置：\n京报网首页 >\n某市社区食堂开业", "某市社区食堂开业"),  # a breadcrumb is no title
        ("第01版:要闻 本版新闻 某报图文数据库\n某论坛在京开幕", "某论坛在京开幕"),  # an e-paper's page label
        ("四、强化工作要求\n（一）加强组织领导", "page"),  # a page that starts at a numbered part: no title
        ("某报告发布。某平台供图\n某市社区食堂开业", "某市社区食堂开业"),  # a photo's caption and credit
        ("全国人口出生率 制图 某某\n数据来源：某统计局", "page"),  # a chart's credit, a source note
        ("某市已建成12个站点。另有5个在建", "page"),  # body text: a full stop inside the line
        ("粮食播种面积增加1295万亩，增长0.\n数据来源：某统计局", "page"),  # a figure cut at its decimal point
        # a snippet that opens with body text: a subheading further down is no title
        ("某市一季度新增就业12万人，同比增长5%。\n“同工同酬”呼声已久", "page"),
        ("某报体育 | 记者 张三\n某队夺得冠军", "某队夺得冠军"),  # a byline
        ("Dec 18, 2022 ...", "page"),  # a search snippet's date
        ("举报流程 京 ICP 证 040089", "page"),  # the page's footer
        ("分享 撰文 / 某大学课题组", "page"),  # a share bar and a byline
        ("14 前卫 某某青年队 某某（中乙）", "page"),  # a table row
        (
            "某市报名人数连续4年破千万，\n只是统计口径变了",
            "某市报名人数连续4年破千万，只是统计口径变了",
        ),  # two lines
    ],
)
def test_a_guessed_title_is_no_page_chrome(first_lines, title):
    text = first_lines + "\n某某社区建成服务站12个，服务居民3000余人次。"
    assert corpus.guess_title(text, "page.txt") == title


@pytest.mark.parametrize(
    "text, date",
    [
        (
            "某报道\n2022年02月11日15:18 | 来源:人民网-湖南频道\n某街道召开大会。",
            "2022-02-11",
        ),  # a web page's line
        (
            "关于加强某工作的意见\n（2023年5月10日）\n现提出如下意见。",
            "2023-05-10",
        ),  # under an official title
        ("某通知\n发布时间：2023-05-10 来源：某局\n正文。", "2023-05-10"),
        ("某通知\n正文。\n某市人民政府\n二〇二三年五月二十日", "2023-05-20"),  # the 成文日期 under the issuer
        ("某规定\n2023年1月1日起施行\n正文。", ""),  # body text that mentions a date
        ("某报道\n2022年5月,某市对全市物业服务企业进行摸底。", ""),
        ("某报道\n（2023年13月40日）\n正文。", ""),  # no such day
        ("某报道\n正文。\n截至2023年5月10日，共建成站点12个", ""),  # at the end, but not a date alone
    ],
)
def test_a_document_date_is_its_own_never_one_its_body_mentions(text, date):
    assert corpus.guess_date(text) == date


def test_a_document_without_metadata_takes_its_date_and_place_from_its_text():
    """References show title, place and date when the text gives them; what the operator gave wins."""
    raw = "贵州省安顺市：全力强化城市基层党建成效\n2022年02月11日 | 来源：某报\n全市建成网格905个。".encode()
    doc = corpus.document_from_bytes(raw, "a.txt")
    assert (doc.region, doc.date) == ("贵州省安顺市", "2022-02-11")
    given = corpus.document_from_bytes(raw, "a.txt", {"region": "贵州省", "date": "2022-02-12"})
    assert (given.region, given.date) == ("贵州省", "2022-02-12")
    plain = corpus.document_from_bytes(
        "关于加强社区工作的意见\n北京冬奥会在国家体育场开幕。".encode(), "b.txt"
    )
    assert (plain.region, plain.date) == ("", "")  # no administrative place in the title, no date line


@pytest.mark.parametrize(
    "title, region",
    [
        ("贵州省安顺市：全力强化城市基层党建成效", "贵州省安顺市"),
        ("长沙县㮾梨街道以高质量党建引领街道发展", "长沙县㮾梨街道"),  # a run of adjacent places
        ("北京冬奥会开幕式在国家体育场举行", ""),  # a venue is no region
        ("印度股市大涨", ""),  # a market is no city
        ("关于加强社区工作者队伍建设的意见", ""),
    ],
)
def test_a_title_region_is_the_administrative_place_it_names(title, region):
    from assistant import ner

    assert ner.title_region(title) == region


def test_notice_with_red_header_lines():
    raw = """某某市人民政府办公室文件
某府办发〔2024〕12号
某某市人民政府办公室
关于加强社区网格化服务管理的通知
各区县人民政府，市政府各部门：
为进一步提升基层治理水平，经市政府同意，现就有关事项通知如下。
一、明确网格划分标准
原则上按照300户至500户划分一个网格，每个网格配备专职网格员1名。
二、加强网格员队伍建设，落实待遇保障
各区县要将网格员经费纳入财政预算。
某某市人民政府办公室
2024年3月1日
"""
    got = paragraphs(raw)
    for line in (
        "某某市人民政府办公室文件",
        "某府办发〔2024〕12号",
        "关于加强社区网格化服务管理的通知",
        "各区县人民政府，市政府各部门：",
        "一、明确网格划分标准",
        "二、加强网格员队伍建设，落实待遇保障",
        "2024年3月1日",
    ):
        assert line in got


# ---------------------------------------------------------------- the news corpus (outside the repository)


@requires_news
def test_every_news_file_indexes_and_no_sentence_starts_with_a_dateline():
    from assistant.chunking import chunk_document, split_sentences

    failed, led, ids = [], [], set()
    files = sorted((NEWS_DIR / "corpus").glob("*.txt"))
    for path in files:
        try:
            doc = corpus.load_document(path)
        except Exception as exc:  # report every failure, not only the first
            failed.append((path.name, str(exc)))
            continue
        assert chunk_document(doc), path.name
        ids.add(doc.doc_id)
        for start, end in split_sentences(doc.text):
            sentence = doc.text[start:end]
            if corpus._DATELINE.match(sentence) and not corpus.is_dateline(sentence):
                led.append((path.name, sentence[:40]))
    assert failed == [] and len(ids) == len(files) == 955
    assert led == []
