"""The pieces of the extractive answer on small synthetic texts: question analysis, typo correction, answer
signals, the model file and the gold formats. End-to-end floors live in test_quality.py."""

import json
from collections import defaultdict

import numpy as np
import pytest
from snapshots import snapshot_of

from assistant.answer.model import AnswerModel, load
from assistant.answer.question import (
    Question,
    analyse,
    compared_names,
    days_named,
    defined_name,
    focus_of,
    head_of,
    kind_of,
    name_in,
    role_of,
    speaks_of,
    unit_class_of,
)
from assistant.answer.signals import FEATURES, answer_type, features, rare_missing, spells_out, year_conflict
from assistant.errors import AssistantError
from assistant.evaluation import parse_item
from assistant.retrieval import Hit
from assistant.spelling import SpellingIndex


@pytest.mark.parametrize(
    "question, kind",
    [
        ("金元社区食堂吃一顿多少钱啊", "number"),
        ("去年全省新能源汽车保有量", "number"),  # a keyword query ending in a measured quantity
        ("清镇营商环境在全省排第几", "number"),
        ("党员多久能到场啊", "number"),
        ("新修订的物业管理条例何时开始施行？", "date"),
        ("那部纪录片在省内的上映时间", "date"),
        ("味特食品的总经理叫啥", "person"),
        ("谁在会上宣读了倡议书", "person"),
        ("今年全省青年歌手大赛冠军", "person"),  # a role word at the end asks who
        ("明年的数字乡村论坛在哪举办", "place"),
        ("联席会议包括哪些单位", "list"),
        ("观山湖区政务服务下沉是咋做的", "howto"),
        ("花果园是什么样的社区", "other"),
        ("街道的党工委书记是哪个哦", "person"),  # 是哪个 at the end asks who
        ("全市最大的安置社区是哪个呀", "name"),  # … of a role only
        ("青龙山街道跟花果园比，哪边住的人多", "number"),  # which side has more: a figure from each
        ("限上商贸营业额和规上工业产值哪个增长快", "number"),
        ("是哪个领导来包的呀", "name"),  # 哪个 + a noun: the name of a thing
        ("那7个示范点分别是哪几个村", "list"),  # 哪几个 asks which, not how many
        ("服务站每天几点开门", "date"),
        ("每天进进出出的人流量有好大啊？", "number"),  # 好大 asks as 多大 does
        ("2022年谁当选龙城市市长", "person"),  # 长 of a role compares nothing
        ("志愿服务 分几组 哪个当组长", "person"),
        ("两个方案哪个周期更长", "number"),  # … after a degree word it does
        ("某某电影片长", "number"),  # 长 of a length is no office
        ("这部纪录片时长", "number"),
        ("龙舟队队长", "person"),
        ("那位老艺人的年龄", "number"),  # a measure ends the keyword query
    ],
)
def test_kind_of_question(question, kind):
    assert kind_of(question) == kind


@pytest.mark.parametrize(
    "question, unit",
    [
        ("一顿多少钱", "money"),
        ("今年技能大赛的总奖金是多少", "money"),
        ("志愿者报名人数是多少", "people"),
        ("城镇化率达到了多少", "percent"),
        ("在全省排第几", "ordinal"),
        ("多长时间能到", "duration"),
        ("建了多少个网格党支部", "count"),
        ("每天有多少老人去吃饭", "people"),  # 多少 + a word for people
        ("来了几个党员", "people"),
        ("花了多少人民币", "money"),
        ("一年给多少生活津贴", "money"),
        ("每人补助多少", "money"),
        ("被免职的科级干部有几个", "people"),  # the people word before 有几个
        ("在谈的亿元以上项目有几个", "count"),  # a classifier of things after 几: 亿元 only qualifies them
        ("投资多少万元", "money"),
        ("一共建了几个党支部", "count"),
        ("金元社区每天有多少老人来吃饭", "people"),  # 元 of a name is no money
        ("到底有多少在职党员去社区报到了", "people"),  # a people word of four characters
        ("请了多少个退休法官啊", "people"),  # 法官, 律师: people counted 14名
        ("有几个律师", "people"),
        ("几所师范学校", "count"),
        ("龙舟赛决赛比分", "score"),  # two figures set against each other
        ("某某电影片长", "duration"),
    ],
)
def test_unit_class(question, unit):
    assert unit_class_of(question) == unit


def test_focus_and_role():
    assert focus_of("花果园广场舞协会有多少名会员？") == ["会员"]  # what is counted
    assert "投诉" in focus_of("物业投诉一周还有几起")  # nothing after: what precedes
    assert role_of("土岭社区党总支副书记是谁") == ("副书记", "党总支")
    assert role_of("《四海》的导演是谁") == ("导演", "")
    assert role_of("红枫湖片区管委会的主任是谁") == ("主任", "管委会")  # whose role: across 的
    assert role_of("冬奥会官方电影的主创团队都有谁") == ("", "")  # its members, not a role
    assert role_of("谁是神舟十四号的指令长")[0] == "指令长"  # a bare 长 says nothing


@pytest.mark.parametrize(
    "question, kind",
    [
        ("广场舞协会会长叫啥名字", "person"),
        ("这个活动叫啥名字", "name"),
        ("书记姓什么", "person"),
        ("2023年电影节最佳女主角", "person"),  # a keyword query ending in a role
        ("新型战机研发国家", "place"),  # ... in a kind of place
        ("社区活动 主题活动 期数", "number"),  # ... in a measure, though 主题 is inside it
        ("阿姨们被组织成了什么队伍", "name"),  # the name of a team, a spirit, a plan
        ("街道弘扬的是一种什么精神", "name"),
    ],
)
def test_the_name_of_a_role_holder_is_a_person(question, kind):
    assert kind_of(question) == kind


def test_a_share_may_be_a_fraction_or_in_words():
    q = _q("回迁的农村居民占了多大比例", "number", unit_class="percent", focus=["居民"])
    assert answer_type(q, "回迁农村居民占4/5以上，矛盾颇多。") == (True, True)
    assert answer_type(q, "回迁农村居民占五分之四。")[0]
    assert not answer_type(q, "回迁农村居民有4500人。")[0]


def test_a_noun_the_documents_never_use_after_one_they_do_is_no_head():
    assert head_of("是哪个领导来包的呀") == "来包"  # jieba: 领导|来包, both nouns
    known = {"领导", "方案"}.__contains__
    assert head_of("是哪个领导来包的呀", known) == "领导"
    assert head_of("啥包保方案", known) == "方案"  # no known noun before it: kept as before


def test_a_role_asked_with_a_colloquial_ending_is_the_role():
    assert role_of("㮾梨街道的党工委书记是哪个哦") == ("书记", "党工委")


def test_name_in_accepts_the_stem_of_a_place():
    assert name_in("安顺街道", "安顺市26个街道全部完成改革")
    assert not name_in("遵义市", "安顺市26个街道")


def test_a_place_written_with_its_parent_is_found_part_by_part():
    assert name_in("安顺市平坝区", "安顺市推行智慧社区，平坝区杨柳湾社区线上公示党务")
    assert not name_in("安顺市平坝区", "贵阳市平坝区")  # the wrong parent
    assert not name_in("市场监管局", "市场上的监管")  # 市场 is no place


def test_name_in_ignores_spaces_and_hyphens_inside_a_name():
    assert name_in("gpt4", "openai发布了gpt-4模型")
    assert name_in("iphonese", "新款iphone se3起售价3499元")
    assert not name_in("gpt5", "openai发布了gpt-4模型")


def test_focus_skips_words_that_only_restate_the_question_word():
    assert focus_of("冬奥会开幕日期是什么时候") == ["冬奥会", "开幕"]


def test_a_date_counts_when_any_date_of_the_clause_is_new():
    q = _q("2022年考研开始日期", "date", years=["2022"], focus=["考研"])
    assert answer_type(q, "2022年考研初试时间是2021年12月25日至27日。") == (True, True)
    assert answer_type(q, "2022年考研人数创新高。")[0] is False  # the only date is the asked year


CORPUS = [
    "长沙县㮾梨街道召开述职评议大会，㮾梨街道建成59个网格党支部。",
    "红枫湖片区管委会出台方案。青龙山街道党建服务中心主任曹书举说。",
    "土岭社区党总支副书记黄璇介绍。",
    "观山湖区碧海社区党支部书记徐媛介绍。",
    "清镇市委召开会议。",
    "清镇获贵州省营商环境评比第二名。云岩区实行考察期制度。",
    "确保每村保持2名以上后备干部培养对象。",
    "㮾梨街道召开述职评议大会。街道党工委书记张登武表示。网格党支部建立了。感谢街道。",
    "成立“骑手红蜂”流动党员党支部。观山湖区培育示范点。开展线下社区的活动。",
]


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("榔梨街道建了多少个网格党支部", "㮾梨街道建了多少个网格党支部"),  # variant character by sound
        ("红风湖片区出台了啥方案", "红枫湖片区出台了啥方案"),
        ("青龙山街到党建服务中心主任叫啥", "青龙山街道党建服务中心主任叫啥"),
        ("土岭社区党总支付书记是谁", "土岭社区党总支副书记是谁"),
        ("述职 红风湖 网格", "述职 红枫湖 网格"),  # a keyword of three characters, whole
        ("莲花村53号网格的书记叫啥", "莲花村53号网格的书记叫啥"),  # no such 3-gram: as typed
        # the question left a character out (the 区 of 观山湖区), so only the 3-gram after the typo is the
        # corpus's; it writes on from there far enough to be sure
        ("观山湖璧海社区党支部书记是谁", "观山湖碧海社区党支部书记是谁"),
        ("碧海社区党支部书纪是谁呀", "碧海社区党支部书记是谁呀"),  # a typo last before who-is-it words
        # a place's name ends at its place word, so the user's own words after it need not be the corpus's
        ("长沙县朗梨街道每个村要留几个人", "长沙县㮾梨街道每个村要留几个人"),
        ("观山胡社区有几个网格", "观山湖社区有几个网格"),  # … or right before the place word
        # a two-character place the corpus writes before 市, typed by its sound and followed by other words
        ("轻镇红枫湖片区出台了啥方案", "清镇红枫湖片区出台了啥方案"),
        ("清镇营商环境在贵洲省排第几", "清镇营商环境在贵州省排第几"),  # … or before 省
        # pinyin sent before it became characters, inside a word: by its syllables or its initials
        ("yun岩区下的干部考察期多久", "云岩区下的干部考察期多久"),
        ("每个村hb干部保持几名", "每个村后备干部保持几名"),
        ("GDP和app怎么算", "GDP和app怎么算"),  # capitals are acronyms; a word the corpus cannot spell stays
        ("㮾梨街道 述职评议会 哪天开", "㮾梨街道 述职评议大会 哪天开"),  # a keyword with a character left out
        ("网格党支部建了多少个", "网格党支部建了多少个"),  # … not the user's own words in a sentence
        ("㮾梨街道 dgw书记 是哪个", "㮾梨街道 党工委书记 是哪个"),  # three initials
        ("xx社区 的书记", "xx社区 的书记"),  # a placeholder
        ("ab中cd中", "ab中cd中"),  # initials no corpus word chains with
        ("哪些街道召开评议大会", "哪些街道召开评议大会"),  # a question word is typed as meant
        ("成立的“骑手红峰”党支部", "成立的“骑手红蜂”党支部"),  # a quoted name is a term: a typo last too
        ("观三湖2024年培育哪几个示范点", "观山湖2024年培育哪几个示范点"),  # fuzzy pinyin: s for sh
        ("这个“轻镇”是哪", "这个“清镇”是哪"),  # a quoted name shorter than a 3-gram, a place's stem
    ],
)
def test_typos_are_corrected_to_what_the_corpus_writes(typed, meant):
    assert SpellingIndex(CORPUS).correct(typed) == meant


