"""What a question asks: its terms and their weights, the kind of answer, and the names it is about.

Every rule here is about how Chinese questions are asked (多少钱 wants money, 叫啥 a name, a keyword query ending
in 保有量 a figure), never about a particular document. What the answer must look like is checked in `signals`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from .. import ner
from ..lexical import asks_yes_no, named_units, normalise, pos_tags, quoted_phrases, words
from ..retrieval import Snapshot, StoredDocument

# --- the kind of answer asked for
_DURATION_Q = re.compile(
    # not 几月 (a date), nor 哪几天 (which days: 一周哪几天开饭)
    r"多久|多长时间|(?:多少个?|(?<!哪)几个?)(?:年|天|小时|钟头|分钟|学时|课时)(?!前|后|以来)|(?:多少|几)个月"
    r"|(?:片长|时长)\s*[?？]?\s*$"  # a keyword query asking a running time (某电影片长)
)
_DATE_Q = re.compile(
    r"哪一?年|哪[一几]?天|何时|什么时(?:候|间)|啥时候?|几月|几号|哪个月|哪月|日期|几点|(?:时间|时候)\s*[?？]?\s*$"
)
# the rank asked (排第几, 排名如何, 名次); not a rank that only narrows what is asked (排名全县第一的有哪几项)
_ORDINAL_Q = re.compile(r"第几|排第|排名(?!\s*[\u4e00-\u9fff]{0,6}第[一二三四五六七八九十\d])|名次|排在")
_NUMBER_Q = re.compile(
    r"多少|(?<!哪)几\s*[个名家项人次年户件元万亿倍%起支所座处条场批类届位种套轮亩天月周岁成期块]|几成|比例|占比|"
    r"多大|多高|多长|多远|多重|多快|多少钱|价格|售价|增幅|增速|"
    r"有?好(?:多|大|远|高|长)\s*[啊呀嘛哦呢]*\s*[?？]?\s*$"  # 人流量有好大啊: 好 asks as 多 does, at the end
)
# a keyword query ending in a measured quantity ("去年全省粮食产量") asks for a figure
_MEASURE_END = re.compile(
    r"(?:量|率|额|数|价|金|收入|营收|利润|总值|GDP|人口|规模|票房|成绩|分数|得分|比分|点数|年龄|面积|市值|"
    r"估值)\s*[?？]?\s*$",
    re.I,
)
_DAY_Q = re.compile(r"日期|哪一?天|几号|几月几")
_PERSON_Q = re.compile(r"是谁|谁|哪位|哪个人|何人")
_ROLE = (
    # 长 ends an office (市长, 团长), not a length or a growth (片长, 时长, 全长, 增长, 特长)
    r"(?:(?<![片时全身体增延成特专擅生漫加助见悠细狭修])长|主任|书记|支书|总理|主席|总统|首相|冠军|得主|主演|导演|编剧|教练|经理|总裁|董事长|创始人|负责人|会长|"
    r"代言人|主持人|作者|歌手|演员|主角|配角|队长|指令长|获得者)"
)
_ROLE_END = re.compile(_ROLE + r"\s*[?？]?\s*$")
# a role asked with a colloquial 是哪个 (书记是哪个哦) asks who; 社区是哪个呀 asks which one
_ROLE_WHICH = re.compile(r"(?:" + _ROLE + r"|领导|干部)\s*是哪个\s*[啊呀哦呢嘛吖]*\s*[?？]?\s*$")
# which holder of a role (哪个书记讲的): a person, as 哪位 asks
_WHICH_ROLE = re.compile(r"哪个\s*" + _ROLE)
# the name of a role-holder is a person's name (会长叫啥名字), not the name of a thing
_ROLE_NAME_Q = re.compile(_ROLE + r"\s*(?:叫啥|叫什么|名字|姓什么|姓啥)")
# which side of a comparison has more (A跟B比，哪个多 / 哪边住的人多 / 谁的增速快): a figure from each side
_MORE_Q = re.compile(
    # 长 compares only after a degree word or a span (更长, 时间长), never as a role's end (谁当选市长, 哪个当组长)
    r"(?:哪个|哪边|哪一个|哪一边|哪方|哪家|谁)[^，,。？?]{0,8}?(?:更)?(?:多|少|高|低|大|小|快|慢|(?<=[更最较得间期离])长|短)"
    r"\s*[啊呀呢吗嘛些点]*\s*[?？]?\s*$"
    # … or asked yes or no (是不是观山湖区建得更多？): the figures of both sides answer it
    r"|是不是[^，,。？?]{1,16}?更(?:多|少|高|低|大|小|快|慢|长|短)\s*[啊呀呢吗嘛些点]*\s*[?？]?\s*$"
)
# a question setting named places or units side by side (A建的……，跟B的比; A和B各……; 哪边多)
_SIDE_BY_SIDE = r"哪边|哪一边|区别|不同|差多少|相差|差距"
_COMPARING = re.compile(r"比|各|分别|" + _SIDE_BY_SIDE)


# two questions in one (安顺建了多少个……？㮾梨街道又打造了多少处……): each asks of its own side
_ASKS = re.compile(r"多少|几\s*[个名家项处所人户次年条支]|哪")


def compares(question: str) -> bool:
    return bool(_COMPARING.search(question) or _MORE_Q.search(question) or len(_ASKS.findall(question)) >= 2)


# sides set against each other (哪个多, 比一比, 相差多少): a comparison answered as a whole, never clause by clause
_AGAINST = re.compile(r"比(?!例|重|率)|" + _SIDE_BY_SIDE)


def sets_sides_against(question: str) -> bool:
    return bool(_AGAINST.search(question) or _MORE_Q.search(question))


def may_compare(question: str) -> bool:
    """Cheap test before `compared_names` (which needs the question analysed)."""
    return compares(question) or bool(_JOINED.search(question))


_PLACE_Q = re.compile(
    r"哪里|哪儿|在哪|去哪|何地|何处|哪个(?:国家|城市|省|市|县|地方|地区)|哪国|哪座城市|起点|终点|举办地|举办国|"
    r"发源地|所在地|(?:国家|城市|地点|地址)\s*[?？]?\s*$"
)
_NAME_Q = re.compile(
    r"叫啥|叫什么|什么名|啥名|名字|名称|称号|口号|主题|吉祥物|词汇|哪部|哪个|哪款|哪种|(?:什么|啥)(?:样的)?(?:组织|"
    r"机制|模式|工作法|方案|平台|项目|品牌|活动|制度|办法|称号|队伍|团队|精神|理念|行动|计划|工程|载体|阵地)"
)
_LIST_Q = re.compile(
    r"哪些|哪几|分别|各有|各是|都有|包括|有什么(?:措施|做法|功能|设施)|哪\s*[“\"]?[二三四五六七八九十两]|四强|八强"
)
_HOWTO_Q = re.compile(
    r"怎么|咋|如何|怎样|做法|措施|举措|经验|办法|路径|方法|作用|干了啥|做了啥|做了什么|干了什么|发挥"
)

# what a named scheme means (“四个一”具体指什么, 123456机制指的啥): its parts, spelled out where it is named.
# (哪五项 asks for a list, which documents often give as parallel sections after the name: a list question)
_DEFINE_Q = re.compile(r"具体指|指的是|是指|指什么|指啥|什么意思|啥意思|含义")
# a name made of a count (四个一, 三张清单, 五化): what such a scheme is called
_NUMERAL_NAME = re.compile(r"[一二三四五六七八九十两]+[个张项条种大化][\u4e00-\u9fff]{0,3}")

KINDS = ("number", "date", "person", "place", "name", "define", "list", "howto", "other")
# kinds whose answer has a form the sentence must show (a figure, a date, a name, a spelled-out scheme)
TYPED = ("number", "date", "person", "place", "name", "define")
# classes of quantity for figure questions; an answer's unit must belong to the asked class
UNIT_CLASSES = ("money", "people", "percent", "ordinal", "duration", "count")
_MONEY_Q = re.compile(
    r"钱|元|币|价|费|收入|营收|利润|GDP|金额|奖金|资金|投资|补贴|津贴|补助|工资|薪|酬|票房|总值", re.I
)
_PEOPLE_Q = re.compile(
    r"几人|几个人|人数|人口|多少名|几名|多少位|几位|人次|"
    r"(?:多少|几)(?:个|名|位)?[\u4e00-\u9fff]{0,3}(?:人|员|者|民|干部|书记|代表|骨干|职工|学生|儿童|官(?!方|网)|师(?!范|傅))"
    r"(?!民?币|小区|小组|委|会|站|点|组|队|户|之家|中心)|"  # 多少老人, 几个后备干部, 多少在职党员, 多少个退休法官; not 多少个居民小区
    r"(?:人|[员者兵]|干部|书记|代表|骨干|职工|学生|儿童|党员|群众|居民)\s*(?:有|是|共|一共|总共)*\s*(?:多少|几)个?(?:人|名|位)?[?？啊呀呢吗]*$"  # 科级干部有几个, 这种人有多少, 道德标兵 几个
)
# a classifier of things right after the question word (几个, 多少家), not of a sum (多少个亿)
_COUNTED_Q = re.compile(r"(?:多少|几)\s*[个家项件所座处条支场批类届种套轮辆台部](?!\s*(?:亿|万元|元|钱|块))")
_PERCENT_Q = re.compile(r"率|比例|占比|百分|几成|增长了?多少|增幅|增速|下降了?多少")
_CLASSIFIER_Q = re.compile(
    # … not the first character of a noun (多少部门, 多少项目, 几类型): a count of those, in whatever classifier
    r"(?:多少|几)\s*([个家项户件次所座处条支场亩天批类届种套轮起期块辆台部])(?<!部(?=门))(?<!项(?=目))(?<!类(?=型))"
    r"(?<!场(?=所|地))(?<!条(?=件|例))(?<!支(?=部))"
    # … or a count named by its classifier (东方壹品 户数, 场次数有多少)
    r"|([户件次所座处条支场批类届种套轮期辆台部])数\s*(?:是|有|为)?\s*(?:多少|几)?\s*[?？]?\s*$"
)


@dataclass
class Question:
    text: str  # as searched (typos corrected)
    terms: list[str]
    weights: dict[str, float]
    kind: str
    unit_class: str = ""  # for kind == "number"
    classifier: str = ""  # 几个 → 个: the written classifier of the asked count
    focus: list[str] = field(default_factory=list)  # content words next to the question word: what is counted
    role: str = ""  # person questions: the role asked about (党工委书记是谁 → 书记; 《四海》的导演 → 导演)
    role_owner: str = ""  # the unit written right before the role (党工委书记 → 党工委)
    years: list[str] = field(default_factory=list)  # years the question names (2022年…)
    # days the question names, as (month, day): 1月3日 → ("1", "3")
    days: list[tuple[str, str]] = field(default_factory=list)
    head: str = ""  # name questions: the noun asked for (啥包保方案 → 方案); the answer names one of them
    wants_day: bool = False  # date questions asking for a day (日期, 哪天, 几号), not a year or a month
    defined: str = ""  # define questions: the scheme whose parts are asked (“四个一”具体指什么 → 四个一)
    entities: list[str] = field(default_factory=list)  # names the answer must be about (places, units, years)
    unknown: list[str] = field(default_factory=list)  # names the corpus never mentions

    @property
    def total_weight(self) -> float:
        return sum(self.weights.values())

    @cached_property
    def norm(self) -> str:
        """The question's matching copy (`lexical.normalise`), made once."""
        return normalise(self.text)


