"""What kind of teaching material a sentence is (典型案例 / 数据成效 / 工作举措), and whether it reports what was
done or plans what will be (its figures are then targets). Rules only; the course pack applies them."""

from __future__ import annotations

import re

from .lexical import QUOTATION, named_units, pos_tags

DATE = re.compile(
    r"\d{4}\s*年(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?|\d{1,2}\s*月\s*\d{1,2}\s*日|\d{1,2}\s*月"
)
FIGURE = re.compile(  # an amount: not an ordinal (第3条), a code (U14组), the tail of a longer number, a span (3个月)
    r"(?<![第\d.A-Za-z])\d+(?:\.\d+)?\s*(?:%|％|‰)"
    r"|(?<![第\d.A-Za-z])\d+(?:\.\d+)?\s*(?:余|多)?\s*(?:万|亿)?\s*(?:人次|户次|个(?!多?月|半?小时|工作日)|名|人|家|件|次|户|项|处|支|场|起|元|亩|座|所|条|批|期|间|套|"
    r"台|辆|公里|平方米|平方公里|万元|亿元|栋|村|镇|社区|小区|街道|单位|企业|党支部|党组织|支部|位|组|队|期)"
    r"|[一二三四五六七八九十百千万两]+\s*(?:余|多)\s*(?:个(?!多?月|半?小时|工作日)|名|人|家|件|次|户|项|处|支|场|起|元)"
)
RESULT = re.compile(
    r"成功率|同比|增长|提升了|提高了|下降|减少|锐减|累计|挽回|覆盖率|满意度|达到|实现了?全覆盖|"
    r"获得|荣获|评为|排名|位居|取得|完成|化解|解决"
)


# what a sentence says will be done (下一步、拟、将持续……) and what it says was done (已、累计、建成……)
_PLAN_WORDS = frozenset({"下一步", "接下来", "今后", "拟", "力争", "预计", "计划", "将"})
# a heading or an opening announcing a plan, not a programme's name (“人才回引”计划 is done, not planned)
PLAN_HEADING = re.compile(r"(?:\d{4}\s*年|年度|下一步|今后)[^“”。]{0,12}?(?:计划|规划|要点|打算)(?!”)")
PLAN_OPENING = re.compile(r"(?:计划|规划|方案|要点)(?:提出|明确|要求)|^(?:下一步|接下来|今后)")
_PLAN_NEXT = frozenset({"d", "vd", "ad", "p", "v", "z"})  # 将持续/将于/将加强, not 将问题分配给 (把)
_DONE = re.compile(r"了|已|累计|截至|目前|现有|先后|以来|完成|建成|实现")
# 将 as 把: 将……列为/纳入/转化为…… moves an object, it plans nothing
_BA = re.compile(r"将.{1,24}?(?:[列作视改转变]为|纳入|融入|设置?在|放在|分配给|交给|交由|打造成|建成为|变成)")


def plans(clause: str) -> bool:
    """The clause says what will be done. 将 and 计划 do so only before a verb or an adverb (将持续、将于), and
    a one-character "verb" after 将 is mostly the head of a name jieba split (将花果园片区……)."""
    if not any(w in clause for w in _PLAN_WORDS):
        return False  # most clauses: no tagging (classify runs on every seeded unit)
    tags = pos_tags(clause)
    ba = bool(_BA.search(clause))
    for (word, _), (following, after) in zip(tags, tags[1:] + [("", "")]):
        if word not in _PLAN_WORDS or following == "的" or (word == "将" and ba):  # 今后的服务导向: no plan
            continue
        if word not in ("将", "计划") or (after in _PLAN_NEXT and (after != "v" or len(following) > 1)):
            return True
    return False


def planned(sentence: str) -> bool:
    """The sentence says what someone will do, not what they did: a plan is a measure, neither a case nor a
    result (its figures are targets). Its first clause that says either decides: 已建成12个，下一步将…… reports
    what was done; 针对……，将推进……，培育2个示范点 plans throughout."""
    for clause in re.split(r"[，,；;。！!？?：:]", QUOTATION.sub("", sentence)):  # “指尖计划” is a name
        if plans(clause):
            return True
        if _DONE.search(clause) or re.search(r"\d", DATE.sub("", clause)):
            return False
    return False


def classify(sentence: str) -> str:
    """数据成效 when it reports figures or results, 典型案例 when a named place or unit acts, else 工作举措
    (also what is planned: 将、拟、下一步……)."""
    if planned(sentence):
        return "工作举措"
    plain = QUOTATION.sub("", DATE.sub("", sentence))  # dates and programme names (“1+1+N”) are not figures
    figures = FIGURE.findall(plain)
    if len(figures) >= 2 or (figures and RESULT.search(plain)) or re.search(r"\d+(?:\.\d+)?\s*[%％]", plain):
        return "数据成效"
    if named_units(sentence):
        return "典型案例"
    return "工作举措"


def is_result(sentence: str) -> bool:
    """A sentence reporting what came of it: figures or a result verb (化解, 提升了, 实现全覆盖)."""
    return classify(sentence) == "数据成效" or bool(RESULT.search(sentence))