def test_a_typo_ending_a_term_the_corpus_writes_whole_is_corrected_unless_it_makes_a_word():
    """The last character of a term the corpus writes (公共停车位) typed by its sound; a word of the user's own (举办国)
    stays though the corpus writes the run with another character (举办过)."""
    index = SpellingIndex(["去年新增公共停车位120个。", "2023年亚洲杯举办过多场比赛。", "新增公共服务站。"])
    assert index.correct("去年新增了多少公共停车味") == "去年新增了多少公共停车位"
    assert index.correct("2023年亚洲杯举办国？") == "2023年亚洲杯举办国？"


def test_a_short_form_is_read_as_the_full_one_the_corpus_writes():
    """规上 for 规模以上 (`data/shortforms.txt`): read so where the documents write only the full form."""
    index = SpellingIndex(["片区规模以上工业企业产值达39.92亿元。"])
    assert index.correct("规上工业产值多少") == "规模以上工业产值多少"
    assert SpellingIndex(["规上企业有20家，规模以上企业产值增长。"]).correct("规上企业") == "规上企业"
    assert SpellingIndex(["工业企业产值增长。"]).correct("规上企业") == "规上企业"  # no full form written


@pytest.mark.parametrize(
    "question",
    [
        "六盘水钟山区的网格员一个月工资多少",
        "红枫湖片区管委会的主任是谁",
        "上海的社区食堂一顿饭多少钱",
        "毕节市的社区有多少个",  # 市 is typed right: no place word is taken for a typo (毕节似的社区)
        "清真寺在哪",  # 清真 is a word of its own, not a typo of the place 清镇
    ],
)
def test_names_the_corpus_never_uses_are_left_alone(question):
    assert SpellingIndex(CORPUS).correct(question) == question


def _q(text, kind, **kw) -> Question:
    return Question(text=text, terms=kw.pop("terms", []), weights={}, kind=kind, **kw)


def test_figures_must_have_the_asked_unit():
    people = _q(
        "2021年志愿者报名人数是多少", "number", unit_class="people", focus=["报名", "人数"], years=["2021"]
    )
    assert answer_type(people, "2021年志愿者报名人数达1.2万，再创新高。") == (True, True)
    assert answer_type(people, "报名时间为10月。")[0] is False
    money = _q("技能大赛总奖金多少钱", "number", unit_class="money", focus=["奖金"])
    assert answer_type(money, "本届大赛总奖金为0.3亿美元。") == (True, True)
    assert (
        answer_type(money, "大赛共收到作品1.6万余件。")[0] is False
    )  # a bare 万 followed by another classifier
    assert answer_type(people, "志愿者报名2.2万，再创新高。")[0] is True  # a bare 万 may be people
    count = _q(
        "建了多少个网格党支部", "number", unit_class="count", classifier="个", focus=["网格", "党支部"]
    )
    assert answer_type(count, "街道建成59个网格党支部。") == (True, True)
    assert (
        answer_type(count, "街道建成网格党支部，覆盖2021年以来的新小区。")[0] is False
    )  # a year is no count


def test_a_person_must_stand_with_the_asked_role():
    q = _q("红枫湖片区管委会的主任是谁", "person", role="主任", role_owner="管委会", focus=["主任"])
    assert answer_type(q, "管委会副主任林安海说，改革动力更足了。") == (True, False)  # 副主任 ≠ 主任
    assert answer_type(q, "管委会主任张伟说，改革动力更足了。")[1] is True
    assert answer_type(q, "街道服务中心主任曹书举说，改革动力更足了。")[1] is False  # another body's 主任
    medal = _q("冬奥会双人滑金牌得主是谁", "person", role="金牌得主", role_owner="双人滑")
    assert (
        answer_type(medal, "北京冬奥会金牌得主隋文静、韩聪获评年度体育人物。")[1] is True
    )  # a title: no owner
    mayor = _q("2022年谁当选台北市市长", "person", role="市长", role_owner="台北市")
    assert answer_type(mayor, "蒋万安当选市长。")[1] is True  # no other body named before the role
    city = _q("贵阳市的市长是谁", "person", role="市长", role_owner="贵阳市")
    assert (
        answer_type(city, "清镇市委副书记、市长王鸣明参加仪式。")[1] is False
    )  # 清镇市's: offices share a body
    assert answer_type(city, "贵阳市委副书记、市长马宁宇出席仪式。")[1] is True


def test_which_unit_is_answered_by_a_sentence_naming_one():
    q = _q("哪个社区开展了夜话活动", "name")
    assert answer_type(q, "测试社区开展了夜话活动，每月收集居民意见。")[0] is True
    assert answer_type(q, "该社区开展了夜话活动。")[0] is False  # 该社区 names none
    district = _q("碧海社区是哪个区的", "name", head="区")
    assert answer_type(district, "碧海社区优化了党群阵地功能。")[0] is False  # a 社区 is no 区
    assert answer_type(district, "观山湖区碧海社区优化了党群阵地功能。")[0] is True
    village = _q("哪个村建了合作社", "name", head="村")
    assert (
        answer_type(village, "在农村建了合作社。")[0] is False
        and answer_type(village, "龙华村建了合作社。")[0]
    )


def test_an_office_is_held_by_a_person_a_title_also_by_a_team():
    director = _q("电影《山河》的导演是谁", "person", role="导演")
    assert answer_type(director, "电影由北京光线影业有限公司出品，导演未公布。")[0] is False
    champion = _q("2021年龙舟赛冠军是谁", "person", role="冠军")
    assert answer_type(champion, "北京光线影业有限公司龙舟队夺得冠军。")[0] is True


@pytest.mark.parametrize(
    "question, head",
    [
        ("那个合作社出台了个啥帮扶方案", "方案"),  # a verb-like modifier before the noun
        ("运动员小林是什么项目的", "项目"),
        ("服务站依托的是哪个小镇", "小镇"),
        ("哪部电影获得了最佳影片", "电影"),  # the noun run ends at the verb
        ("社区建立了什么样的工作机制？", "机制"),
        ("这个组织叫什么名字", ""),  # 名字 only restates the question word
        ("吉祥物叫什么", ""),
    ],
)
def test_the_noun_a_name_question_asks_for(question, head):
    assert head_of(question) == head


def test_a_name_question_wants_a_particular_one_of_its_noun():
    q = _q("运动员小林是什么项目的", "name", head="项目")
    assert answer_type(q, "小林连续刷新空中技巧项目的纪录。") == (True, True)
    assert answer_type(q, "教练组参加了该项目的国际赛事。")[1] is False  # 该项目 names none
    assert answer_type(q, "社区弘扬“挑夫”精神。")[1] is False  # a name, but of another noun
    spirit = _q("街道弘扬的是什么精神", "name", head="精神")
    assert answer_type(spirit, "社区弘扬“挑夫”精神。") == (True, True)  # a quoted name counts


@pytest.mark.parametrize(
    "question, name",
    [
        ("“五化”服务具体指什么？", "五化"),
        ("三张清单指的是啥", "三张清单"),  # a name made of a count, unquoted
        ("“二三一”工作法是什么意思", "二三一"),
        ("三张清单是哪三张", ""),  # asks for a list
        ("网格员具体做什么", ""),  # not a definition
    ],
)
def test_a_define_question_names_the_scheme_to_spell_out(question, name):
    assert defined_name(question) == name
    assert (kind_of(question) == "define") is False  # decided in analyse, where the name is known


def test_a_scheme_is_spelled_out_only_where_its_parts_are_introduced():
    assert spells_out("三个一", "按照“三个一”的模式推进,即:每季一讲、半年一观、年度一会。") == (True, True)
    assert spells_out("三个一", "制定“三个一”(每季一讲、半年一观、年度一会)工作措施。") == (True, True)
    # named, with an enumeration of something else after it
    assert spells_out("三张清单", "通过完善“三张清单”,以及组织联建、信息联通、资源共享等方式推进。") == (
        True,
        False,
    )
    assert spells_out("三张清单", "街道以“三张清单”为抓手，推进基层治理。") == (False, False)
    # its parts right before it, as many as it counts
    assert spells_out("三单", "推行“群众点单、社区派单、党员接单”的“三单”服务模式。") == (True, True)
    assert spells_out("三单", "推行“群众点单、社区派单”的“三单”服务模式。") == (False, False)
    assert kind_of("紫云县推的“三单”服务模式，是哪“三单”") == "list"


def test_a_figure_of_another_measure_in_the_asked_clause_is_marked():
    q = _q("街道2021年一般预算收入是多少亿元", "number", unit_class="money", focus=["预算", "收入"])
    other = "经济总量不断扩大,一般预算收入同比增长40%,完成投资1亿元。"
    assert answer_type(q, other) == (True, False)  # 1亿元 is money, but not in the clause about 收入
    x = dict(zip(FEATURES, _features(q, other)))
    assert x["type_other"] == 1.0
    right = "全年一般预算收入达3.2亿元。"
    assert dict(zip(FEATURES, _features(q, right)))["type_other"] == 0.0


def _features(q, sentence):
    hit = Hit(chunk=None, doc=None, text=sentence, score=1.0, cosine=0.9)  # the signals read only these
    return features(q, hit, 0, sentence, sentence, (1.0, 0.0, 0.0))


def test_a_day_is_asked_by_riqi_a_year_does_not_answer_it():
    q = _q("那部电影国内上映日期", "date", wants_day=True)
    assert answer_type(q, "影片于2022年上映。")[0] is False
    assert answer_type(q, "影片定档12月16日在国内上映。")[0] is True
    assert answer_type(q, "影片于2022-12-16上映。")[0] is True
    assert answer_type(_q("那部电影哪年上映", "date"), "影片于2022年上映。")[0] is True
    assert analyse_kind_day("开幕日期是什么时候") and not analyse_kind_day("什么时候开幕")


def analyse_kind_day(question):
    from assistant.answer.question import _DAY_Q

    return kind_of(question) == "date" and bool(_DAY_Q.search(question))


def test_year_conflict():
    q = _q("2021年龙舟赛冠军是谁", "person", years=["2021"])
    assert year_conflict(q, "2022年龙舟赛在河滨公园举行。")
    assert not year_conflict(q, "2021年6月，东岸队夺得龙舟赛冠军。")
    assert not year_conflict(q, "东岸队夺得龙舟赛冠军。")
    day = _q("2023年1月3日恒指收盘点数", "number", years=["2023"], days=[("1", "3")])
    assert year_conflict(day, "2023年1月19日恒指收盘上涨。")  # the asked year, another day
    assert not year_conflict(day, "1月3日恒指收盘报20145点。")


def test_a_figure_is_the_year_written_before_it():
    q = _q("2023年龙舟赛奖金总额是多少", "number", unit_class="money", years=["2023"])
    # the figure is last year's, the sentence only compares this year's with it
    assert year_conflict(q, "2023年龙舟赛奖金超过了2022年龙舟赛奖金总额60万元的纪录。")
    assert not year_conflict(q, "2023年龙舟赛奖金总额80万元，超过2022年的60万元。")
    # a change stated against a year is this year's change
    assert not year_conflict(q, "2023年龙舟赛奖金总额比2022年增加20万元，达到80万元。")
    assert not year_conflict(q, "龙舟赛奖金总额80万元。")