# the first rule that matches decides (a duration before a figure, a date before a person, …)
_KIND_RULES = (
    (_DURATION_Q, "number"),
    (_DATE_Q, "date"),
    (_MORE_Q, "number"),
    (_PERSON_Q, "person"),
    (_ROLE_NAME_Q, "person"),
    (_ROLE_WHICH, "person"),
    (_WHICH_ROLE, "person"),
    (_ORDINAL_Q, "number"),
    (_NUMBER_Q, "number"),
    (_PLACE_Q, "place"),
    (_LIST_Q, "list"),
    (_HOWTO_Q, "howto"),
    (_ROLE_END, "person"),  # how a keyword query ends says more than a word inside it (主题活动 期数)
    (_MEASURE_END, "number"),
    (_NAME_Q, "name"),
)
# a match's score (比分, 几比几): two figures set against each other (4:2, 38-35, 4比2)
_SCORE_Q = re.compile(r"比分|比数|几比几")
_UNIT_RULES = (
    (_SCORE_Q, "score"),
    (_DURATION_Q, "duration"),
    (_ORDINAL_Q, "ordinal"),
    (_PERCENT_Q, "percent"),
    (_PEOPLE_Q, "people"),  # before money: 金元社区有多少老人 counts people (元 is in a name)
    (_COUNTED_Q, "count"),  # before money: 亿元以上项目有几个 counts projects
    (_MONEY_Q, "money"),
)