def test_the_other_side_of_a_pair_answers_nothing():
    q = _q("2023年网球公开赛女单冠军是谁", "person", years=["2023"])
    assert year_conflict(q, "2023年网球公开赛男单冠军由东岸队的张三获得。")
    assert not year_conflict(q, "2023年网球公开赛男、女单打冠军分别是张三和李四。")  # 女 tells the asked side
    assert not year_conflict(q, "2023年网球公开赛女单冠军是李四，男单冠军是张三。")
    farm = _q("2022年农村居民人均可支配收入是多少", "number", unit_class="money", years=["2022"])
    assert year_conflict(farm, "2022年城镇居民人均可支配收入49283元。")


def test_another_edition_is_another_event():
    q = _q("第95届电影节最佳影片是哪部", "name")
    assert year_conflict(q, "第94届电影节最佳影片由《长河》获得。")
    assert not year_conflict(q, "第九十五届电影节最佳影片由《长河》获得。")  # the same edition in words
    assert not year_conflict(q, "本届电影节最佳影片由《长河》获得。")
    assert not year_conflict(_q("电影节最佳影片", "name"), "第94届电影节最佳影片由《长河》获得。")


def test_a_change_does_not_answer_how_much():
    q = _q("2021年全市粮食播种面积是多少", "number", unit_class="count", years=["2021"])
    assert year_conflict(q, "2021年全市粮食播种面积增加1295万亩，增长0.7%。")
    assert not year_conflict(q, "2021年全市粮食播种面积17.6亿亩，比上年增加1295万亩。")
    assert not year_conflict(q, "2021年全市粮食播种面积增长到17.6亿亩。")  # reached: a level
    asks = _q("2021年全市粮食播种面积增加了多少", "number", unit_class="count", years=["2021"])
    assert not year_conflict(asks, "2021年全市粮食播种面积增加1295万亩。")


def test_a_score_is_two_figures_set_against_each_other():
    q = _q("龙舟赛决赛比分", "number", unit_class="score")
    assert answer_type(q, "东岸队在决赛中以3-1战胜西岸队。")[0]
    assert answer_type(q, "决赛比分为3比1。")[0]
    assert not answer_type(q, "2022-06-03，龙舟赛决赛在河滨公园举行，观众3000人。")[0]


def test_a_role_named_by_its_deed_is_not_missing():
    from assistant.lexical import normalise

    q = _q("电影《长河》的导演", "person", terms=["长河", "电影", "导演"])
    q.weights.update({"导演": 3.0, "长河": 2.0, "电影": 1.0})
    assert rare_missing(q, normalise("该片由张三执导。")) < rare_missing(q, normalise("该片由张三主持。"))


def test_a_document_that_never_names_the_asked_year_tells_of_another_time():
    from assistant.answer.extractive import year_absent
    from assistant.retrieval import StoredDocument

    def doc(text, title="龙舟赛报道", date=""):
        return StoredDocument("d", "d.txt", "d.txt", title, "", date, len(text), "", "txt", 1, lambda _: text)

    q = _q("2022年龙舟赛冠军是谁", "person", years=["2022"])
    assert year_absent(q, doc("2019年龙舟赛，东岸队夺得冠军。"))
    assert not year_absent(q, doc("东岸队夺得冠军。", title="2022年龙舟赛报道"))  # the title names it
    assert not year_absent(q, doc("东岸队夺得冠军。", date="2022-06-03"))  # so does its date
    assert not year_absent(_q("龙舟赛冠军是谁", "person"), doc("东岸队夺得冠军。"))  # no year asked
    day = _q("2023年1月3日恒指收盘点数", "number", years=["2023"], days=days_named("2023年1月3日"))
    assert day.days == [("1", "3")]
    assert year_absent(day, doc("2023年1月19日，恒指收盘上涨。"))  # the year, never the day
    assert not year_absent(day, doc("恒指收盘报20145点。", date="2023-01-03"))
    assert not year_absent(day, doc("2023年1月3号，恒指收盘报20145点。"))


def test_packaged_model_covers_every_feature_and_gives_probabilities():
    model = load()
    assert set(model.sentence_weights) == set(FEATURES)
    assert 0.0 < model.threshold < 1.0
    assert 0.0 <= model.sentence_score(np.ones(len(FEATURES))) <= 1.0
    assert model.fitted["sets"]  # it says what it was fitted on and what it measured


def test_a_broken_model_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps({"sentence_weights": {}}), "utf-8")
    with pytest.raises(AssistantError, match="回答模型"):
        load(str(bad))
    with pytest.raises(AssistantError, match="回答模型"):
        AnswerModel.from_dict({"sentence_weights": 3})


def test_both_gold_formats():
    dev = parse_item(
        {
            "id": "d1",
            "type": "number",
            "question": "几个？",
            "evidence": ["共59个"],
            "must_include": ["59个"],
        },
        1,
    )
    assert dev.answerable and dev.holds_answer("街道建成59个网格党支部") and not dev.holds_answer("建成网格")
    news = parse_item(
        {"id": "n1", "question": "几次夺冠", "answers": [["3次", "三次"], "阿根廷"], "answerable": True}, 2
    )
    assert news.holds_answer("阿根廷第三次夺冠，三次登顶") and not news.holds_answer("阿根廷夺冠")
    refused = parse_item({"id": "n2", "question": "谁", "answers": ["某人"], "answerable": False}, 3)
    assert not refused.answerable and refused.type == "unanswerable"


def test_every_answer_carries_a_confidence_that_decides_grounded(assistant):
    threshold = load().threshold
    for question in ("碧海社区推行了什么服务模式？", "上海的社区食堂一顿饭多少钱"):
        answer = assistant.ask(question)
        assert 0.0 <= answer.confidence <= 1.0
        assert answer.grounded == (answer.confidence >= threshold)
        assert answer.to_dict()["confidence"] == round(answer.confidence, 3)


def test_a_refusal_names_each_document_once():
    from assistant.answer.citations import Citation, nearest_passages_note

    def cite(n, title):
        return Citation(
            n=n,
            doc_id=title,
            title=title,
            source="",
            chunk_id="",
            text="x",
            quote="x",
            start=0,
            end=1,
            score=1.0,
        )

    note = nearest_passages_note([cite(1, "甲"), cite(2, "乙"), cite(3, "甲")])
    assert note == "以下是最相关的段落，供参考：《甲》[1][3]；《乙》[2]。"
    assert nearest_passages_note([]) == ""


def test_a_refusal_names_what_no_document_mentions(assistant):
    reply = assistant.ask("六盘水钟山区有几个安置点")
    assert not reply.grounded
    assert reply.answer.startswith("资料中未找到能够直接回答该问题的内容（资料中没有提到“六盘水”“钟山区”）。")


def test_the_users_framing_words_are_no_terms(assistant):
    """Words the documents never write that frame the question (以前, 嘛) or hold its question word (几起, 哪里找)
    say nothing of what the documents lack; the words the question is about stay terms, written or not."""
    q = analyse("明珠社区以前业主投诉物业，现在一周还有几起嘛？", assistant.snapshot)
    assert not {"以前", "几起", "嘛"} & set(q.terms)
    assert {"业主", "投诉", "物业"} <= set(q.terms)
    assert "医保" in analyse("城乡居民医保一年交多少钱", assistant.snapshot).terms


def test_a_round_figure_asks_nothing_and_framing_sentences_say_nothing_of_the_figure_asked(assistant):
    """十几万, 好几年 are round figures the user tells, not a 几 that asks; what the figure asked must be about is
    read in the sentence that asks it, not in the user's story before it."""
    from assistant.answer.question import ASKS_SOMETHING

    assert not ASKS_SOMETHING.search("我们村集体经济一年才十几万块钱，搞了好几年了，几十个人")
    assert ASKS_SOMETHING.search("建了几个") and ASKS_SOMETHING.search("几月开的会")
    q = analyse("我们村一年才十几万块钱。乌当区村集体经济上了100万的村子有多少个？", assistant.snapshot)
    assert "万块" not in q.focus and "块钱" not in q.terms


def test_a_term_whose_word_the_sentence_holds_is_half_missing():
    from assistant.answer.signals import _missing
    from assistant.lexical import normalise

    assert _missing("招聘会", normalise("开展系列线下招聘活动")) == 0.5
    assert _missing("招聘会", normalise("举办招聘会")) == 0.0
    assert _missing("医保", normalise("开展系列线下招聘活动")) == 1.0


def test_scare_quotes_are_not_unknown_names(assistant):
    q = analyse("街道没权管，安顺市是怎么给街道“撑腰”的？", assistant.snapshot)
    assert q.unknown == []
    assert analyse("青龙山街道“七彩云朵计划”是啥", assistant.snapshot).unknown == ["七彩云朵计划"]


def test_a_place_only_lac_finds_is_unknown_when_the_corpus_writes_none_of_it(assistant):
    assert analyse("遵义老旧小区改造每户能补贴多少钱啊", assistant.snapshot).unknown == [
        "遵义"
    ]  # jieba: a verb
    q = analyse("龙洞堡朝庭四季花园停车难，后来是咋搞定的", assistant.snapshot)
    assert q.unknown == []  # LAC ran 龙洞堡 into 朝庭: the corpus writes both
    assert "龙洞堡" in q.entities  # … and the name is kept as far as the corpus writes it


@pytest.mark.parametrize(
    "question, unit_class, classifier",
    [
        ("每个村要留几个后备干部", "people", "个"),  # cadres are people: 2名 answers it
        ("东方壹品小区 户数", "count", "户"),  # a count named by its classifier
        ("书记培训要上够多少个小时的课", "duration", "个"),  # 56学时 answers it
        ("培训了几个月", "duration", "个"),
    ],
)
def test_what_a_count_counts(assistant, question, unit_class, classifier):
    q = analyse(question, assistant.snapshot)
    assert (q.kind, q.unit_class, q.classifier) == ("number", unit_class, classifier)


def test_which_month_is_a_date_not_a_duration(assistant):
    assert analyse("几月开的会", assistant.snapshot).kind == "date"
    assert analyse("食堂一个礼拜哪几天开饭", assistant.snapshot).kind == "date"  # which days, not how many
    assert analyse("培训了几天", assistant.snapshot).kind == "number"


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        ("“建成____个网格党支部，打通最后一米”，这个空填多少？", "“建成多少个网格党支部，打通最后一米”"),
        ("观山湖区推广“____”服务模式，空里填啥", "观山湖区推广什么服务模式"),
        ("党员到（ ）报到", "党员到什么报到"),
        ("青龙山街道有几个村", "青龙山街道有几个村"),
    ],
)
def test_a_quiz_questions_blank_is_what_it_asks(question, asked):
    from assistant.answer.question import written

    assert written(question) == asked


def test_the_days_of_a_week_answer_which_days_of_a_week():
    week = _q("食堂一周哪几天开饭", "date")
    assert answer_type(week, "食堂每周一至周六的中午和下午供餐。")[0]
    assert not answer_type(_q("食堂哪年开的", "date"), "食堂每周一至周六的中午和下午供餐。")[0]