def _first_match(rules, text: str, default: str) -> str:
    return next((name for pattern, name in rules if pattern.search(text)), default)


def kind_of(question: str) -> str:
    return _first_match(_KIND_RULES, question.strip(), "other")


def unit_class_of(question: str) -> str:
    return _first_match(_UNIT_RULES, question, "count")


_ANCHOR = re.compile(
    r"(?:多少|几)\s*(?:亿元|万元|元|钱|万人|人次|[人名个家项户件次所座处条支场亩年天倍%起期块辆台部])?|"
    + _DATE_Q.pattern
    + "|"
    + _PERSON_Q.pattern
    + r"|叫啥|叫什么|第几|排名"
)
_SPLIT = re.compile(r"[，,。？?！!、；;\s]")
FOCUS_WORDS = 3  # content words taken beside the question word
# words that only restate the question word (开幕日期是什么时候: the date is about 开幕, not 时候)
# nor an everyday unit a duration is asked in (多少个钟头的课: the text counts 学时); a unit the text would use
# itself (几分钟) stays
_ASKED_ANYWAY = frozenset(
    {"时候", "时间", "日期", "具体", "情况", "名字", "名称", "一般", "小时", "钟头", "课时"}
)


def focus_of(question: str) -> list[str]:
    """The content words next to the question word, in its clause: what the figure or date must be about.
    What follows the question word is what is counted (多少名会员 → 会员); with nothing after it, what
    precedes (物业投诉一周还有几起 → 投诉, 一周). Single characters say too little to check."""
    m = _ANCHOR.search(question)
    if not m:
        return []
    after = _content(_SPLIT.split(question[m.end() :])[0])[:FOCUS_WORDS]
    if after:
        return after
    return _content(_SPLIT.split(question[: m.start()])[-1])[-FOCUS_WORDS:]


def _content(clause: str) -> list[str]:
    return [w for w in asked_words(clause) if len(w) >= 2 and w not in _ASKED_ANYWAY]


# a pronoun or demonstrative (我, 那边), an adverb (到底, 大概) or a conjunction (另外) says how the user asks, never
# what about, whatever the documents hold of it; nor does a directional complement (发|下来, 反映|上去, 建|起来)
_NO_TERM_TAGS = frozenset({"r", "d", "c"})
_DIRECTIONAL = frozenset(
    {"下来", "上来", "起来", "出来", "过来", "回来", "进来", "上去", "下去", "出去", "进去", "回去"}
)