def test_the_users_framing_is_not_what_is_asked(assistant):
    q = analyse("明珠社区那边党支部的书记叫啥来着？我想在报告里引一句他讲的话。", assistant.snapshot)
    assert not {"报告", "引", "那边", "他"} & set(q.terms)  # a sentence asking nothing, and pronouns
    assert {"明珠", "党支部", "书记"} <= set(q.terms)
    # typed in a chat, a modal particle before a space ends the sentence (叫啥名字呀 想去取取经)
    chat = analyse("碧海社区的书记叫啥名字呀 想去取取经🙏", assistant.snapshot)
    assert "取经" not in chat.terms and chat.role == "书记"
    keywords = analyse("碧海社区 书记 是谁", assistant.snapshot)  # spaces between keywords split nothing
    assert {"碧海", "书记"} <= set(keywords.terms)
    # adverbs and conjunctions say how the user asks, never what about (到底, 大概, 另外)
    hedged = analyse("明珠社区到底大概有多少户，另外有多少人", assistant.snapshot)
    assert not {"到底", "大概", "另外"} & set(hedged.terms) and {"明珠", "户"} & set(hedged.terms)
    # nor does a directional complement (发|下来): the date is about the measures, not 下来
    issued = analyse("观山湖那个十五条措施是啥时候发下来的", assistant.snapshot)
    assert "下来" not in issued.terms and "下来" not in issued.focus
    # the unit a duration is asked in is no focus: the text may count it in 学时
    assert focus_of("社区书记培训要上多少个钟头的课") == ["社区", "书记", "培训"]
    assert "大概" not in analyse("青龙山街道服务的人口有多大规模啊，大概多少人？", assistant.snapshot).focus
    # a question of one sentence keeps all its words; two that both ask keep both
    assert "报告" in analyse("我想在报告里引用明珠社区书记的话，他叫啥？", assistant.snapshot).terms
    both = analyse("安顺有多少个社区？观山湖区又有多少个社区？", assistant.snapshot)
    assert set(analyse("观山湖区又有多少个社区？", assistant.snapshot).terms) <= set(both.terms)


def test_a_body_is_named_with_its_middle_words_left_out():
    assert name_in("红枫湖管委会", "红枫湖片区管委会出台了方案")
    assert not name_in("红枫湖管委会", "红枫湖片区的企业")  # no such body
    assert not name_in("红枫湖管委会", "红枫湖。某区管委会")  # words of two sentences


def test_an_office_answers_who_does_a_deed():
    q = _q("那个安置区是谁包联的", "person", role="包联", focus=["包联"])
    assert answer_type(q, "明确全市1个1万人以上的安置区由县(区)党政主要领导包联。") == (True, True)
    assert answer_type(q, "各地落实包联工作要求。") == (False, False)  # the deed, no one doing it


def test_a_class_hour_is_an_hour():
    q = _q("书记培训要上够多少个小时的课", "number", unit_class="duration", focus=["培训"])
    assert answer_type(q, "社区书记将接受不少于56学时的集中培训。")[0]


def test_compared_names_known_by_their_stem():
    q = _q("乌当区和观山湖区在志愿服务队伍上各是啥情况", "list", entities=["乌当", "观山湖区"])
    assert compared_names(q) == ["乌当", "观山湖区"]  # 乌当 is written 乌当区 before the joiner


def test_the_sides_of_a_comparison_are_every_name_it_sets_side_by_side():
    q = _q("安顺在小区建的服务站，跟㮾梨街道打造的服务站比，哪个多", "number", entities=["安顺", "㮾梨街道"])
    assert compared_names(q) == ["安顺", "㮾梨街道"]  # not joined by 和, but set side by side (比, 哪个多)
    q = _q("安顺有多少个社区？观山湖区又有多少个社区？", "number", entities=["安顺", "观山湖区"])
    assert compared_names(q) == ["安顺", "观山湖区"]  # two questions in one
    q = _q("㮾梨街道的党工委书记是谁", "person", entities=["㮾梨街道", "党工委"])
    assert compared_names(q) == []  # two names, nothing compared


def test_a_comparison_asked_yes_or_no_asks_for_both_figures():
    """是不是观山湖区建得更多: the figures of both sides answer it, as 哪边多 does; 是不是 is no part of a name."""
    from assistant.lexical import named_units

    assert kind_of("双龙航空港和观山湖区的服务站，是不是观山湖区建得更多？") == "number"
    assert kind_of("是不是青龙山引进的项目更多") == "number"
    assert kind_of("是不是观山湖区建的服务站") != "number"  # nothing compared
    assert named_units("服务站，是不是观山湖区建得更多") == ["观山湖区"]


def test_a_document_speaks_of_a_place_its_title_names_or_its_text_repeats():
    from types import SimpleNamespace

    def doc(title, text, region=""):
        return SimpleNamespace(title=title, region=region, text=text)

    assert speaks_of("㮾梨街道", doc("高质量党建", "街道建成59处党群服务站。", region="长沙县㮾梨街道"))
    assert speaks_of("㮾梨街道", doc("高质量党建", "㮾梨街道召开大会。㮾梨党员……街道建成59处党群服务站。"))
    assert not speaks_of(
        "㮾梨街道", doc("安顺市城市基层党建", "学习了㮾梨街道的经验。安顺建成47个党群服务站。")
    )


def test_a_comparison_retrieves_each_sides_document(assistant):
    """The hits for the whole question may all speak of one side: each side's best chunk is searched for too."""
    question = "青龙山街道的党员志愿服务，跟㮾梨街道的比，哪边做得多"
    docs = {h.doc.title for h in assistant.answer_hits(question, top_k=5)}
    assert any("青龙山" in t for t in docs) and any("高质量党建" in t for t in docs)
    assert len(assistant.search(question, top_k=5)) == 5  # the search API keeps to its top_k


def test_each_side_of_a_comparison_gets_its_figure():
    from assistant.answer.extractive import _each_named_subject

    text = "甲区建成服务站38个。乙区的服务站建设进展顺利。乙区推进41个服务站建设。"
    snap, candidate = _one_document(text)
    first, vague, figure = (
        candidate(s)
        for s in ("甲区建成服务站38个。", "乙区的服务站建设进展顺利。", "乙区推进41个服务站建设。")
    )
    figure.x[FEATURES.index("type_ok")] = 1.0
    first.x[FEATURES.index("type_ok")] = 1.0
    q = _q("甲区跟乙区比，哪边服务站多", "number", entities=["甲区", "乙区"])
    chosen = _each_named_subject(q, [first, vague, figure], [first])
    assert [c.text for c in chosen] == [
        "甲区建成服务站38个。",
        "乙区推进41个服务站建设。",
    ]  # not the vaguer one


def test_a_comparison_whose_every_side_has_its_figure_is_answered():
    """Each side with a figure in a clause about what is asked, in a sentence naming it: answered, whatever the
    confidence; a side without one, or a question comparing nothing, is left to the confidence."""
    from assistant.answer.extractive import sides_answered

    text = "甲区建成服务站38个。乙区的服务站建设进展顺利。乙区推进41个服务站建设。"
    snap, candidate = _one_document(text)
    first, vague, figure = (
        candidate(s)
        for s in ("甲区建成服务站38个。", "乙区的服务站建设进展顺利。", "乙区推进41个服务站建设。")
    )
    for c in (first, figure):
        c.x[FEATURES.index("type_near")] = 1.0
    q = _q("甲区跟乙区比，哪边服务站多", "number", entities=["甲区", "乙区"])
    assert sides_answered(q, [first, vague, figure])
    assert not sides_answered(q, [first, vague])  # 乙区's figure is missing
    assert not sides_answered(_q("甲区有几个服务站", "number", entities=["甲区"]), [first, figure])


def test_what_the_documents_cannot_hold_is_refused_however_close_it_reads():
    from assistant.answer.extractive import beyond_documents

    snap, candidate = _one_document("2020年，清镇市在全省营商环境评比中排第二名。")
    best = candidate("2020年，清镇市在全省营商环境评比中排第二名。")
    asked = _q("清镇2021年营商环境排第几", "number", years=["2021"])
    best.x[FEATURES.index("year_conflict")] = float(year_conflict(asked, best.text))
    assert beyond_documents(asked, best, snap)  # another year's ranking
    assert beyond_documents(
        _q("六盘水有几个安置点", "number", unknown=["六盘水"]), candidate(best.text), snap
    )
    assert not beyond_documents(_q("清镇营商环境排第几", "number"), candidate(best.text), snap)


def test_a_document_without_the_questions_rarest_terms_is_marked():
    from assistant.answer.signals import _document_signals

    q = Question(
        text="2022年考研报名人数是多少",
        terms=["考研", "报名", "人数"],
        weights={"考研": 5.0, "报名": 2.0, "人数": 1.0},
        kind="number",
    )
    assert _document_signals(q, "2022年全国高考报名人数1193万。")[2] == 0.5  # 考研 is what was asked
    assert _document_signals(q, "2022年考研报名人数474万。")[2] == 0.0


def test_a_sentence_is_scored_by_its_own_meaning_when_retrieval_gives_it():
    from assistant.answer.signals import Candidate, _add_sentence_similarity, meaning

    q = _q("孩子放学后没人照看怎么办", "howto")
    sentences = ["社区建立“四点半学校”，解决学生放学后无人管理的问题。", "社区开展环境整治。"]
    cands = [Candidate(None, 0, (0, 1), s, s, _features(q, s)) for s in sentences]
    at = FEATURES.index("meaning")
    assert [c.x[at] for c in cands] == [meaning(0.9)] * 2  # the chunk's similarity until the sentence's own

    _add_sentence_similarity(cands, lambda texts: np.array([0.93, 0.82]) if texts == sentences else None)
    assert cands[0].x[at] > cands[1].x[at]
    assert meaning(0.80) == 0.0 and meaning(0.95) == pytest.approx(1.0)
    assert meaning(0.3) == meaning(-1.0) == -1.0  # unrelated is unrelated, however far

    before = [c.x.copy() for c in cands]
    _add_sentence_similarity(cands, lambda texts: None)  # sentence vectors unavailable: nothing changes
    _add_sentence_similarity(cands, None)
    assert all((c.x == b).all() for c, b in zip(cands, before))


def test_sentence_vectors_are_embedded_once_and_kept(assistant, monkeypatch):
    embedder = assistant.store.embedder
    seen = []
    real = embedder.embed_passages
    monkeypatch.setattr(embedder, "embed_passages", lambda texts: seen.extend(texts) or real(texts))
    hits = assistant.search("社区食堂怎么收费")
    assert hits.similarity is not None
    sentence = "这是一句只为本测试写下的、关于社区食堂收费标准的句子。"
    first = hits.similarity([sentence, sentence])
    second = hits.similarity([sentence])
    assert seen == [sentence]  # embedded once, then read from the embedding cache
    assert first.shape == (2,) and abs(first[0] - second[0]) < 1e-6 and 0.0 < second[0] <= 1.0
    # the seed index was built with sentence vectors (ASSISTANT_INDEX_SENTENCE_VECTORS): a question reaching a
    # sentence of it embeds nothing
    from assistant.answer.signals import sentence_spans

    hit = hits[0]
    indexed = [hit.doc.text[a:b] for a, b in sentence_spans(assistant.snapshot, hit.chunk, hit.doc.text)]
    assert indexed and hits.similarity(indexed) is not None and seen == [sentence]


def test_what_only_the_dense_retriever_measures_is_imputed_while_it_is_down():
    """Keyword-only answers (Chroma or the embedding endpoint down) score the dense features at the fit's typical
    value, not at 'unrelated': otherwise every such answer would be refused."""
    from assistant.answer.signals import DENSE_FEATURES

    x = np.zeros(len(FEATURES))
    x[[FEATURES.index(f) for f in DENSE_FEATURES]] = np.nan
    weights = {f: 1.0 for f in FEATURES}
    model = AnswerModel(weights, 0.0, {}, 0.0, sentence_imputed={"cosine": 0.9, "meaning": 0.7})
    assert model.sentence_score(x) == pytest.approx(1 / (1 + np.exp(-1.6)))
    assert np.isnan(x[FEATURES.index("meaning")])  # scoring does not overwrite the record
    assert AnswerModel(weights, 0.0, {}, 0.0).sentence_score(x) == pytest.approx(0.5)  # no value fitted: 0

    packaged = load()
    assert set(packaged.sentence_imputed) == set(DENSE_FEATURES) and "cosine" in packaged.confidence_imputed


def test_a_fact_is_backed_only_by_sentences_about_the_same_thing():
    """骑手党支部叫啥名: a second sentence about some other 党支部 (another document, as good a name) is no
    support; one that names 骑手 again is. Questions of no fixed answer form keep their other accounts."""
    from types import SimpleNamespace

    from assistant.answer.extractive import select_support

    def cand(doc, text, score):
        x = np.zeros(len(FEATURES))
        x[FEATURES.index("type_ok")] = 1.0
        hit = SimpleNamespace(chunk=SimpleNamespace(doc_id=doc))
        return SimpleNamespace(
            hit=hit, span=(0, len(text)), text=text, score=score, feature=lambda n, x=x: x[FEATURES.index(n)]
        )

    ranked = [
        cand("a", "针对外卖配送和快递从业者,成立“骑手红蜂”流动党员党支部。", 0.9),
        cand("b", "土岭社区网格党支部书记黄璇介绍了“红管家”做法。", 0.85),
        cand("c", "“骑手红蜂”党支部已发展党员40名。", 0.8),
    ]
    model = AnswerModel({}, 0.0, {}, 0.0, support_ratio=0.8, max_support=3)
    weights = {"骑手": 4.5, "党支部": 1.6}
    named = Question(text="骑手党支部叫啥名", terms=["骑手", "党支部"], weights=weights, kind="name")
    assert [c.hit.chunk.doc_id for c in select_support(named, ranked, model, None)] == ["a", "c"]
    how = Question(text="骑手党支部咋建的", terms=["骑手", "党支部"], weights=weights, kind="howto")
    no_text = SimpleNamespace(sentence_spans=defaultdict(list))  # the sentences' places are not known
    assert [c.hit.chunk.doc_id for c in select_support(how, ranked, model, no_text)] == ["a", "b", "c"]


def test_a_question_asking_nothing_in_particular_is_told_the_paragraph():
    """渔安街道 社区车间 (keywords, no question word): the best sentence's paragraph goes with it, up to the support
    ratio, though its next sentence repeats none of the words; a fact question gets only what adds a word."""
    from assistant.answer.extractive import select_support

    text = "渔安街道创建全省首家“社区车间”。社区党组织负责组织农户先培训再就业。(王成强 摄)\n\n另一段讲的是别的事情。"
    snap, candidate = _one_document(text)
    first = candidate("渔安街道创建全省首家“社区车间”。")
    second = candidate("社区党组织负责组织农户先培训再就业。")
    credit = candidate("(王成强 摄)")
    first.score, second.score, credit.score = 0.9, 0.8, 0.7
    first.paragraph = second.paragraph = credit.paragraph = text.split("\n\n")[0]
    model = AnswerModel({}, 0.0, {}, 0.0, support_ratio=0.6, max_support=3)
    weights = {"渔安": 5.0, "社区车间": 4.0}
    keywords = Question(text="渔安街道 社区车间", terms=["渔安", "社区车间"], weights=weights, kind="other")
    told = select_support(keywords, [first, second, credit], model, snap)
    assert [c.text for c in told] == [first.text, second.text]  # not the photo's credit
    when = Question(text="渔安街道社区车间哪年建的", terms=["渔安", "社区车间"], weights=weights, kind="date")
    assert [c.text for c in select_support(when, [first, second], model, snap)] == [first.text]


def test_a_keyword_query_whose_best_sentence_is_a_heading_is_told_the_body():
    """挑夫精神: the heading (弘扬“挑夫”精神 夯实党建基础) only names it; a body sentence holding all its words
    says what it is, and is the answer in its place."""
    from assistant.answer.extractive import select_support

    text = "弘扬“挑夫”精神 夯实党建基础\n\n街道弘扬“勇挑重担、一往无前”的“挑夫”精神，推进从严治党。"
    snap, candidate = _one_document(text)
    heading = candidate("弘扬“挑夫”精神 夯实党建基础")
    body = candidate("街道弘扬“勇挑重担、一往无前”的“挑夫”精神，推进从严治党。")
    heading.score, body.score = 0.9, 0.8
    model = AnswerModel({}, 0.0, {}, 0.0, support_ratio=0.6, max_support=3)
    q = Question(text="挑夫精神", terms=["挑夫", "精神"], weights={"挑夫": 5.0, "精神": 1.0}, kind="other")
    assert [c.text for c in select_support(q, [heading, body], model, snap)] == [body.text]


def _one_document(text: str):
    """A one-chunk snapshot of `text`, and a maker of its sentences' candidates (with their heading signal)."""
    from assistant.answer.signals import Candidate

    snap = snapshot_of([text])
    chunk = snap.chunks[0]
    hit = Hit(chunk=chunk, doc=snap.documents[chunk.doc_id], text=text, score=1.0, cosine=0.9)
    at = FEATURES.index("heading")

    def candidate(sentence: str) -> Candidate:
        span = next(sp for sp in snap.sentence_spans[chunk.doc_id] if text[sp[0] : sp[1]] == sentence)
        x = np.zeros(len(FEATURES))
        x[at] = features(_q("", "howto"), hit, 0, sentence, sentence, (0, 0, 0))[at]
        return Candidate(hit, 0, span, sentence, sentence, x)

    return snap, candidate


def test_a_howto_answered_by_one_of_parallel_measures_gets_them_all():
    """实施“强基固本”行动 among the chosen sentences of 采取了啥措施: the measures are the enumeration it is in."""
    from assistant.answer.extractive import _an_item, _expand_parallel

    text = "\n\n".join(
        [
            "乌当区开展五项行动。",
            "实施“强基固本”行动。",
            "规范党组织设置。",
            "实施“骨干培育”行动。",
            "选拔优秀党员。",
            "实施“素质提升”行动。",
            "开展党员培训。",
        ]
    )
    snap, candidate = _one_document(text)
    item = candidate("实施“骨干培育”行动。")
    assert _an_item(item, snap) and not _an_item(candidate("规范党组织设置。"), snap)
    listed = _expand_parallel(_q("乌当区采取了啥措施", "howto"), item, [item], snap)
    assert {c.text for c in listed} == {
        "实施“强基固本”行动。",
        "实施“骨干培育”行动。",
        "实施“素质提升”行动。",
    }


def test_a_paragraph_cut_by_its_chunk_is_read_whole():
    """The sentences of a paragraph a chunk's end or start cut off (its result, the measure it opens with) are
    candidates of the retrieved chunk, each cited in the chunk that holds it; at most `PARAGRAPH_REACH` each way,
    never past the paragraph, and never twice when that chunk was retrieved too."""
    from assistant.answer.signals import PARAGRAPH_REACH, candidates

    before = "前一段讲的是别的事情。"
    opening = "".join(f"第{n}条措施已经出台。" for n in "一二三四五")
    middle = "安顺市推进街道管理体制变革。各县区依法赋予街道行政执法权。"
    closing = "".join(f"第{n}项工作已经全部完成。" for n in "一二三四五")
    after = "另一段讲的是别的事情。"
    text = f"{before}\n\n{opening}{middle}{closing}\n\n{after}"
    cut_in = text.index(middle)
    cut_out = cut_in + len(middle)
    snap = snapshot_of([text], cuts=[[cut_in, cut_out, len(text)]])
    first, second, third = snap.chunks
    doc = snap.documents[first.doc_id]
    q = _q("街道管理体制变革完成了吗", "other", terms=["街道", "体制", "变革", "完成"])
    assert PARAGRAPH_REACH == 3

    def hit(chunk):
        return Hit(chunk=chunk, doc=doc, text=snap.text_of(chunk), score=1.0, cosine=0.9)

    alone = candidates(q, [hit(second)], snap)
    assert [c.text for c in alone] == [
        "安顺市推进街道管理体制变革。",
        "各县区依法赋予街道行政执法权。",
        "第三条措施已经出台。",
        "第四条措施已经出台。",
        "第五条措施已经出台。",
        "第一项工作已经全部完成。",
        "第二项工作已经全部完成。",
        "第三项工作已经全部完成。",
    ]
    assert [c.hit.chunk for c in alone] == [second] * 2 + [first] * 3 + [third] * 3
    # the paragraphs before and after are other matters
    assert all(text.index(opening) <= c.span[0] and c.span[1] <= text.index(after) for c in alone)

    every = candidates(q, [hit(second), hit(first), hit(third)], snap)
    spans = [c.span for c in every]
    assert len(spans) == len(set(spans))  # each chunk's own sentences, once


def test_a_how_to_answered_by_a_heading_gets_the_section_under_it():
    """The heading names the measure, the paragraphs under it say how: past a byline, each up to the next
    heading, whole when short, its first sentence when long; an answer whose best sentence is no heading is left
    as chosen."""
    from assistant.answer.extractive import _under_heading

    long_tail = "，".join(["并且持续开展入户走访和政策宣传"] * 10) + "。"
    text = (
        "超大型社区融合治理\n\n南明区构建三级联动治理体系, 创新治理模式\n\n□ 张三 李四\n\n区委统筹推进，由副区长坐镇指挥。\n\n"
        "街道发挥龙头作用，设置3个街道党工委。整合辖区各领域资源。\n\n"
        f"社区以党支部为核心，成立共治委员会联络站。{long_tail}\n\n法治护航 构筑协同治理新矩阵\n\n律师党员服务企业。"
    )
    snap, candidate = _one_document(text)

    heading = candidate("南明区构建三级联动治理体系, 创新治理模式")
    answer = [c.text for c in _under_heading(heading, [heading], snap)]
    assert answer == [
        "南明区构建三级联动治理体系, 创新治理模式",
        "区委统筹推进，由副区长坐镇指挥。",
        "街道发挥龙头作用，设置3个街道党工委。",
        "整合辖区各领域资源。",
        "社区以党支部为核心，成立共治委员会联络站。",
    ]
    body = candidate("区委统筹推进，由副区长坐镇指挥。")
    assert _under_heading(body, [body], snap) == [body]