# what users say for an office the documents write out (支书: 党支部书记)
_SPOKEN_ROLES = {"支书": "书记", "村支书": "书记"}
# what users say of an office instead of its title (管事的书记, 管事的是谁): it names nothing the documents write
_SPOKEN_IN_CHARGE = frozenset({"管事", "当家", "主事"})


def asked_words(text: str) -> list[str]:
    """The words of a question that can say what it is about; a verb without its direction (投进去 → 投), an
    office as the documents write it (支书 → 书记)."""
    out = []
    for w in words(text):
        w = next((w[: -len(d)] for d in _DIRECTIONAL if w.endswith(d) and len(w) > len(d)), w)
        w = _SPOKEN_ROLES.get(w, w)
        if (
            w not in _DIRECTIONAL
            and w not in _SPOKEN_IN_CHARGE
            and not asks_yes_no(w)
            and pos_tags(w)[0][1] not in _NO_TERM_TAGS
        ):
            out.append(w)
    return out


_YEAR = re.compile(r"(?:19|20)\d{2}")
_DAY = re.compile(r"(?<!\d)(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_ISO_DAY = re.compile(r"(?<!\d)(?:19|20)\d{2}[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")


def days_named(text: str) -> list[tuple[str, str]]:
    """The days a text names, as (month, day) without leading zeros: 1月3日, 1月3号, 2023-01-03."""
    found = _DAY.findall(text) + _ISO_DAY.findall(text)
    return list(dict.fromkeys((m.lstrip("0"), d.lstrip("0")) for m, d in found))


# the words a place's name ends in (观山湖区, 青龙山街道, 碧海社区): every rule on place names reads this one list
PLACE_WORDS = ("省", "市", "县", "区", "州", "镇", "乡", "村", "街道", "社区", "小区")
PLACE_WORDS_ALT = "|".join(PLACE_WORDS)
_PLACE_SUFFIX = re.compile(f"..({PLACE_WORDS_ALT}|公司|协会)$")


def entities_of(question: str, snapshot: Snapshot) -> list[str]:
    """Names the answer must be about: quoted/known phrases, named places and units, LAC entities, years."""
    found = snapshot.phrases_in(question)
    found += [normalise(u) for u in named_units(question)]
    found += _unreadable_places(question, snapshot)
    found += [
        _as_written(normalise(w), snapshot)
        for w, t in ner.entities(question, ("PER", "LOC", "ORG", "nz", "nw"))
    ]
    found += _YEAR.findall(question)
    found = list(dict.fromkeys(part for f in found if len(f) >= 2 for part in _as_two_names(f, snapshot)))
    found = [f for f in found if not any(f != g and f in g for g in found)]
    return [f for f in found if not _straddles(f, found, normalise(question), snapshot)]


# a character outside the basic CJK block (㮾 of 㮾梨街道): the NER model was never taught it and reads no name in it
_RARE_CHAR = re.compile(r"[\u3400-\u4dbf\U00020000-\U0003134f]")
# the place words a stem is tried with, the levels below a city first (㮾梨 → 㮾梨街道)
_STEM_PLACE_WORDS = ("街道", "社区", "区", "县", "市", "镇", "乡", "村")
# a stem starting on a place word's last character (县㮾梨 of 长沙县㮾梨街道) starts in the place before it
_AFTER_A_PLACE = re.compile(f"[{''.join(dict.fromkeys(w[-1] for w in PLACE_WORDS))}]")


def _unreadable_places(question: str, snapshot: Snapshot) -> list[str]:
    """Places the question names by a stem holding a rare character (㮾梨 招商引资), as the corpus writes them with
    their place word (㮾梨街道); LAC reads no place there."""
    found = []
    for rare in _RARE_CHAR.finditer(question):
        stems = (
            question[a:b]
            for n in (3, 2)
            for a in range(max(0, rare.start() - n + 1), rare.end())
            if (b := a + n) <= len(question)
        )
        for stem in stems:
            place = next((stem + w for w in _STEM_PLACE_WORDS if snapshot.mentions(normalise(stem + w))), "")
            if place and not _GENERIC_END.search(stem) and not _AFTER_A_PLACE.match(stem):
                found.append(normalise(place))
                break
    return found


def _straddles(name: str, found: list[str], question: str, snapshot: Snapshot) -> bool:
    """A name no document mentions that begins or ends inside another name of the question the documents do
    mention: LAC's cut through a name it cannot read (梨街道党工委 of 㮾梨街道党工委书记, 㮾 being unknown to it)."""
    at = question.find(name)
    if at < 0 or snapshot.mentions(name):
        return False
    for other in found:
        b = question.find(other)
        if other == name or b < 0 or not snapshot.mentions(other):
            continue
        if at < b + len(other) and b < at + len(name) and not (b <= at and at + len(name) <= b + len(other)):
            return True
    return False


def _as_two_names(name: str, snapshot: Snapshot) -> list[str]:
    """A place the corpus never writes that is two it does (观山湖碧海社区: 观山湖 … 碧海社区), as those two: each
    is named on its own, often in different sentences. Not any phrase (户外劳动者服务站 is no 服务站 of 户外劳动者)."""
    if snapshot.mentions(name) or not _GENERIC_END.search(name):
        return [name]
    for i in range(len(name) - 2, 1, -1):
        if snapshot.mentions(name[:i]) and snapshot.mentions(name[i:]):
            return [name[:i], name[i:]]
    return [name]


def _as_written(name: str, snapshot: Snapshot) -> str:
    """A name LAC ran into the words after it (观山湖社区书记村, 龙洞堡朝庭), as far as the corpus writes it (观山湖社区,
    龙洞堡); unchanged when it writes it whole or not even its first two characters (遵义 stays unknown)."""
    if snapshot.mentions(name):
        return name
    return next((name[:n] for n in range(len(name) - 1, 1, -1) if snapshot.mentions(name[:n])), name)


_GENERIC_END = re.compile(f"({PLACE_WORDS_ALT})$")


_JOINERS = re.compile(r"[\s\-‐–—_·・.]")


# a place written with the place it belongs to (安顺市平坝区, 长沙县㮾梨街道): each part is named on its own
_PLACE_PART = re.compile(r".{2,}?(?:省|市|县|区|州)(?=.{2,})")


def name_in(name: str, text_norm: str) -> bool:
    """`name` occurs in the normalised text, or its stem does (安顺街道 → 安顺, 清镇市 → 清镇), or each place
    it is written with does (安顺市平坝区: 安顺市 … 平坝区); spaces and hyphens inside a name do not count
    (GPT4 = GPT-4, iPhone SE 3 = iPhone SE3)."""
    if name in text_norm:
        return True
    name, text_norm = _JOINERS.sub("", name), _JOINERS.sub("", text_norm)
    if _whole_or_stem_in(name, text_norm):
        return True
    parts = _place_parts(name)
    if len(parts) > 1 and all(_whole_or_stem_in(p, text_norm) for p in parts):
        return True
    # 红枫湖管委会 of 红枫湖片区管委会: a user leaves out the middle words of a body's name
    body = _BODY_WORD.search(name)
    if not body or body.start() < 2:
        return False
    left, word = re.escape(name[: body.start()]), re.escape(body.group(0))
    return bool(re.search(f"{left}[\u4e00-\u9fff]{{1,4}}{word}", text_norm))


# the words a body's name ends in (管委会, 党工委, 办事处), before which a user may cut its name short
_BODY_WORD = re.compile(
    r"(?:管委会|党工委|居委会|村委会|委员会|办事处|管理处|党委|党组|政府|工作站|服务中心)$"
)


def speaks_of(name: str, doc: StoredDocument) -> bool:
    """A document is about `name` when its title or region names it or its text does twice: a report on one
    street seldom repeats the street's name in the sentence that gives a figure (建成59处党群服务站)."""
    if name_in(name, normalise(f"{doc.title} {doc.region}")):
        return True
    stem = _GENERIC_END.sub("", name)
    norm = normalise(doc.text)
    return norm.count(stem if len(stem) >= 2 else name) >= 2


def without_names(text: str, names: list[str]) -> str:
    """The text with each name blanked, or the stem it is written by (㮾梨 of 㮾梨街道, 安顺 of 安顺市)."""
    for name in names:
        stem = _GENERIC_END.sub("", name)
        written = name if name in text else stem if len(stem) >= 2 and stem in text else ""
        if written:
            text = text.replace(written, " ")
    return text


def _whole_or_stem_in(name: str, text_norm: str) -> bool:
    stem = _GENERIC_END.sub("", name)
    return name in text_norm or (len(stem) >= 2 and stem != name and stem in text_norm)


def _place_parts(name: str) -> list[str]:
    parts, rest = [], name
    while m := _PLACE_PART.match(rest):
        parts.append(m.group(0))
        rest = rest[m.end() :]
    return parts + [rest] if parts else [name]


def unknown_entities(question: str, snapshot: Snapshot) -> list[str]:
    """Named places and organisations, and quoted names (“123456”机制), in the question that no document
    mentions: nothing to answer from."""
    out = [  # not “撑腰”; a quotation typed from memory may set its clauses off otherwise (执法敢执法)
        p for p in quoted_phrases(question) if len(p) >= 3 and not snapshot.mentions_words(p)
    ]
    everyday = _everyday_words(question)
    at = 0
    for word, flag in pos_tags(question):
        start = max(question.find(word, at), at)
        at = start + len(word)
        w = normalise(word)
        if len(w) < 2 or not (flag in ("ns", "nt") or _PLACE_SUFFIX.match(w)) or everyday(word):
            continue
        if _cut_from_a_name(question, start, start + len(word), snapshot):
            continue
        stem = _GENERIC_END.sub("", w)
        if not snapshot.mentions(w) and not (len(stem) >= 2 and snapshot.mentions(stem)):
            out.append(word)
    # a place the segmenter misses (遵义 read as a verb) that LAC finds: unknown when no two characters of it are
    # the corpus's, as LAC often runs a place into the words after it (龙洞堡朝庭 of 龙洞堡朝庭四季花园)
    for word, _ in ner.entities(question, ("LOC",)):
        w = normalise(word)
        if (
            len(w) >= 2
            and word not in out
            and not any(snapshot.mentions(w[i : i + 2]) for i in range(len(w) - 1))
        ):
            out.append(word)
    return out


def _everyday_words(question: str) -> Callable[[str], bool]:
    """Whether a word the segmenter tags a place is one LAC, reading the whole question, takes for a common noun
    (买东西, 配齐哪些东西) or a span of time (一个礼拜): an everyday word, no place the documents fail to name."""
    tagged = ner.tag(question)
    common = {w for w, t in tagged if t == "n"}
    times = [w for w, t in tagged if t == "TIME"]
    return lambda word: word in common or any(word in t for t in times)


def _cut_from_a_name(text: str, start: int, end: int, snapshot: Snapshot, longest: int = 6) -> bool:
    """text[start:end] is a word the segmenter cut across a name the corpus writes (湖都 of 观山湖|都在建): a
    known name of three or more characters runs over one of its edges."""
    return any(
        snapshot.mentions(normalise(text[a : a + n]))
        for edge in (start, end)
        for n in range(3, longest + 1)
        for a in range(max(0, edge - n + 1), min(edge, len(text) - n + 1))  # over the edge, inside the text
    )


# the words that ask who, with the verb of holding the role asked of (会长是让谁当的, 由谁来担任): framing, not the role
_ASKING = re.compile(
    r"(?:是|让|由|请|派)?谁(?:来|去)?(?:担任|兼任|当|任|做|干)?|哪位|何人|是哪个|叫啥|叫什么|名字|姓什么|姓啥|[啊呀哦呢嘛吖?？!！。\s]+$"
)


# words for a group of people, not an office one of them holds
_MEMBERS = frozenset({"团队", "阵容", "成员", "名单", "班子", "人员", "队伍", "组合", "嘉宾"})


def role_of(question: str) -> tuple[str, str]:
    """(role, owner) of a person question. The role is the last content word once the question words are
    removed; a one-character role keeps the word it ends (指令 + 长 → 指令长: a bare 长 says nothing). The
    owner is the word written right before it (管委会主任, 管委会的主任 → 管委会): whose role is asked."""
    content = asked_words(_ASKING.sub(" ", question))
    norm = normalise(question)
    if len(content) >= 2 and len(content[-1]) == 1 and "".join(content[-2:]) in norm:
        content = content[:-2] + ["".join(content[-2:])]
    if not content:
        return "", ""
    role = content[-1]
    if role in _MEMBERS:
        return "", ""  # 主创团队都有谁 asks for its members: no one holds the role 团队
    written_before = len(content) >= 2 and any(content[-2] + sep + role in norm for sep in ("", "的"))
    owner = content[-2] if written_before else ""
    return role, owner


_WHICH = re.compile(r"^(?:什么|啥|哪)")


def head_of(question: str, known: Callable[[str], bool] = lambda word: True) -> str:
    """The noun a name question asks for: the last noun of the first run of nouns after 什么/啥/哪个
    (啥包保方案 → 方案, 什么样的工作机制 → 机制, 哪部电影获得… → 电影); none when it only says 名字. A noun
    the documents never use after one they do is a segmentation slip of colloquial words (哪个领导来包的:
    领导|来包), not the head."""
    tagged = pos_tags(question)
    start = next((i + 1 for i, (w, flag) in enumerate(tagged) if flag == "r" and _WHICH.match(w)), None)
    if start is None:
        return ""
    head = ""
    for word, flag in tagged[start : start + 4]:
        if flag.startswith("n") and flag != "nx":
            if head and known(head) and not known(word):
                break
            head = word
        elif head or flag in ("x", "w", "eng", "m"):
            break  # the noun run ended, or a mark or figure came first
    return "" if head in _ASKED_ANYWAY else head


# which parts of a scheme named by a count (“三张清单”是哪三张, 那7项工作任务具体是哪7项): the count and its classifier
_PARTS_Q = re.compile(r"哪\s*([二三四五六七八九十两]+|\d+)\s*([个张项条种类点])")


# … or the members of a counted set the question names before asking which (那7个示范点是哪几个村, 那7家物业企业是哪几家)
_WHICH_MEMBERS = re.compile(r"哪几|哪些")
_NAMED = re.compile(r"《[^》]*》|“[^”]*”|\"[^\"]*\"")
_COUNTED_SET = re.compile(r"([二三四五六七八九十两]+|\d+)\s*[个张项条种类点家所座处位名]")


NUMERAL = re.compile(r"\d+|[一二两三四五六七八九十]+")
_DIGITS = dict(zip("一二两三四五六七八九", (1, 2, 2, 3, 4, 5, 6, 7, 8, 9)))


def count_value(numeral: str) -> int | None:
    """7 → 7, 三 → 3, 十五 → 15, 二十六 → 26; None past what a counted set of a report holds."""
    if numeral.isdigit():
        return int(numeral)
    tens, ten, ones = numeral.partition("十")
    if not ten:
        return _DIGITS.get(numeral)
    return (_DIGITS.get(tens, 0) if tens else 1) * 10 + (_DIGITS.get(ones, 0) if ones else 0)


def parts_asked(question: str) -> str:
    """The count a question asks the parts of (三张 of “三张清单”是哪三张, 7项 of 那7项工作任务是哪7项; 7个 of
    那7个示范点是哪几个村; the name 五零 of “五零”是哪五个零), when the question names the scheme or set by it before
    asking; "" otherwise (哪几个方面 names no count)."""
    m = _PARTS_Q.search(question)
    if m:
        count = m.group(1) + m.group(2)
        if count in question[: m.start()]:
            return count
        # a numbered name whose numeral counts the parts asked (“五零”是哪五个零, “三长”指哪三个长)
        named = [
            p.strip('“”"《》') for p in _NAMED.findall(question[: m.start()]) if p[1:].startswith(m.group(1))
        ]
        return named[-1] if named else ""
    which = _WHICH_MEMBERS.search(question)
    # 《十五条措施》 is a name, not a count
    named = _NAMED.sub("", question[: which.start()]) if which else ""
    counted = list(_COUNTED_SET.finditer(named))
    return counted[-1].group(0) if counted else ""


def defined_name(question: str) -> str:
    """The scheme a define question asks to spell out: a quoted name, else a name made of a count."""
    if not _DEFINE_Q.search(question):
        return ""
    quoted = [p for p in quoted_phrases(question) if len(p) >= 2]
    if quoted:
        return quoted[0]
    m = _NUMERAL_NAME.search(_DEFINE_Q.sub(" ", question))
    return normalise(m.group(0)) if m else ""


# a name may be known by its stem (乌当 for 乌当区): the question still writes the place word after it
_PLACE_WORD = "(?:省|市|县|区|州|镇|乡|村|街道|社区)?"
_JOINED = re.compile("[和与跟及、同]")


def compared_names(q: Question) -> list[str]:
    """Names the question joins with 和/与/跟/及/、/同, or, in a question setting things side by side (A建的……，
    跟B的比，哪个多), every place or unit it names: each is a side the answer must speak of."""
    names = [e for e in q.entities if not e.isdigit()]
    if compares(q.text) and len(names) >= 2:
        return names
    pairs = [
        (a, b)
        for a in names
        for b in names
        if re.search(re.escape(a) + _PLACE_WORD + _JOINED.pattern + re.escape(b), q.norm)
    ]
    return list(dict.fromkeys(n for pair in pairs for n in pair))


# a clause asks something by a question word, or (_ANY_ASK) by a particle or a question mark alone
# 几 asks, but not in a round figure (十几万块钱, 好几年, 几十个)
_ASKING_WORDS = r"多少|(?<![十好])几(?![十百千万])|哪|谁|啥|什么|怎么|怎样|咋|如何|是否|有没有"
ASKS_SOMETHING = re.compile(_ASKING_WORDS)
_ANY_ASK = re.compile(_ASKING_WORDS + r"|吗|么|呢|[?？]")


# a sentence ends at its stop, or, typed in a chat, at a modal particle before a space (叫啥名字呀 想去取取经)
_SENTENCE_END = re.compile(r"(?<=[。！!？?])|(?<=[呀啊吧呢嘛哈捏哦啦])\s+")


def _asking(question: str) -> str:
    """The question without the sentences that ask nothing when another one asks (……书记叫啥来着？我想在报告里引一句
    他讲的话。): the user's framing, whose words the documents need not hold."""
    sentences = [s for s in _SENTENCE_END.split(question) if s.strip()]
    asking = [s for s in sentences if _ANY_ASK.search(s)]
    return "".join(asking) if asking and len(asking) < len(sentences) else question


# 好多 asks as 多少 does before a classifier or 钱 (southwest Mandarin: 花了好多钱, 跑了好多趟), unless the question
# asks yes or no: then it says many (好多人都来了吗)
_SPOKEN_HOW_MANY = re.compile(
    r"好多(?=\s*(?:钱|块|[个名家项人次户件元万亿倍起支所座处条场批类届位种套轮亩天年月周岁趟回遍]))"
)
_YES_NO = re.compile(r"吗|是不是|有没有|(?<![怎什这那])么")
# units said otherwise than the documents write them: a trip (趟) or a time (回, 遍) is counted as 次, a week said
# 礼拜 is a 周, a name said 名堂 is a 名字
_SPOKEN_UNITS = (
    (re.compile(r"(多少|几)(\s*)[趟回遍]"), r"\1\2次"),
    (re.compile(r"个?礼拜(?!天|日)"), "周"),  # 一个礼拜 → 一周
    (re.compile(r"(叫啥|叫什么|什么|啥)(\s*)(?:名堂|名儿)"), r"\1\2名字"),
)


# a blank to fill in (建成____个网格党支部, 建成（ ）个): what a quiz question asks; the words asking to fill it
# (这个空填多少) only frame it
_BLANK = re.compile(r"_{2,}|＿+|（\s*）|\(\s*\)")
_QUOTED_ASK = re.compile(r"[“\"](什么|多少)[”\"]")
_FILL_IN = re.compile(
    r"[，,]?\s*(?:这个|这|那个)?\s*(?:空|括号)[里中内]?\s*(?:应该|应)?\s*填(?:写)?\s*(?:的是)?\s*(?:什么|啥|多少|几)?\s*[？?]?\s*$"
)


def _as_asked(question: str) -> str:
    """A quiz question's blank as the question word it stands for (多少 before a classifier, else 什么)."""
    if not _BLANK.search(question):
        return question
    question = _FILL_IN.sub("", question)
    question = _BLANK.sub(
        lambda m: (
            "多少" if re.match(r"\s*[个名家项人次户件元万亿%处条所座位]", question[m.end() :]) else "什么"
        ),
        question,
    )
    # 推广“____”模式: the blank was the whole name, no name of its own
    return _QUOTED_ASK.sub(r"\1", question)


# an aside saying what is not asked (党工委书记（不是副书记）叫啥名字): it names nothing to answer from
_NOT_ASKED = re.compile(r"[（(]\s*(?:不是|并非|而非|非|不要|不含|不包括)[^（()）]{0,20}[）)]")


def written(question: str) -> str:
    """The question with its spoken question words and units as the documents write them, and without an aside
    saying what it does not ask."""
    question = _NOT_ASKED.sub("", _as_asked(question))
    if not _YES_NO.search(question):
        question = _SPOKEN_HOW_MANY.sub("多少", question)
    for pattern, replacement in _SPOKEN_UNITS:
        question = pattern.sub(replacement, question)
    return question


_CLAUSE_MARKS = "？?，,；;。！!"
_CLAUSE_ENDS = re.compile(f"[{_CLAUSE_MARKS}]")
# … and asks listed apart (是怎么分组、由谁带队的)
_ASKS_APART = re.compile(f"[{_CLAUSE_MARKS}、]")


def _compound_kind(question: str, kind: str) -> str:
    """A question asking a how or a which-ones besides a figure or a name (……是怎么组织的？分了几组、谁带队？;
    是怎么分组、由谁带队的): its answer is a passage, whose sentences need not each show the figure or name: read as
    the looser kind."""
    if kind not in TYPED:
        return kind
    kinds = {kind_of(c) for c in _ASKS_APART.split(question) if _ANY_ASK.search(c)}
    if kind == "person" and _PLACE_Q.search(question):
        return "howto"  # who goes where (“双报到”是谁到哪里报到): an arrangement, told in a passage
    return next((k for k in ("howto", "list") if k in kinds), kind)


def _clause_asking_who(question: str) -> str:
    """The clause of a person question that asks who (书记叫啥名字, of ……书记叫啥名字，我想引他讲那段话): the
    role is named there, not in the user's words around it."""
    clauses = [c for c in _CLAUSE_ENDS.split(question) if c.strip()]
    asking = [c for c in clauses if _PERSON_Q.search(c) or _ROLE_NAME_Q.search(c) or _ROLE_WHICH.search(c)]
    return asking[0] if asking else question


# the tags of the words that frame a question rather than name what it is about: words of position (以前, 里头),
# modal particles and interjections (嘛, 嗯), auxiliaries (的话); not time words (中午, 晚上 ask of 中餐, 晚餐)
_FRAMING_TAGS = frozenset({"f", "y", "e", "u"})


def _framing(term: str, snapshot: Snapshot) -> bool:
    """A word of the user's own framing the documents never write (以前, 里头, 嘛), or one holding a question word
    (几起, 哪里找, 咋办): no term whose absence says the documents lack the answer."""
    if snapshot.bm25.doc_freq.get(term, 0):
        return False
    return bool(ASKS_SOMETHING.search(term)) or pos_tags(term)[0][1] in _FRAMING_TAGS


def analyse(question: str, snapshot: Snapshot) -> Question:
    question = written(question)
    asked = _asking(question)
    phrases = snapshot.phrases_in(asked)
    terms = list(dict.fromkeys(phrases + asked_words(asked)))
    terms = [t for t in terms if (not t.isdigit() or len(t) == 4) and not _framing(t, snapshot)]
    weights = {t: snapshot.bm25.idf(t) * (1.5 if t in phrases else 1.0) for t in terms}
    defined = defined_name(question)
    kind = "define" if defined else _compound_kind(question, kind_of(question))
    m = _CLASSIFIER_Q.search(question)
    role, role_owner = role_of(_clause_asking_who(asked)) if kind == "person" else ("", "")
    return Question(
        text=question,
        terms=terms,
        weights=weights,
        kind=kind,
        unit_class=unit_class_of(question) if kind == "number" else "",
        classifier=(m.group(1) or m.group(2)) if m else "",
        focus=focus_of(asked),
        role=role,
        role_owner=role_owner,
        head=head_of(question, lambda word: snapshot.bm25.doc_freq.get(word, 0) > 0)
        if kind == "name"
        else "",
        defined=defined,
        wants_day=kind == "date" and bool(_DAY_Q.search(question)),
        years=list(dict.fromkeys(_YEAR.findall(question))),
        days=days_named(question),
        entities=entities_of(question, snapshot),
        unknown=unknown_entities(question, snapshot),
    )


def coverage(q: Question, text: str) -> float:
    """idf-weighted share of the question's terms occurring in `text` (normalised substring match)."""
    total = q.total_weight
    if not total:
        return 0.0
    norm = normalise(text)
    return sum(w for t, w in q.weights.items() if t in norm) / total