def test_a_how_to_measure_carries_its_result_in_figures():
    """The next sentence of the measure's paragraph joins it when it gives the result in figures; a sentence
    without figures, or one in the next paragraph, does not."""
    from assistant.answer.extractive import _with_their_results

    text = (
        "领导干部积极投入到企业走访工作中。截至目前，完成走访任务共计6618次，为企业化解问题258个。\n\n"
        "街道成立服务专班。专班效果显著。\n\n街道设立窗口。\n\n累计办理事项1.6万件。"
    )
    snap, candidate = _one_document(text)

    measure = candidate("领导干部积极投入到企业走访工作中。")
    assert [c.text for c in _with_their_results([measure], snap)] == [
        "领导干部积极投入到企业走访工作中。",
        "截至目前，完成走访任务共计6618次，为企业化解问题258个。",
    ]
    for sentence in ("街道成立服务专班。", "街道设立窗口。"):
        alone = candidate(sentence)
        assert _with_their_results([alone], snap) == [alone]


@pytest.mark.parametrize(
    ("question", "count"),
    [
        ("安顺“三张清单”是哪三张", "三张"),
        ("安顺网格党小组那7项工作任务具体是哪7项", "7项"),
        ("乌当区引领乡村振兴的“五项行动”分别是哪五项？", "五项"),
        ("《十五条措施》主要从哪几个方面破解难点", ""),  # no count asked
        ("哪三个社区建了食堂", ""),  # asks which, of no scheme named by the count
        ("乌当那7个乡村振兴党建示范点具体是哪几个村", "7个"),  # the members of a counted set
        ("安顺那7家成立了党组织的物业企业 具体是哪些公司", "7家"),
        ("㮾梨街道这“五零”具体是哪五个零？", "五零"),  # a numbered name counts its parts
        ("“1+6+26”里的6是哪6个", ""),  # a numeral inside the name, not its count
    ],
)
def test_the_count_whose_parts_are_asked(question, count):
    from assistant.answer.question import parts_asked

    assert parts_asked(question) == count


def test_a_scheme_only_mentioned_does_not_answer_which_parts():
    from types import SimpleNamespace

    from assistant.answer.extractive import parts_missing

    def said(*sentences):
        return [SimpleNamespace(text=s) for s in sentences]

    q = _q("安顺“三张清单”是哪三张", "list")
    assert parts_missing(
        q, said("通过完善“三张清单”,以及组织联建、信息联通、资源共享等方式,让党员干部主动到社区亮明身份。")
    )
    assert not parts_missing(q, said("建立“三张清单”，即：需求清单、资源清单、项目清单。"))
    five = _q("“五项行动”分别是哪五项", "list")
    assert not parts_missing(five, said("开展“五项行动”。", "实施“强基固本”行动。", "实施“骨干培育”行动。"))
    assert not parts_missing(_q("三张清单是什么", "define"), said("通过完善“三张清单”等方式。"))


def test_the_members_of_a_counted_set_are_named_beside_its_count():
    """那7个示范点是哪几个村: a sentence only counting them (成功建设7个示范点) is no answer; one listing as many
    right before the count (or some, then 等) or right after it is."""
    from types import SimpleNamespace

    from assistant.answer.extractive import parts_missing

    def said(*sentences):
        return [SimpleNamespace(text=s) for s in sentences]

    seven = _q("乌当那7个示范点具体是哪几个村", "list")
    assert parts_missing(seven, said("乌当区成功建设7个乡村振兴党建示范点和1条党建示范带。"))
    assert parts_missing(seven, said("厘清网格长、网格员、楼栋长的职责，建设7个示范点。"))  # not listed at it
    three = _q("那三个示范院落是哪几个", "list")
    assert not parts_missing(
        three, said("将原红新“六好院落”、原新岭“法院宿舍”、原百花“天合花园”3个院落提质打造。")
    )
    assert not parts_missing(three, said("将甲院落、乙院落等3个院落提质打造。"))
    assert parts_missing(three, said("开展“提升、提速、提质”三大行动。"))  # 三大 counts nothing
    six = _q("升级的那6个示范点是哪几个居", "list")
    listed = "升级6个示范点，对红旗居、梯青塔、周五井居、红枫居、弘业居、塔山居支部阵地进行提质。"
    assert not parts_missing(six, said(listed))
    assert parts_missing(
        six, said("升级6个示范点，以及甲居、乙居、丙居、丁居、戊居、己居。")
    )  # other things added
    four = _q("四个年行动具体是哪四个年", "list")
    assert parts_missing(
        four, said("抓好“四个年”行动,持续开展“产业提升、建设提速、城市提质、治理提效”四大行动。")
    )


def test_a_list_continued_from_inside_its_first_item_starts_at_that_item():
    """The best sentence may continue the paragraph of the enumeration's first item (实施“强基固本”行动。重点围绕……):
    the parallel sentences are read from that item on, not only after the best one."""
    from assistant.answer.extractive import _expand_parallel

    text = (
        "乌当区开展“五项行动”。\n\n实施“强基固本”行动。重点围绕组织设置、队伍建设等“五项规范”加强党组织建设。\n\n"
        "实施“骨干培育”行动。建立书记备案管理制度。\n\n实施“素质提升”行动。开展专题培训。\n\n实施“强村富民”行动。发展集体经济。"
    )
    snap, candidate = _one_document(text)
    best = candidate("重点围绕组织设置、队伍建设等“五项规范”加强党组织建设。")
    q = _q("“五项行动”分别是哪五项", "list", terms=["五项", "行动"])
    assert [c.text for c in _expand_parallel(q, best, [best], snap)] == [
        "重点围绕组织设置、队伍建设等“五项规范”加强党组织建设。",
        "实施“强基固本”行动。",
        "实施“骨干培育”行动。",
        "实施“素质提升”行动。",
        "实施“强村富民”行动。",
    ]


def test_a_list_whose_best_sentence_is_one_of_its_items_is_that_enumeration():
    """骨干培育行动采取了哪些措施: the best sentence is one of the parallel 通过实施“…”计划 sentences, so they are the
    list, though no question word is in their shared wording and another enumeration nearby is as long."""
    from assistant.answer.extractive import _expand_parallel

    text = (
        "实施“骨干培育”行动。通过实施“头雁锻造”计划，建立书记备案管理制度。通过实施“蹲苗培育”计划，选拔优秀党员。"
        "通过实施“人才回引”计划，鼓励大学生到村任职。通过实施“人才培养”计划，培育新型职业农民。\n\n"
        "实施“素质提升”行动。开展培训。\n\n实施“强村富民”行动。发展经济。\n\n实施“同心共筑”行动。开展志愿服务。"
    )
    snap, candidate = _one_document(text)
    best = candidate("通过实施“蹲苗培育”计划，选拔优秀党员。")
    q = _q("乌当区骨干培育行动采取了哪些措施", "list", terms=["乌当区", "骨干", "培育", "行动", "措施"])
    assert [c.text for c in _expand_parallel(q, best, [best], snap)] == [
        "通过实施“蹲苗培育”计划，选拔优秀党员。",
        "通过实施“头雁锻造”计划，建立书记备案管理制度。",
        "通过实施“人才回引”计划，鼓励大学生到村任职。",
        "通过实施“人才培养”计划，培育新型职业农民。",
    ]


def test_names_the_segmenter_cuts_or_runs_together():
    """A place word the segmenter cuts across a known name (湖都 of 观山湖|都在建) is no unknown place; a place the
    corpus never writes whole but writes as two names (观山湖碧海社区) is those two; a phrase is not split."""
    from assistant.answer.question import entities_of, unknown_entities

    snap = snapshot_of(["观山湖区碧海社区建成户外劳动者综合服务站38个。双龙航空港建成41个服务站。"])
    assert "湖都" not in unknown_entities("双龙航空港和观山湖都在建服务站，各建了多少个？", snap)
    assert "遵义市" in unknown_entities("遵义市建了多少个服务站", snap)
    names = entities_of("观山湖碧海社区建了多少个服务站", snap)
    assert "观山湖" in names and "碧海社区" in names and "观山湖碧海社区" not in names
    assert "户外劳动者服务站" in entities_of("“户外劳动者服务站”建了几个", snap)


def test_a_verb_loses_its_direction_and_a_time_of_day_is_a_date():
    from assistant.answer.question import asked_words

    assert "投进去" not in asked_words("一共投进去多少钱") and "投" in asked_words("一共投进去多少钱")
    assert kind_of("服务站每天几点开门") == "date"
    opens = _q("服务站每天几点开门", "date", focus=["开门"])
    assert answer_type(opens, "服务站每天8:30开门，17点半关门。")[0]
    assert not answer_type(opens, "服务站为户外劳动者提供歇脚、饮水服务。")[0]


def test_a_spoken_office_is_read_as_the_documents_write_it():
    assert role_of("振兴社区管事的支书叫啥")[0] == "书记"
    assert kind_of("振兴社区管事的支书叫啥") == "person"
    assert role_of("碧海社区党支部管事的书记是谁") == ("书记", "")  # 管事的 says in charge: no body owns it


def test_the_role_is_read_in_the_clause_asking_who():
    from assistant.answer.question import _clause_asking_who

    asked = _clause_asking_who("西秀区建新社区的书记叫啥名字，我想引他讲智慧社区那段话")
    assert asked == "西秀区建新社区的书记叫啥名字"
    assert role_of(asked)[0] == "书记"  # not 话, of the user's own words after it


@pytest.mark.parametrize(
    "spoken, written_",
    [
        (
            "四点半学校一个月收好多钱",
            "四点半学校一个月收多少钱",
        ),  # 好多 asks as 多少 does (southwest Mandarin)
        ("领导一共跑了好多趟", "领导一共跑了多少次"),  # a trip is counted as 次
        ("以前一个礼拜好几起投诉", "以前一周好几起投诉"),
        ("那个服务叫啥名堂", "那个服务叫啥名字"),
        ("好多人都来了吗", "好多人都来了吗"),  # many, when another word asks
        # an aside saying what is not asked names nothing to answer from; any other aside stays
        ("青龙山街道党工委书记（不是副书记）叫啥名字", "青龙山街道党工委书记叫啥名字"),
        ("网格员(不含网格长)有多少人", "网格员有多少人"),
        ("2022年（去年）建了几个", "2022年（去年）建了几个"),
    ],
)
def test_spoken_question_words_are_read_as_written(spoken, written_):
    from assistant.answer.question import written

    assert written(spoken) == written_


def test_the_classifier_of_a_count_is_no_noun_s_first_character():
    from assistant.answer.question import _CLASSIFIER_Q

    def classifier(question):
        m = _CLASSIFIER_Q.search(question)
        return (m.group(1) or m.group(2)) if m else ""

    assert classifier("多少部门和企业帮了多少个村") == "个"  # 部门 is counted, not in 部
    assert classifier("拍了多少部电影") == "部"
    assert classifier("有几支部") == "" and classifier("几支队伍") == "支"


def test_a_happening_is_counted_in_any_classifier_of_happenings():
    """上门服务了多少次 is answered by 上门服务213件: 次, 件, 起, 场 all count happenings; 个 does not."""
    times = _q("上门服务了多少次", "number", unit_class="count", classifier="次", focus=["上门服务"])
    assert answer_type(times, "全区共提供上门服务213件。") == (True, True)
    assert answer_type(times, "全区共建成服务站213个。")[0] is False


def test_the_first_is_an_ordinal():
    rank = _q("渔安街道 社区车间 全省第几家", "number", unit_class="ordinal", focus=["全省"])
    assert answer_type(rank, "渔安街道探索创建全省首家城市“社区车间”。") == (True, True)
    assert answer_type(rank, "渔安街道首创社区车间。")[0] is False  # 首创 is no rank


def test_a_count_of_things_named_after_people_is_no_count_of_people():
    assert unit_class_of("观山湖 快递员 道德标兵 几个") == "people"  # a keyword query: the people, then 几个
    assert unit_class_of("全市一共有多少个居民小区") == "count"
    assert unit_class_of("全市一共有多少个居民") == "people"
    assert unit_class_of("送外卖的这种人有多少") == "people"


def test_a_how_asked_besides_a_figure_is_answered_by_a_passage():
    """怎么组织的？分了几组、谁带队？: the how decides the kind (a passage), not the 谁 of its second clause; a
    question asking two figures stays a figure question."""
    from assistant.answer.question import _compound_kind

    assert _compound_kind("走访小微企业是怎么组织的？分了几组、谁带队？", "person") == "howto"
    assert _compound_kind("做了哪些准备？现在有多少个社区开起来了？", "number") == "list"
    assert _compound_kind("两边各建了多少个？哪边多一点？", "number") == "number"
    assert _compound_kind("一顿饭要多少钱？老人能便宜多少？", "number") == "number"


def test_who_holds_a_role_is_answered_by_the_office_given_it():
    """会长是让谁当的: the verb of holding is framing; an office the role is given to answers 谁 (the documents
    seldom name the person), but not 会长叫啥名字, which asks the name."""
    assert role_of("广场舞协会的会长是让谁当的")[0] == "会长"
    assert role_of("会长由谁来担任")[0] == "会长"
    sentence = "街道选聘社区党支部书记任协会会长，党员任理事。"
    who = _q("广场舞协会的会长是让谁当的", "person", role="会长", focus=["协会", "会长"])
    assert answer_type(who, sentence) == (True, True)
    name = _q("广场舞协会会长叫啥名字", "person", role="会长", focus=["协会", "会长"])
    assert answer_type(name, sentence)[0] is False


def test_every_one_is_no_count():
    """每一户, 统一: 一 there says every or one and the same, not how many."""
    people = _q("东华社区有几个网格员", "number", unit_class="people", focus=["网格员"])
    assert not answer_type(people, "辖区内每一户居民都有网格员直接联系。")[0]
    assert answer_type(people, "东华社区共有网格员12名。")[0]


def test_each_corpus_weighs_the_same_in_the_fit():
    """Fourteen seed sets must not drown the one set on another corpus: weights and objective are per corpus."""
    from assistant.answer import fit as fitting

    def case(corpus):
        return fitting.Case(None, "s", None, [], [], None, corpus=corpus)

    cases = [case("seeds")] * 9 + [case("news")]
    w = fitting.corpus_weights(cases)
    assert w.mean() == pytest.approx(1.0)
    assert w[:9].sum() == pytest.approx(w[9:].sum())  # 9 seed questions weigh what the 1 news question does

    def row(corpus, name, answerable, grounded, correct):
        return {
            "corpus": corpus,
            "set": name,
            "answerable": answerable,
            "grounded": grounded,
            "correct": correct,
        }

    # two seed sets answered perfectly, one news set whose only answerable question is refused
    rows = [row("seeds", n, True, True, True) for n in ("a", "b") for _ in range(5)]
    rows += [row("news", "qa", True, False, False)]
    assert fitting._objective(rows) == pytest.approx(0.5)  # (1 + 0) / 2: the news corpus is half
    assert fitting._mean_false_refusal(rows) == pytest.approx(0.5)


def test_a_yes_no_form_names_nothing_even_where_a_document_quotes_it():
    """有没有 asks; a report quoting “做没做”“有没有” must not make it the question's rarest name."""
    from assistant.answer.question import asked_words
    from assistant.lexical import asks_yes_no

    assert all(map(asks_yes_no, ("有没有", "好不好", "是不是", "能不能", "做没做")))
    assert not any(map(asks_yes_no, ("没有", "不断", "党员", "不不")))
    assert "有没有" not in asked_words("老人有没有便宜一点")
    snap = snapshot_of(["推动社区党组织从“做没做”“有没有”向“好不好”转变。", "食堂中餐13元，晚餐12元。"])
    assert snap.phrases_in("老人吃饭有没有便宜一点") == []
    q = analyse("金元社区食堂一顿多少钱？老人有没有便宜一点？", snap)
    assert "有没有" not in q.terms and "有没有" not in q.entities


def test_an_everyday_word_the_segmenter_tags_a_place_is_no_unknown_place():
    """jieba tags 东西 and 礼拜 places; LAC, reading the question, a common noun and a span of time."""
    from assistant.answer.question import unknown_entities

    snap = snapshot_of(["明珠社区与超市联营，为下楼不便的老人送生活物资。食堂每周一至周六供餐。"])
    assert unknown_entities("明珠社区的老人下不了楼，买东西咋整的", snap) == []
    assert unknown_entities("一个支部要配齐哪些东西？", snap) == []
    assert unknown_entities("明珠社区食堂一个礼拜哪几天开饭", snap) == []
    assert "浦东新区" in "".join(unknown_entities("上海浦东新区一共有多少个党群服务中心？", snap))


def test_a_name_cut_through_a_known_one_is_no_name():
    """LAC cannot read 㮾 and cuts 梨街道党工委 out of 㮾梨街道党工委书记: no document mentions it, and it begins inside
    㮾梨街道, which they do; a name inside a known one, or beside it, stays."""
    from assistant.answer.question import entities_of

    snap = snapshot_of(["长沙县㮾梨街道召开述职评议大会，街道党工委书记张登武表示。"])
    names = entities_of("㮾梨街道党工委书记叫什么", snap)
    assert "㮾梨街道" in names and not any(n.startswith("梨") for n in names)


def test_a_common_word_or_a_word_the_corpus_writes_is_typed_as_meant():
    """去 is a word of its own and 区 makes none in its place (党员去社区, not 党员区社区, though the corpus writes
    党员区域化); a substitute that makes a word with its neighbour (街到 → 街道, 林安还 → 林安海) still corrects."""
    from assistant.lexical import word_at

    index = SpellingIndex(
        [
            "全市在职党员区域化管理，到社区报到服务群众。",
            "青龙山街道党建服务中心主任。",
            "林安海说，他们夜以继日。",
        ]
    )
    assert index.correct("有多少在职党员去社区报到") == "有多少在职党员去社区报到"
    assert index.correct("青龙山街到党建服务中心主任叫啥") == "青龙山街道党建服务中心主任叫啥"
    assert index.correct("林安还说的") == "林安海说的"
    assert word_at("社区书记示范", 3) == "书记" and word_at("党员去排查", 2) == "去"


def test_traditional_characters_are_read_as_the_corpus_writes_them():
    """A question typed in traditional characters (黨組織, 觀山湖區) is read in the simplified ones of a simplified
    corpus, and left as typed for a corpus that writes the traditional ones; a spoken year (二零二零年) is 2020年."""
    simplified_corpus = SpellingIndex(
        ["观山湖区党组织书记接受不少于56学时的集中培训。2020年启动建设49个项目。"]
    )
    assert simplified_corpus.correct("觀山湖區黨組織書記培訓多少學時") == "观山湖区党组织书记培训多少学时"
    assert simplified_corpus.correct("二零二零年启动了几个项目") == "2020年启动了几个项目"
    assert simplified_corpus.correct("二〇二〇年") == "2020年" and simplified_corpus.correct("三年") == "三年"
    traditional_corpus = SpellingIndex(["觀山湖區黨組織書記接受不少於56學時的集中培訓。"])
    assert traditional_corpus.correct("觀山湖區黨組織書記培訓多少學時") == "觀山湖區黨組織書記培訓多少學時"


def test_a_document_naming_none_of_the_asked_places_tells_of_another_place():
    """青龙山街道's output asked, and the best sentence's document names only 㮾梨街道 while another names 青龙山街道:
    its figures are another place's. A document naming either place of a comparison is about the question."""
    from assistant.answer.signals import names_elsewhere

    snap = snapshot_of(
        ["长沙县㮾梨街道2021年规模以上工业企业产值增长40%。", "清镇市青龙山街道辖13个行政村。"]
    )
    langli, qinglong = sorted(snap.documents.values(), key=lambda d: d.file)
    asked = _q("青龙山街道2021年规模以上工业企业产值是多少", "number", entities=["青龙山街道", "2021"])
    assert names_elsewhere(asked, langli, snap)
    assert not names_elsewhere(asked, qinglong, snap)
    compared = _q("青龙山街道和㮾梨街道哪个产值高", "number", entities=["青龙山街道", "㮾梨街道"])
    assert not names_elsewhere(compared, langli, snap)
    # no document names it: `unknown_entities` refuses it
    assert not names_elsewhere(_q("遵义市产值是多少", "number", entities=["遵义市"]), langli, snap)
    # of one place, its places decide, not a term the other place's report shares (规模以上工业企业)
    termed = _q("青龙山街道规模以上工业企业产值", "number", entities=["青龙山街道", "规模以上工业企业"])
    assert names_elsewhere(termed, langli, snap)
    # … but of a comparison every name counts (双龙航空港 has no place word: it is a side all the same)
    pair = snapshot_of(["双龙航空港建成41个站点。", qinglong.text])
    shuanglong = next(d for d in pair.documents.values() if "双龙" in d.text)
    sides = _q("双龙航空港和青龙山街道差多少", "number", entities=["双龙航空港", "青龙山街道"])
    assert not names_elsewhere(sides, shuanglong, pair)


_TWO_QUESTIONS_CORPUS = [
    "青石街道于2020年5月31日挂牌成立。青石街道辖13个行政村、21个城市居委会。",
    "龙泉县2021年引进项目7个，到位资金20亿元。白沙社区建成服务站59处。",
]


@pytest.mark.parametrize(
    "question, parts",
    [
        # two figures of two places: each asked on its own
        (
            "青石街道辖多少个行政村？龙泉县2021年引进了几个项目？",
            ["青石街道辖多少个行政村？", "龙泉县2021年引进了几个项目？"],
        ),
        # the later one names nothing: it is asked of the subject named before it
        (
            "青石街道是哪天挂牌成立的？现在管着多少个居委会？",
            ["青石街道是哪天挂牌成立的？", "青石街道现在管着多少个居委会？"],
        ),
        # framing words stay with the clause they frame
        (
            "招商这块，青石街道有几个行政村，龙泉县引进了几个项目",
            ["招商这块，青石街道有几个行政村，", "龙泉县引进了几个项目"],
        ),
        # things listed clause by clause, then asked of each
        (
            "青石街道的行政村数量，与龙泉县2021年引进的项目，分别是多少？",
            ["青石街道的行政村数量是多少？", "龙泉县2021年引进的项目是多少？"],
        ),
        (
            "青石街道的行政村，和白沙社区的服务站，规模各是多少",
            ["青石街道的行政村规模是多少", "白沙社区的服务站规模是多少"],
        ),
        # one asks a how: the passage answers both, asked together
        ("龙泉县是怎么招商的？引进了几个项目？", None),
        # sides set against each other are one comparison
        ("青石街道有几个行政村，龙泉县有几个，哪个多？", None),
        ("青石街道和龙泉县的项目各有多少个", None),
        # more questions than are answered one by one: one question, at the cost of one
        (
            "青石街道有几个村？龙泉县有几个项目？白沙社区有几处服务站？青石街道有几个居委会？龙泉县有几个村？",
            None,
        ),
        # nothing named before a clause that names nothing: the split would lose what it asks about
        ("一共有多少个？哪天成立的？", None),
        # typed in a chat, a space parts two questions; a first one naming no place is about what it asks of
        ("白沙社区服务站建了几处 花了多少钱", ["白沙社区服务站建了几处", "白沙社区花了多少钱"]),
        ("户外服务站建了几处 花了多少钱", ["户外服务站建了几处", "户外服务站花了多少钱"]),
        ("龙泉县 引进项目 几个", None),  # keywords frame the one clause that asks
    ],
)
def test_a_message_asking_two_questions_is_separated(question, parts):
    from assistant.answer.conversation import separate_questions

    snap = snapshot_of(_TWO_QUESTIONS_CORPUS)
    assert separate_questions(question, snap) == (parts or [question])


def test_answers_joined_number_their_citations_on_and_cite_a_sentence_once():
    from assistant.answer.citations import Answer, Citation, joined

    def cited(n: int, start: int) -> Citation:
        return Citation(
            n=n,
            doc_id="d",
            title="t",
            source="s",
            chunk_id="c",
            text="",
            quote="q",
            start=start,
            end=start + 5,
            score=1.0,
        )

    first = Answer("甲[1]。乙[2]。", True, citations=[cited(1, 0), cited(2, 10)], confidence=0.9)
    second = Answer("乙[1]。丙[2]。", True, citations=[cited(1, 10), cited(2, 20)], confidence=0.7)
    both = joined([first, second], "问")
    assert both.answer == "甲[1]。乙[2]。乙[2]。丙[3]。"
    assert [(c.n, c.start) for c in both.citations] == [(1, 0), (2, 10), (3, 20)]
    assert both.grounded and both.confidence == 0.7 and both.query == "问"


def test_of_two_sentences_scoring_the_same_the_one_saying_more_of_what_is_asked_goes_first():
    """开心帮帮团 asked alone: the sentence naming it outranks the one before it that the model scores a hair higher;
    for a figure, the sentence giving it in a clause about what is asked outranks one holding more words."""
    from types import SimpleNamespace

    from assistant.answer import extractive

    def cand(score: float, type_near: float, cov: float):
        c = SimpleNamespace(
            score=score, hit=SimpleNamespace(chunk=SimpleNamespace(doc_id="d")), span=(score, 0)
        )
        c.feature = {"type_near": type_near, "cov_sentence": cov}.get
        return c

    model = SimpleNamespace(sentence_score=lambda x: x)
    before, naming = cand(0.614, 0, 0.2), cand(0.612, 0, 1.0)
    for c in (before, naming):
        c.x = c.score
    assert extractive.rank(None, [before, naming], model) == [naming, before]
    wordy, figure = cand(0.905, 0, 0.6), cand(0.900, 1, 0.5)
    for c in (wordy, figure):
        c.x = c.score
    assert extractive.rank(None, [wordy, figure], model) == [wordy, figure]  # 0.005 apart: no tie
    figure.x = 0.903
    assert extractive.rank(None, [figure, wordy], model)[0] is figure


def test_a_figure_inside_a_quoted_name_answers_no_figure_question():
    """打通服务群众的“最后一公里” gives no distance and no count: 规模有多大 is answered by the sentence with 890个."""
    from assistant.answer.signals import answer_type

    snap = snapshot_of(["为打通服务群众的“最后一公里”,某市健全“双报到”机制。全市共有890个单位到社区报到。"])
    q = analyse("某市到社区报到的单位规模有多大？", snap)
    assert q.kind == "number"
    assert answer_type(q, "为打通服务群众的“最后一公里”,某市健全“双报到”机制。") == (False, False)
    assert answer_type(q, "全市共有890个单位到社区报到。")[0]


def test_a_place_named_by_a_stem_with_a_rare_character_is_read_as_the_corpus_writes_it():
    """㮾 is outside the basic CJK block: LAC reads no place in 㮾梨 招商引资, which names 㮾梨街道 all the same."""
    from assistant.answer.question import entities_of

    snap = snapshot_of(["长沙县㮾梨街道召开大会。㮾梨街道建成59处服务站。"])
    assert "㮾梨街道" in entities_of("㮾梨 服务站建了几处", snap)
    assert entities_of("长沙县㮾梨街道建了几处服务站", snap) == ["长沙县", "㮾梨街道"]
    assert not any("梨" in e for e in entities_of("梨园 服务站建了几处", snap))  # no rare character, no guess


def test_a_count_asked_with_ge_is_answered_in_the_things_own_classifier():
    """个 is said of anything: 多少个党群服务站 is answered by 59处, 几个企业 by 21家; a count of times is no such count."""
    from assistant.answer.signals import answer_type

    snap = snapshot_of(["某街道打造完成59处党群服务站。走访企业21家，开展活动3次。"])
    q = analyse("某街道建了多少个党群服务站", snap)
    assert q.classifier == "个"
    assert answer_type(q, "某街道打造完成59处党群服务站。")[0]
    assert answer_type(q, "走访企业21家。")[0]
    assert not answer_type(q, "开展活动3次。")[0]


def test_asked_who_said_it_the_speaker_of_the_quotation_answers():
    """“……贡献力量。”谈及……,街道党工委书记王五表示。: asked 哪个书记讲的, the quotation is followed by the sentence
    naming who spoke it; asked 谁介绍的, a person the question does not name, saying it, is the answer in its clause."""
    from assistant.answer.extractive import select_support
    from assistant.answer.signals import answer_type

    text = (
        "“要以高质量党建推进高质量发展，贡献全街道力量。”谈及新年谋划，街道党工委书记王五表示。\n\n另一段。"
    )
    snap, candidate = _one_document(text)
    quote = candidate("“要以高质量党建推进高质量发展，贡献全街道力量。”")
    said = candidate("谈及新年谋划，街道党工委书记王五表示。")
    quote.score, said.score = 0.9, 0.1
    model = AnswerModel({}, 0.0, {}, 0.0, support_ratio=0.8, max_support=3)
    q = Question(
        text="这话是哪个书记讲的", terms=["高质量"], weights={"高质量": 3.0}, kind="person", role="书记"
    )
    assert kind_of("“要以高质量党建推进高质量发展”，这话是哪个书记讲的？") == "person"  # 哪个 + a role
    assert [c.text for c in select_support(q, [quote, said], model, snap)] == [quote.text, said.text]
    fact = Question(text="贡献什么", terms=["高质量"], weights={"高质量": 3.0}, kind="name")
    assert [c.text for c in select_support(fact, [quote, said], model, snap)] == [quote.text]
    how = Question(text="他叫什么，原话怎么说的", terms=["高质量"], weights={"高质量": 3.0}, kind="howto")
    assert [c.text for c in select_support(how, [quote, said], model, snap)][:2] == [quote.text, said.text]

    snap = snapshot_of(["碧海社区党支部书记徐媛介绍，社区探索总结出“碧·有服务”模式。"])
    who = analyse("“碧·有服务”这个模式是谁介绍的？", snap)
    assert who.kind == "person"
    assert answer_type(who, "碧海社区党支部书记徐媛介绍，社区探索总结出“碧·有服务”模式。") == (True, True)


def test_asked_who_said_a_quoted_saying_the_quotation_holding_it_and_its_speaker_answer():
    """“磨破嘴皮、踏破脚皮”这句话是谁说的: the quotation holding its words (the question's marks may differ: 执法敢执法
    of 执法、敢执法) and the sentence after it naming who spoke answer, however the two rank; no speaker after it,
    or the words nowhere, no answer."""
    from assistant.answer.extractive import quotation_attributed

    text = (
        "“我们磨破嘴皮、踏破脚皮也没有关系，街道能执法、敢执法。”这是某某管委会王五的肺腑之言。\n\n"
        "“要贡献全街道力量。”\n\n另一段。"
    )
    snap, candidate = _one_document(text)
    quote = candidate("“我们磨破嘴皮、踏破脚皮也没有关系，街道能执法、敢执法。”")
    said = candidate("这是某某管委会王五的肺腑之言。")
    alone = candidate("“要贡献全街道力量。”")
    for asked in ("“磨破嘴皮、踏破脚皮”这句话是谁说的？", "“街道能执法敢执法”这话是哪位讲的"):
        q = Question(text=asked, terms=["执法"], weights={"执法": 3.0}, kind="person")
        assert [c.text for c in quotation_attributed(q, [said, alone, quote], snap)] == [
            quote.text,
            said.text,
        ]
    unattributed = Question(text="“贡献全街道力量”是谁说的", terms=[], weights={}, kind="person")
    assert quotation_attributed(unattributed, [alone], snap) == []
    meaning = Question(text="“磨破嘴皮”是什么意思", terms=[], weights={}, kind="define")
    assert quotation_attributed(meaning, [quote], snap) == []


def test_asked_a_phone_number_only_a_sentence_holding_one_answers():
    """金元社区食堂的订餐电话多少: the prices the documents give are no number to call; 电话会议 and a hotline's
    caseload ask no number; a sentence giving one (0851-1234567, 12345) answers."""
    from assistant.answer.extractive import contact_missing

    snap, candidate = _one_document(
        "食堂中餐13元，晚餐12元。订餐电话：0851-1234567。市民可拨打12345反映问题。"
    )
    prices, number, hotline = (
        candidate("食堂中餐13元，晚餐12元。"),
        candidate("订餐电话：0851-1234567。"),
        candidate("市民可拨打12345反映问题。"),
    )

    def asked(text):
        return Question(text=text, terms=[], weights={}, kind="number")

    assert contact_missing(asked("金元社区食堂的订餐电话多少"), [prices])
    assert contact_missing(asked("曹书举主任 电话好多"), [prices])
    assert not contact_missing(asked("金元社区食堂的订餐电话多少"), [number])
    assert not contact_missing(asked("有没有投诉热线的联系方式"), [hotline])
    assert not contact_missing(asked("开了几次电话会议"), [prices])
    assert not contact_missing(asked("热线电话受理了多少件"), [prices])


def test_asked_who_a_sentence_saying_only_liang_ren_is_given_the_sentences_naming_them():
    """两人夺得了冠军 answers who only with the sentences before it in its paragraph that name them: back to the one
    naming the person 她 stands for."""
    from assistant.answer.extractive import select_support

    text = (
        "1978年出生的申雪，是哈尔滨人。她和赵宏博是首枚冬奥会双人滑奖牌的获得者。"
        "2002年冬奥会上，两人获得了铜牌。8年后，在2010年冬奥会上，两人夺得了双人滑冠军。\n\n另一段。"
    )
    snap, candidate = _one_document(text)
    won = candidate("8年后，在2010年冬奥会上，两人夺得了双人滑冠军。")
    won.score = 0.9
    model = AnswerModel({}, 0.0, {}, 0.0, support_ratio=0.8, max_support=3)
    q = Question(
        text="2010年冬奥会双人滑冠军是谁",
        terms=["双人滑"],
        weights={"双人滑": 3.0},
        kind="person",
        role="冠军",
    )
    assert [c.text for c in select_support(q, [won], model, snap)] == [
        "1978年出生的申雪，是哈尔滨人。",
        "她和赵宏博是首枚冬奥会双人滑奖牌的获得者。",
        won.text,
    ]
    what = Question(text="2010年冬奥会双人滑成绩", terms=["双人滑"], weights={"双人滑": 3.0}, kind="name")
    assert [c.text for c in select_support(what, [won], model, snap)] == [won.text]
