"""What counts as teaching material in a course pack: general layout and linguistic rules, no corpus phrases.

A sentence unit (a whole sentence of the stored text, never crossing a paragraph break) is material unless it is

- a heading (a short line without end punctuation) or a cut piece (no end punctuation, unbalanced quotation
  marks or brackets: a sentence cut by the layout, possibly glued to another one by the text extraction; a
  search-result snippet with words left out, “… …”);
- a flattened table or spec list (one phrase three times with no punctuation between, a row of figures set off
  by spaces);
- a photo caption (a one-sentence paragraph that is a short single clause, a photo credit “（某某 摄）” and
  the paragraph it closes, a gallery's paragraph of several credits, a sentence wholly in brackets, a short one
  saying what a picture is: ……的实拍图。);
- a byline (□ 作者, 记者 某某), a dateline (2022年02月11日15:18 | 来源:…), an editor's note (编者按, 本文配图由…提供,
  图片来源, 责任编辑) or web chrome (扫码, 分享至, a copyright line);
- a slogan or aphorism (a short sentence without figures or named units, a balanced couplet
  “群众利益无小事,一枝一叶总关情。”, a short sentence wholly in quotation marks, a guiding thought, a sentence that
  only sums up in a figure of speech or says people feel better off, a string of four-character phrases said to be
  a goal);
- a bare attribution (“……说。”) or a rhetorical question;
- garbled: mostly characters of no script a Chinese reader reads (mojibake, a passage in Arabic).

`trim_start` moves an item's start past a dateline (本报讯, a snippet's “Feb 11, 2023 ...”) or a leading
connective (同时，此外，另一方面，):
the sentence it connects to is not in the item, so the item starts at the content. `anaphoric` marks
sentences that only make sense with the one before (这是……, 此时……), which the pack attaches to that sentence.
"""

from __future__ import annotations

import re
from collections import Counter

from . import ner
from .lexical import first_word, named_units, pos_tags, simplified, word_frequency
from .punctuation import END_MARKS, ENDS_SENTENCE, LOST, QUOTE_CLOSERS

TERMINAL = ENDS_SENTENCE
_CJK = re.compile(r"[\u3400-\u9fff]")
_QUOTES = (("“", "”"), ("《", "》"), ("「", "」"), ("『", "』"))
_PAIRS = (("（", "）"), ("(", ")"), *_QUOTES)

_BYLINE = re.compile(
    r"^\s*(?:[□■◆●▲]|(?:本报|本刊|特约)?(?:记者|通讯员|作者|撰稿|供稿)\s*[:：\s]|[文图]\s*[/／:：])"
)
_DATELINE = re.compile(
    r"^\s*(?:本报讯|本刊讯|(?:新华社|中新社|中新网|人民网|央视网|新华网)[\u4e00-\u9fff]{0,8}\d{0,2}月?\d{0,2}日?电"
    r"|[\u4e00-\u9fff]{2,8}\d{1,2}月\d{1,2}日电|[\u4e00-\u9fff]{2,8}讯(?=[\s\d（(])"  # 新浪科技讯 6月2日……
    r"|(?:北京时间)?(?:\d{4}年)?\d{1,2}月\d{1,2}日(?:早间|早上|上午|中午|下午|晚间|晚上|凌晨|早|晚)?消息)\s*(?:[（(][^）)]{0,30}[）)])?\s*[,，:：]?\s*"
)
_STAMP = re.compile(
    r"\d{4}\s*[-年./]\s*\d{1,2}\s*[-月./]\s*\d{1,2}\s*日?\s*\d{1,2}:\d{2}|[|｜]\s*来源\s*[:：]"
)
# a news outlet announcing its own column (某网体育部推出系列栏目《……》，旨在……): an editors' note, no report
# (a place opening a column in its media, 在某电视台开设专栏，宣传……, is a measure)
_COLUMN = re.compile(
    r"(?:网|报|社|编辑部|新闻部|体育部)(?:特别)?(?:推出|策划)了?(?:系列|特别|专题)?(?:栏目|专栏|专题|报道)"
)
# a news report's roster of who else attended (……主任某某等参加会见。): its closing line, no report
_ROSTER = re.compile(
    r"等(?:同志|人|领导|负责同志)?(?:参加|出席|陪同|参与)了?(?:会见|会谈|活动|会议|仪式|座谈会?|调研|考察|签约|开幕式)?[。.]$"
)
_NOTE = re.compile(
    r"^\s*[（(【\[]?\s*(?:编者按|编者的话|编后|责任编辑|责编|编辑|校对|审核|来源|原标题|图片来源|本文配图|图\s*\d|注)\s*[:：】\]]"
    r"|^\s*图(?:片|像)来源\s*[:：，,]|本文配图|配图由|图片由.{0,20}提供|以飨读者|^写在前面"
)
# A search-result snippet: an English date stamp and elision marks (“Nov 10, 2022 ... ”), text left out between.
_SNIPPET_DATE = re.compile(r"^\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2},\s*\d{4}\s*(?:\.{3}|…)\s*")
_ELISION = re.compile(r"(?:^|\s)(?:\.{3}|…)(?:\s|$)|\.{3}")
_CREDIT = re.compile(
    r"(?:^|[\s(（])(?:[\u4e00-\u9fff]{2,4}\s*)?(?:摄|供图|摄影)\s*[)）]?\s*[。.]?\s*$|资料图片?\s*[)）]?[。.]?$"
    r"|(?:^|[，,\s])图源\s*[:：]"  # also run into the text: iPhone SE3，图源：苹果官网此前有消息称……
)
# a bracketed credit inside a sentence (……从某地发出(某某网发 张三 摄) “……”): a caption run into the text after it;
# or a news agency's photo dateline (新华社照片，美联，2022年8月20日 8月19日，某某在比赛中回球。): a caption after it
_INNER_CREDIT = re.compile(r"[（(][^（）()]{0,16}(?:摄|供图|摄影)\s*[)）]|(?:新华社|中新社)照片\s*[，,]")
_CHROME = re.compile(
    r"扫码|二维码|分享至|分享到|点击(?:查看|进入|关注|阅读)|返回顶部|上一篇|下一篇|阅读原文|关注我们|转载请"
)
# notices a web page adds to a report: copyright and disclaimer, where it was compiled from, who edited it, how to
# follow the site's account (关注后回复【关键词】, a named account 公众号【…】)
_NOTICE = re.compile(
    r"关注后(?:在对话框)?回复|公众号\s*【|设为星标|如有侵权|联系删除|"
    r"特别声明|免责声明|版权(?:声明|所有)|未经.{0,40}(?:授权|许可).{0,30}(?:不得|禁止)|追究.{0,12}法律责任"
    r"|©|(?i:copyright|all rights reserved)|ICP[备证]|仅提供信息存储|以上就是.{0,30}(?:内容|介绍)|希望对大家有所帮助|"
    r"导致追偿|刑事追究|违者.{0,12}追究|来电或来函|最终解释权|稿件来源|更多.{0,12}(?:敬请|可以|请)关注|为大家带来更多|"
    r"感谢(?:你|您|大家)?(?:花时间)?(?:的)?(?:阅读|观看|收看)|欢迎.{0,12}再次.{0,4}光临|本条目|"
    r"[（(]\s*[）)]|不构成.{0,6}建议|(?:让|由)小编|本文(?:编选|转载|转自|来源|来自|摘自)|(?:编辑|责编|编审)\s*[:：]\s*[\u4e00-\u9fff]{2,4}[。.]?$"
)
# a piece that is an encyclopedia's footnote mark or a note led by one ([17]。 / [38]：……): web debris, which would
# read as the pack's own [n] citations. Marks opening a sentence ([28] 2021年12月，某行发行纪念钞票。) close the one
# before it, which the splitter cut after its full stop: `trim_start` leaves them out and the sentence is material.
_FOOTNOTE_MARK = r"\[\d{1,3}\]"
_LEADING_MARKS = re.compile(rf"^\s*(?:{_FOOTNOTE_MARK}\s*)+")
_FOOTNOTE = re.compile(rf"{_LEADING_MARKS.pattern}(?:[：:。，,；;、]|$)")
_FOOTNOTE_MARKS = re.compile(rf"(?:{_FOOTNOTE_MARK})+")
# an encyclopedia's maintenance marks and the machine date it glosses a date with (截至2022年3月16日
# (2022-03-16)[update]，……)
_WIKI_MARKS = re.compile(
    r"\[(?:update|edit|citation needed|编辑|来源请求|需要更新|需要引用)\]|(?<=日)\s*[（(]\d{4}-\d{2}-\d{2}[）)]"
)
_ATTRIBUTION = re.compile(r"(?:说|表示|介绍|指出|告诉记者|感慨地说|笑着说)[。：:]?[”」]?$")
_CLAUSE = re.compile(r"[，,；;：:]")
_LIST_OPENED = re.compile(
    r"[\u3400-\u9fff][：:]\s*(?:[0-9０-９]{1,2}|[一二三四五六七八九十]{1,2})\s*[。.、．]?\s*$"
)
_ANNOUNCES = re.compile(
    r"(?:[两三四五六七八九十几]个?(?:方面|点)[^。，,；;！!？?]{0,10}"
    r"|[两三四五六七八九十几][个大项](?:特点|特征|原因|因素|变化|亮点|阶段|步骤)[^。，,；;！!？?]{0,2}"
    r"|如下[^。，,；;！!？?]{0,4}|以下几(?:点|项|个方面))[。：:]$"
)
# a figure: digits, or a numeral with its measure (65名, 三个); 一个 is the article (建强一个“战斗堡垒”)
_DIGIT = re.compile(r"[0-9０-９]|(?!一个)[一二三四五六七八九十百千万两]+[个名人家件次户项处支场起元所]")
# numerals that count nothing: a count said twice for "one by one" (一项一项推动, 一件一件落实), and 二次 for "second"
# (二次创业: a count of times is 两次), and 一起 for "together" (我们一起来说说, not 一起事故). A numbered programme
# (“五项行动”) is what was done: it stays.
_COUNTING_NOTHING = re.compile(r"(一[\u4e00-\u9fff])\1|二次|一起(?!案|事|火|纠|车|交通|盗|诈)")


def _numbered(text: str) -> bool:
    """The text holds a number (a figure or a date), past numerals that count nothing (`_COUNTING_NOTHING`)."""
    return bool(_DIGIT.search(_COUNTING_NOTHING.sub("", text)))


_QUOTED = re.compile(r"“[^”]*”|「[^」]*」|『[^』]*』|\"[^\"]*\"")  # quoted words, marks included
_QUOTED_ALL = re.compile(r"^[“\"「『][^”\"」』]*[”\"」』]$")

# Discourse connectives that point at the sentence before (general Chinese, not phrases of any document).
CONNECTIVES = (
    "与此同时",
    "另一方面",
    "一方面",
    "同时",
    "此外",
    "另外",
    "其次",
    "再次",
    "最后",
    "然后",
    "首先",  # 首先，…… opens a list the item does not hold: the item starts at its point
    "因此",
    "为此",
    "对此",
    "由此",
    "所以",
    "而且",
    "并且",
    "此后",
    "然而",
    "但是",
    "不过",
    "其中",
    "除此之外",
    "除此以外",
    "不仅如此",
    "不止如此",
    "总之",
    "据悉",
    "据了解",
    "据介绍",
    "可见",
    "也就是说",
    "具体来说",
    "具体而言",
    "具体来看",
    "总的来看",
    "综合来看",
    "换句话说",
    "换言之",
    "总而言之",
    "总的来说",
    "整体而言",
    "总体而言",
    "整体来看",
    "总体来看",
    "综上所述",
    "再者",
    "比如",
    "例如",
    "譬如",
    "反之",
    "事实上",
    "实际上",
    "值得注意的是",
    "值得一提的是",
    "需要指出的是",
    "于是",
    "其实",
    "当然",
    "显然",
    "毕竟",
)
# the tail of a figure a snippet was cut inside (…22.|44亿美元，…, 7万亩和13万亩；…, 5公斤/亩，…): digits and a few
# characters, then the clause goes on; a date, a time, a range (2021—2022赛季，) or a list mark (1、) is how a
# sentence may open
_CUT_FIGURE = re.compile(r"^\d+(?:[.,]\d+)?(?![\d.,、．年月日时号—\-–])[^，,；;。！？!?\s]{0,8}[，,；;]")
# a table's note or caption, away from its table (此表中部分数据因四舍五入……; 以下列出各委员会的主席。)
_TABLE_NOTE = re.compile(
    r"^(?:此|本|上|下|该|附)表|^(?:以下|下面|下列)列(?:出|举)|表中(?:部分)?数据|四舍五入"
)
# a page's rule line (=====) run into the text: its layout
_SEPARATOR = re.compile(r"[=＝]{5,}|[-－_—]{6,}|[*＊~～]{5,}")
# a flattened table's row: three figures or more set off by spaces only (7185.4 2977.4 4143.7)
_FIGURE_ROW = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:[ \t\u3000]+\d+(?:\.\d+)?){2,}(?![\w.])")
_CONNECTIVE = re.compile(
    rf"^\s*(?:{'|'.join(sorted(CONNECTIVES, key=len, reverse=True))}"
    r"|除了?(?:上述|以上|这些)[^，,。；;]{0,8}?(?:之外|以外|外)?)\s*[，,、：:]\s*"  # 除了上述举措，
)
_ANAPHORA = re.compile(
    r"^\s*(?:这|此举|此外还|以上|上述|还有|其中(?![，,])|此时|当时|另一(?!方面)|尤其|特别是|具体到"
    r"|[二三四五六七八九十]是"  # 二是…… continues an enumeration that started before it
    r"|(?:只有|唯有)如此"  # 只有如此，……
    r"|相比之下|相较之下|对比而言|相比而言|相较而言|与之相比|与此相比"  # what it is set against came before
    # a comment relating it to what came before (巧的是，……; 不同的是) or a condition on it (如果真的是这样，从这个角度看)
    r"|(?:巧|巧合|凑巧|不同|相同|同样|更重要|更为重要|更关键|与之不同)的是"
    r"|(?:如果|假如|若|倘若)(?:真的)?(?:是)?(?:这样|如此)|从这(?:个|一)?(?:角度|意义|层面)|由此(?:看来|可见)|既然如此"
    r"|(?:目前|如今|现在|近日|日前|此前|最近|后来|随后|之后)[，,]?[他她它]"  # 目前他的……: who, the one before says
    # a time counted from one the sentence before gave (8年后，……; 两天之后; not a year: 2012年后)
    r"|(?:[0-9０-９]{1,2}|[一二两三四五六七八九十几数多]+)(?:年|个月|天|周|日|小时)(?:之后|以后|后))"
)
# Words that open a sentence leaning on the one before it, as whole words (jieba keeps 如何, 如果, 如同, 其实,
# 他山之石 whole): a conjunction with no comma after it (如西秀区……, 而《……》……, 但是对于……), which the item
# starts after, and a pronoun or a time pointing back (其……, 他们……, 届时……, 之后……), which is carried together
# with the sentence it points at.
_OPENING_CONJUNCTIONS = frozenset("如 而 但 并 且 但是 然而 因此 所以 而且 并且 不过 可是 此外 另外".split())
# conjunctions that answer a sentence before them (not 如, nor 此外 or 另外, which add to no sentence in particular)
_LINKS_BACK = _OPENING_CONJUNCTIONS - {"如", "此外", "另外"}
_POINTING_WORDS = frozenset(
    {
        "其",
        "其他",
        "那",  # 那是……: what the sentence before showed
        "他",
        "她",
        "它",
        "他们",
        "她们",
        "他俩",
        "她俩",
        "它们",
        "加上",  # 加上……，高考录取率大幅提高: one more cause than the sentence before gave
        "也",  # 也有部分毕业生……, 还为居民……, 又有爆料称……: one more besides what the sentence before told
        "还",
        "又",
        "比如",  # 比如微软……已经使用了……: an example of what the sentence before said
        "比如说",
        "例如",
        "譬如",
        "届时",
        "那时",
        "彼时",
        "之后",
        "随后",
        "然后",  # 然后已经有人……: what came after the sentence before
        "接着",
        "紧接着",
        "上次",  # 上次……: the time before the one the sentence before told
        "其后",  # 其后，……确认……: after what the sentence before told
        "至于",
        "此后",
        "自此",
        "当天",
        "当日",
        "当晚",
        "当月",  # 当月17日，……: of the month the sentence before named
        "同日",
        "同月",
        "同年",
        "翌年",
        "此前",  # 此前，……: before what the sentence before told
        "最终",  # 最终某队以81-55获胜: the end of what the sentence before began
        "次日",
        "隔日",
        "翌日",
        "次年",
        "如此一来",
        "正因如此",
        "如前所述",
        "这",  # 这…… opens a sentence leaning on the one before (`_ANAPHORA`), and after a short clause too
        "这个",  # (很难想象，这个……小区; 在一定程度上，这也……)
        "这些",
        "这一",
        "这种",
        "这样",
        "这样一来",
        "前者",  # 后者小米13 Pro则是……: the former and the latter, the sentence before named both
        "后者",
        "同样",  # 同样增加了前置人像模式……: as the one the sentence before told of
        "剩余",  # 剩余成员国也将……: the rest of those the sentence before counted
    }
)
# a reason with no main clause (因为外资持续流入……令投资者保持看涨人气。): the reason of what the sentence before said
_BARE_REASON = re.compile(r"^\s*(?:因为|由于)[^，,；;：:]*$")
# an edition of an event (本届, 上届, 前两届): the event is named after it (本届世界杯) or before it
_EDITION = re.compile(r"^\s*(?:本|上|下|前[一两二三四五几]|该|这)届")
_ENUMERATED = re.compile(
    r"^\s*(?:第[二三四五六七八九十][，,、]|这[两三四五六七八九十几]个?"
    # 第二个难题是锋线。: the next of a list the text began before
    r"|第[二三四五六七八九十](?:个|点|条|项|种|类|大)[^，,。；;]{0,6}(?:是|在于))"
)
# an interview's 问：/答： marks and a press conference's reporter turn (某电视台记者：……), a page's 摘要：
_QA = re.compile(r"^\s*(?:[问答]|摘要|[^，,。；;：:\s“”]{0,14}记者)\s*[:：]\s*")
# a section label run into its text on a flattened page (四、总结：…… / （二）外观篇：……): a heading, not the sentence
_LABEL = re.compile(
    r"^\s*(?:[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十]{1,3}[）)])[^，,。；;：:！!？?\s]{1,12}[:：]\s*"
)
# a figure a list item is headed by (67：北京时间……开场仅仅67秒……; 44：44岁的主帅……, of a page's figures of the week):
# the item's label, not its text; a score or a clock time (3：1战胜, 3：3战平, 10:30) holds a figure after the colon
_FIGURE_LABEL = re.compile(
    r"^\s*(\d{1,4})\s*[:：]\s*(?=[\u4e00-\u9fff]|\1(?:岁|年|个|人|次|名|分钟|秒|天|家|亿|万|%))"
)
# a numbered heading a flattened page sets off by a space only ((二)工业经济持续壮大，制造水平快速提升 党的……)
_NUMBERED_HEADING = re.compile(
    r"^\s*(?:[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十]{1,3}[）)])[^。！!？?；;\s]{2,40}\s+(?=\S)"
)
# a list item's number (4、其他具体条件……, （四）在……, 二、全国……): the list's layout, not the sentence
_LIST_MARK = re.compile(
    r"^\s*(?:\d{1,2}\s*[、．.]|[（(](?:\d{1,2}|[一二三四五六七八九十]{1,3})[）)]|[一二三四五六七八九十]{1,3}、)"
    r"\s*(?=[\u4e00-\u9fff“《])"
)
# a flattened table's labels left empty (建制派：  中间派：  ……; 建制派： 中间派： ……)
_EMPTY_LABEL = re.compile(r"[\u4e00-\u9fffA-Za-z]{1,8}[：:](?=\s{2,}|\s*$|\s[\u4e00-\u9fffA-Za-z]{1,8}[：:])")
# a record's fields opening the line (年龄：29；世界排名：65；……): a profile or a table row, whose name the page
# printed apart
_FIELDS = re.compile(r"^\s*(?:[\u4e00-\u9fff]{2,6}[：:]\s*[^，,。；;：:\s]{1,20}\s*[；;\s]\s*){2,}")
# a label and its value (最佳导演：文牧野, 新配色：……); three in one clause are a flattened list or spec sheet
_FILLED_LABEL = re.compile(r"[\u4e00-\u9fff]{2,6}[：:]")
_ASIDE = re.compile(r"[（(][^（）()]*[）)]|《[^《》]*》")  # glosses and titles (英语：……, 《阿凡达：水之道》)
# the text up to a wide space (two or more): a line of its own on the page, when it is no clause
_WIDE_BREAK = re.compile(r"^(\S.*?)\s{2,}(?=\S)")
CAPTION_MAX = 50
HEADLINE_MAX = 30  # an exclamation next to another this short is one of a page's list of headlines
ATTRIBUTION_MAX = 40
# what a photo shows, as captions word it: an action in progress or a scene (not a measure or a result)
_SCENE = re.compile(
    r"正在|正(?:不断|紧张|忙着)|[\u4e00-\u9fff]着[。！!][”」』]?$|一派[^，,。；;]{0,12}(?:景象|气象|场景)"
)
# what closes a sentence after the phrase a rule below looks for: its end mark and a closing quotation mark, if any
_CLOSES = r"[。！!]?[”」』]?$"
# a clause that only sums up in a figure of speech (……的一个缩影, 奏响了……交响曲, 谱写……新篇章): with no figure of its
# own the sentence evaluates, it reports nothing
_FIGURATIVE = re.compile(
    r"(?:缩影|(?:奏响|唱响)[^，,。；;]{0,16}(?:交响曲|乐章|凯歌|强音)|谱写[^，,。；;]{0,16}(?:篇章|华章)"
    # ……的战略号角已全面吹响; ……让家园越来越温暖; 为……贡献……力量
    r"|号角[^，,。；;]{0,8}吹响|吹响[^，,。；;]{0,12}号角"
    r"|让[^，,。；;]{0,12}(?:越来越|更加)(?:温暖|美好|幸福)|贡献[^，,。；;]{0,12}力量"
    # ……必须牢牢把稳基层党建这颗“定盘星”: the sentence ends on a metaphor of steadiness (not ……筑牢“战斗堡垒”, which
    # readers mark as a measure's evidence after what was done: 以网格党支部建设为抓手)
    r"|(?:把稳|把牢|守住|筑牢|夯实)[^，,。；;]{0,14}(?:定盘星|压舱石|主心骨|生命线)[”」』]?)" + _CLOSES
)
# what a picture is, as a page describes the one it shows (……的实拍图。; 一张……截图，……; 图为……): a caption
_PICTURE = re.compile(r"(?:截图|实拍图|谍照|照片|图片|效果图|渲染图|示意图|剧照|海报)" + _CLOSES)
_PICTURE_OPENING = re.compile(r"^(?:和|及|以及)?(?:一张|一组|这张|这组|图为|图中|上图|下图)")
# a clause that only says people feel better off (……增强了居民的幸福感和获得感): with no figure and no one named,
# the sentence evaluates, it reports nothing
_FEEL_BETTER = re.compile(
    r"(?:提升|增强|提高|增进)[^，,。；;]{0,20}(?:获得感|幸福感|安全感|归属感)(?:[和、与](?:获得感|幸福感|安全感|归属感))*"
    + _CLOSES
)
# a stock phrase of effect that closes a sentence (……构建起……新格局; ……作用得到充分发挥; 成为……新市民、……新邻居、
# ……新力量): when nothing before it in the sentence reports an action or a figure, the sentence evaluates, it reports
# nothing
_STOCK_RESULT = re.compile(
    r"(?:(?:构建|形成|打造|开创|呈现|展现)(?:起|出|了)?[^，,。；;]{0,24}新(?:格局|局面|气象|面貌)"
    r"|(?:作用|优势|效能|积极性|主动性|创造性|活力|潜能)都?(?:得到|得以)了?(?:充分|有效|进一步|极大|更好)?[的地]?"
    r"(?:发挥|彰显|释放|激发|提升|增强)"
    r"|新[\u4e00-\u9fff]{1,3}(?:、[^，,。；;、]{0,10}新[\u4e00-\u9fff]{1,3}){2,})" + _CLOSES
)
# a clause that only sets the scene of what follows (随着……，在……，如今，)
_SETTING = re.compile(r"^\s*(?:随着|在|如今|近年来|目前|当前|现在)")
# a pledge of goodwill (中方愿同东盟一道……; 愿同新方共同努力，开启两国关系新的50年……): with no figure but a span of
# years the sentence promises, it reports nothing
_PLEDGE = re.compile(r"愿(?:意)?(?:同|与|和)[^，,。；;]{1,14}(?:一道|共同|携手)")
# a clause that only says an act shows regard (……，充分体现了对……的高度重视): with no figure it evaluates
_SHOWS_REGARD = re.compile(
    r"(?:体现|彰显|表明|展现)(?:出|了)?[^，,。；;]{0,30}(?:重视|关心|关怀|厚爱|关切)" + _CLOSES
)
# what a decision signifies (举办某会，是党中央……作出的重大决策，……): with no figure the sentence appraises, it reports nothing
_SIGNIFIES = re.compile(r"是[^。；;]{0,80}(?:作出|做出)的重大(?:战略)?(?:决策|部署)")
# the writer's own voice (欢迎广大有志青年……书写人生壮丽篇章。; 还是期待某公司能真正发挥……; 综上所述，……可以看出诸多
# 隐患和问题): a welcome or a call, a wish, a summing-up, read as written (before its connective is trimmed); with no
# figure it reports nothing
_OWN_VOICE = re.compile(
    r"^(?:欢迎(?![仪会宴式词])|(?:还是|更|也)?(?:期待|希望(?![工小之])|期望|祝愿)着?"
    r"|(?:综上所述|总之|总而言之|总的来说|总体而言)[，,])"
)
# an exhortation set against what is not enough (……不仅依靠组织力量，更要引导……; 议员不仅要……，更要……): with no figure
# the sentence says what ought to be, it reports nothing
_EXHORTS = re.compile(r"不仅[^。；;]{0,40}?[，,][^。；;]{0,6}?更(?:要(?!求)|应|需|须|必须)")
# the writer speaking to the reader (如果你坚持做一件事……; 因为你发现……; ……的名字你也许不熟悉), outside quotations and
# titles (《少年的你》) and examples (比如你拍一张照片，某模型会……): with no figure an essay's voice, it reports nothing
_TO_THE_READER = re.compile(r"^(?!(?:比如|例如|譬如))[^。]*?你(?!们)")
_TITLED = re.compile(r"《[^》]*》")
# the standing a thing is said to have (立法会在……架构中具重要地位，……): with no figure the sentence appraises
_STANDING = re.compile(r"在[^，,。；;]{1,20}中具有?(?:重要|举足轻重的?|特殊|核心)地位")
_DURATION = re.compile(r"\d+(?:多)?(?:年|岁)")  # a span of years, an age: no count of what was done
# a call to rally (把思想和行动统一到……上来, 凝聚到……的实际行动上来): the sentence calls, it reports nothing, unless it
# reports a figure (the numbered slogans it quotes, “三个高地”, are none)
_RALLY = re.compile(r"(?:统一|凝聚|集中|汇聚)到[^。！!；;]{0,40}上来" + _CLOSES)
# a text's guiding thought (以……思想为指导，……): with no figure of its own the sentence pledges, it reports nothing
_GUIDING = re.compile(r"以[^，,。；;]{2,40}(?:思想|理论|精神)为(?:指导|指引|统领)")
# a principle opening the sentence (工业是……经济发展的立命之本，……; 发展是……的第一要务): with no figure the sentence
# professes, it reports nothing
_PRINCIPLE = re.compile(
    r"^[^，,。；;：:“”]{1,10}是[^，,。；;]{0,20}的(?:第一要务|第一动力|根本|立命之本|立身之本|重中之重|生命线|根基|"
    r"必由之路|应有之义|题中之义|主心骨|定盘星|压舱石|重要组成部分)"
)
# a motto of four-character phrases said to be a goal or a demand (产业兴旺、生态宜居、……,是乡村振兴的美好愿景):
# the string of phrases is the slogan, and the sentence only names what it stands for
_PHRASE_STRING = re.compile(r"^(?:[\u4e00-\u9fff]{4}、){2,}[\u4e00-\u9fff]{4}[，,]?(?:就|正|都)?是")
_OPENING_CREDIT = re.compile(
    r"^(?:(?:\S{0,8}记者\s*)?[\u4e00-\u9fff·]{2,6}\s+(?:摄|供图|摄影)\s+|\S{0,8}[（(][^（）()]{1,16}(?:摄|供图|摄影)\s*[）)]\s*)\S"
)
# a chart's legend (蓝色及灰色分别表示建制派及中间派。): what the colours of a figure the page lost stand for
_LEGEND = re.compile(r"^[^，,。；;]{0,8}色(?:[及和、与][^，,。；;]{0,6}色)*(?:分别)?(?:表示|代表)")
# only the basis of what follows, cut from it (根据《某某条例》第37条。): no clause says what it is the basis of
_BARE_BASIS = re.compile(
    r"^(?:根据|按照|依据|依照)《[^》]+》(?:第[一二三四五六七八九十百零\d]+[条款章节项])*(?:的?规定)?[。；;]?$"
)
# a day, then one clause saying only that an event took place (2018年，第29届某奖举行颁奖典礼。; ……宣誓仪式举行。) —
# not what someone did (6月13日，某局举办……座谈会。 is a report)
_EVENT_HELD = re.compile(
    r"^(?=\d)(?:\d{4}年)?(?:\d{1,2}月)?(?:\d{1,2}日)?(?:早上|上午|中午|下午|晚上|晚间|晚)?[，,]"
    r"[^，,。；;]{2,30}(?:举行|开幕|闭幕)了?[^，,。；;]{0,20}[。！!]?$"
)
_EDITIONS = re.compile(r"第\s*\d+\s*[届次期]")
_LEADING_DATE = re.compile(
    r"^(?:\d{4}年)?\d{1,2}月\d{1,2}日(?:早上|上午|中午|下午|晚上|晚间|凌晨|早|晚)?[，,]?"
)
SLOGAN_MAX = 16
# a paragraph of one clause this short that opens on a verb, after prose, is a piece the layout cut from a sentence;
# across the seed and news corpora (~9,000 paragraphs) only such a piece is (提供一年5000元的生活津贴和5000元的工作经费。)
STRANDED_MAX = 40
_EXCLAIMED = re.compile(f"[！!][{QUOTE_CLOSERS}]*$")
SAID_BY = "引语署名"  # a sentence saying who spoke the quotation before it (“……。”某某说。)
QUESTION = "设问"  # a question is no item of its own; the sentence answering it takes it along
TABLE_PIECE = "表格残片"
NOTE = "编者按"
WEB_DEBRIS = "网页杂项"


def content_chars(text: str) -> int:
    return len(_CJK.findall(text)) + len(re.findall(r"[0-9A-Za-z]", text))


def open_quotation(text: str, titles: bool = True) -> bool:
    """The text leaves a quotation (or, with `titles`, a title 《……) open (……“党建引领): what follows is inside it."""
    return any(text.count(left) > text.count(right) for left, right in _QUOTES if titles or left != "《")


def balanced(text: str) -> bool:
    """Quotation marks and brackets open and close within the sentence (a cut-and-glued sentence does not)."""
    for left, right in _PAIRS:
        depth = 0
        for ch in text:
            if ch == left:
                depth += 1
            elif ch == right:
                depth -= 1
                if depth < 0:
                    return False
        if depth:
            return False
    return True


# a closing quotation mark whose opening one the source left out, inside a clause (一套服务体系”的包保服务机制):
# a typo of the source, not a cut; one after punctuation or before who spoke (……的事情。”他说。) closes a
# quotation begun before
_STRAY_CLOSER = re.compile(r"(?<=[\u3400-\u9fff])”(?=[\u3400-\u9fff])")


def without_stray_closers(text: str) -> str:
    """The text without the closing quotation marks the source left without an opening one (一套服务体系”的……),
    when that makes it balanced; else as it is. Only `PackItem.text` drops them, never the quote it cites."""
    if text.count("“") >= text.count("”"):
        return text
    depth, stray = 0, []
    for m in re.finditer("[“”]", text):
        depth += 1 if m.group() == "“" else -1
        if depth < 0:
            clause = re.split(r"[，,。；;！？!?]", text[m.end() :], maxsplit=1)[0]
            if not _STRAY_CLOSER.match(text, m.start()) or re.search(SPEECH_VERBS, clause):
                return text  # ……的事情”他说: the tail of a quotation
            if not re.search(r"[，,；;、]", text[: m.start()]):
                return text  # 放管服”改革成效显著，……: a snippet that begins inside a quotation
            stray.append(m.start())
            depth = 0
    kept = "".join(ch for i, ch in enumerate(text) if i not in stray)
    return kept if stray and balanced(kept) else text


_SHORT_CLAUSES = re.compile(r"[^，,：:“”；;]{1,25}(?:[；;][^，,：:“”；;]{1,25}){3,}[。！!]?")


def headlines(sentence: str) -> bool:
    """Four or more short clauses set off by semicolons, no comma among them, naming three places or more (……
    希腊警察驱散难民；美国弗格森警察执勤；缅甸小型石油钻井平台作业；……): a news digest's or a gallery's list of
    headlines, each a picture's caption, no report of its own. A list of measures names no places; one of places'
    results counts what each did (南明区建成12个；云岩区建成8个；……)."""
    if not _SHORT_CLAUSES.fullmatch(sentence.strip()) or re.search(r"\d", sentence):
        return False
    clauses = re.split(r"[；;]", sentence)
    places = {next((name for name, _ in ner.entities(c, ("LOC",))), "") for c in clauses} - {""}
    return len(places) >= 3


def photo_credit(sentence: str) -> bool:
    """The piece credits a photo (新华社记者 某某 摄, （某某 摄）)."""
    return bool(_CREDIT.search(sentence.strip()))


# a photo agency credited at the start of the next sentence (……足球队。路透社 【某某网】……): what came before is the
# photo's caption
_AGENCY_CREDIT = re.compile(
    r"^\s*(?:路透社|美联社|法新社|新华社|中新社|视觉中国|东方IC|IC\s*photo|Getty\s*Images?|图虫创意)"
    r"\s*(?:供图|图|摄)?(?=\s|【|\[|$)"
)


_END_MARK = re.compile(r"-完-|（完）|\(完\)|【完】")
_OPENS_AFTER_END = re.compile(rf"^\s*(?:{_END_MARK.pattern})\s*\S")  # （完）   相关文章 ……


def ends_article(text: str) -> bool:
    """The text carries a news article's end mark (（完）, -完-): what follows on its line is page furniture
    (related headlines, comments, the copyright line, a caption)."""
    return bool(_END_MARK.search(text))


def credits_photo(sentence: str) -> bool:
    """The sentence opens with a photo's credit (新华社记者 某某 摄 ……, 路透社 【……】……): the sentence before it is
    the photo's caption (a page laid out on one line credits each photo right after its caption)."""
    s = sentence.strip()
    return bool(_AGENCY_CREDIT.match(s) or _OPENING_CREDIT.match(s))


def caption_paragraph(sentences: list[str]) -> bool:
    """A paragraph closed by a photo credit is the photo's caption (某某会见某某。新华社记者 某某 摄), however long
    (……打造了党员活动室……为党员提供学习阵地。(某某 摄) in a gallery; 彩虹社区是……最大的易地扶贫搬迁点。…… 某某摄)."""
    return len(sentences) >= 2 and photo_credit(sentences[-1])


# the verbs a page says what a picture is with (据说是……的实拍图, 疑似……的谍照), and the 实拍 of 实拍图
_PICTURE_VERBS = frozenset({"是", "据说", "据称", "疑似", "曝光", "实拍"})


def _names_picture(clause: str) -> bool:
    """The clause names a picture and does nothing else (据说是某某的实拍图。; not 某社区为居民拍摄全家福照片。)."""
    if not _PICTURE.search(clause):
        return False
    return not any(tag.startswith("v") and word not in _PICTURE_VERBS for word, tag in pos_tags(clause))


def gallery(sentences: list[str]) -> bool:
    """A paragraph where two sentences or more open with a photo's credit is a gallery laid out on one line
    (……。新华社记者 某某 摄 5月25日，……。当日，……): each of its sentences is a caption."""
    return sum(map(credits_photo, sentences)) >= 2


def rejection(
    sentence: str,
    *,
    alone: bool = False,
    after_prose: bool = False,
    heading: bool = False,
    after_quote: bool = False,
    captioned: bool = False,
    opens_text: bool = False,
    after_end: bool = False,
) -> str | None:
    """Why a sentence is not teaching material (a short Chinese reason), or None when it is.

    `alone`: the sentence is the only one of its paragraph (captions and slogans stand alone).
    `after_prose`: the paragraph before it holds two sentences or more (it is no line of a list of short ones).
    `captioned`: its paragraph is a photo's caption (`caption_paragraph`) or a gallery's (`gallery`).
    `after_end`: its paragraph marked the article's end before it (……。（完） 相关文章 ……): what a page adds.
    `opens_text`: it is the first sentence of the document, which a snippet may start mid-sentence (“44亿美元，
    超越……” of 22.44亿美元).
    `after_quote`: it follows a closing quotation mark on the same line (“……。”某某说。): a short one with no
    figure says who spoke or how they felt, which is material only together with the quotation.
    """
    s = simplified(sentence.strip())
    if heading or not s:
        return "标题"
    if captioned:
        return "图片说明"
    if after_end or _OPENS_AFTER_END.match(s):
        return WEB_DEBRIS
    # mojibake, another script, or a passage in a Latin-script language run into the Chinese
    if _foreign_share(s) > 0.5 or (_CJK.search(s) and _LATIN_PASSAGE.search(_QUOTED.sub("", s))):
        return "乱码"
    # the one before it closed a photo's caption with its credit (新华社记者 某某 摄 2月4日晚，……): a gallery,
    # where a short sentence is the next photo's caption, as one standing alone would be
    credited = bool(_OPENING_CREDIT.match(s))
    if not credited and _INNER_CREDIT.search(s):
        return "图片说明"
    alone = alone or credited
    if opens_text and (_CUT_FIGURE.match(s) or _opens_with(s, _LINKS_BACK)):
        return "残句"  # a snippet cut inside a figure, or after the sentence its conjunction (但……, 所以……) answers
    for text in dict.fromkeys((s, trim_start(s))):  # the line as laid out, then what an item would hold
        if _NOTE.search(text) or _COLUMN.search(text):
            return NOTE
        if _ROSTER.search(text) and not _counts(text):
            return "出席名单"
        if _CHROME.search(text) and content_chars(text) <= 30:
            return WEB_DEBRIS
        if _NOTICE.search(text) or _FOOTNOTE.search(text) or _SEPARATOR.search(text):
            return WEB_DEBRIS
        if _BYLINE.match(text) or _STAMP.search(text):
            return "署名或电头"
        if photo_credit(text) or re.fullmatch(r"[（(][^）)]*[）)]", text) or headlines(text):
            return "图片说明"
        if (
            _repeats(text)
            or len(_EMPTY_LABEL.findall(text)) >= 2
            or _FIGURE_ROW.search(text)
            or _FIELDS.match(text)
            or _TABLE_NOTE.search(text)
            or _label_list(text)
        ):
            return TABLE_PIECE
    as_written = s  # before its connective is trimmed (综上所述，……)
    s = body = trim_start(s)
    # cut by the layout (or where the page lost words), or a snippet with words left out (… …)
    if not TERMINAL.search(s) or _ELISION.search(s) or LOST in s:
        return "残句"
    if (
        not balanced(without_stray_closers(s))  # a typo's stray closing mark does not make it a cut
        or re.match(r"^[，,、。；;：:）)”’」』》]", s)
        or s.endswith(("“", "（", "("))
    ):
        return "残句"
    if _BARE_BASIS.match(s):
        return "残句"
    if _LIST_OPENED.search(s) or _ANNOUNCES.search(s):
        # it announces a list and holds only its first mark (按照以下程序进行： 1。) or none of it (这主要受两方面
        # 因素影响。): the list is in the sentences after it
        return "残句"
    if run_in(s):
        return "残句"  # two lines the page ran together with a space (……第九枚金牌 在短节目单元中，……)
    if _opens_with(s, _PARTICLES):
        return "残句"  # it opens on a particle (了地下城的设计；……): the page cut it from the words before
    if _title_line(s):
        return WEB_DEBRIS  # a page's title or keyword line (某游戏都在哪些平台发售了，某游戏发售日期，某游戏都在……。)
    n = content_chars(body)
    clauses = [c for c in _CLAUSE.split(re.sub(f"[{END_MARKS}]+[{QUOTE_CLOSERS}]*$", "", body)) if c.strip()]
    if n < 40 and _ATTRIBUTION.search(s):
        return SAID_BY
    if after_quote and n <= ATTRIBUTION_MAX and not _numbered(body) and not opens_section(as_written):
        return SAID_BY  # (not after a heading the page ran in: 我所有的机会都是自己求来的 快毕业时，……)
    if n < 6:
        return "残句"  # what is left after the layout debris is no sentence
    if alone and after_prose and n <= STRANDED_MAX and not _CLAUSE.search(body) and _opens_on_a_verb(s):
        return "残句"  # a short paragraph with no subject after prose (提供一年5000元的生活津贴……。): cut from its sentence
    if re.search(f"[？?][{QUOTE_CLOSERS}]*$", s):
        return QUESTION  # (an interviewer's 您认为……？ too: the answer after it takes it along)
    if _POINTER.search(body) and not _DIGIT.search(_ASIDE.sub("", body)):
        return WEB_DEBRIS  # it only sends the reader elsewhere (……注意事项，详见《某某规定》。)
    if re.search("您|小编", _QUOTED.sub("", body)):
        # the page addresses its reader (如果您有准确的数据，请您提供给我们; 助您挖掘……！) or its editor speaks of
        # himself (下面就让小编给大家介绍一下; 但小编还是要继续斗胆预测一下): a page's chatter, no report
        return WEB_DEBRIS
    if _EXCLAIMED.search(s) and (n <= SLOGAN_MAX + 4 or not _counts(body)):
        return "口号"  # an exclamation that is short or reports no figure but its date: a headline or a call
    # one clause, after a scene-setting 在……中， or the day of the event (2月4日晚，……在某地举行。)
    opening = bool(re.match(r"^在.{2,30}中[，,]", body) or _LEADING_DATE.match(body))
    if alone and n <= CAPTION_MAX and len(clauses) <= 1 + opening and not _counts(body):
        return "图片说明"
    if alone and n <= CAPTION_MAX and _SCENE.search(body) and not _counts(body):
        return "图片说明"  # a short paragraph describing what a photo shows (…正在…, …忙碌着。, 一派…景象)
    if n <= CAPTION_MAX and _dated_event_name(body):
        return "图片说明"  # a day and the event's name, no verb of its own (6月13日，某某主办的某某座谈会。)
    if n <= CAPTION_MAX and _EVENT_HELD.match(body) and not _counts(_EDITIONS.sub("", body)):
        return "图片说明"  # a day and an event taking place, nothing else (2018年，第29届某奖举行颁奖典礼。)
    if n <= CAPTION_MAX and _LEGEND.match(body) and not _counts(without_footnotes(body)):
        return "图片说明"  # a chart's legend (蓝色及灰色分别表示……)
    if n <= CAPTION_MAX and (_PICTURE_OPENING.match(body) or (len(clauses) <= 1 and _names_picture(body))):
        return "图片说明"  # what the picture is (……的实拍图。; 一张……截图，……): not what someone did with one
    if _QUOTED_ALL.match(body) and n <= 24:
        return "口号"
    if _FIGURATIVE.search(body) and not _counts(body):
        return "口号"
    if _RALLY.search(body) and not _counts(_QUOTED.sub("", body)):
        return "口号"
    if _FEEL_BETTER.search(body) and not _numbered(body) and not named_units(body) and "《" not in body:
        return "口号"
    if _only_evaluates(body, clauses):
        return "口号"
    appraises = _PLEDGE, _SHOWS_REGARD, _SIGNIFIES, _STANDING, _EXHORTS
    voice = _OWN_VOICE.match(as_written) or _TO_THE_READER.search(_TITLED.sub("", _QUOTED.sub("", body)))
    if (any(p.search(body) for p in appraises) or voice) and not _counts(
        _QUOTED.sub("", _DURATION.sub("", body))
    ):
        return "口号"
    if (_GUIDING.search(body) or _PHRASE_STRING.match(body) or _PRINCIPLE.match(body)) and not re.search(
        r"[0-9０-９]", body
    ):
        return "口号"  # (一支……队伍 of 着力打造一支……队伍 is an article, no figure)
    if not _numbered(body) and not named_units(body):
        if n <= SLOGAN_MAX:
            return "口号"
        sizes = [content_chars(c) for c in clauses]
        if len(sizes) == 2 and max(sizes) <= 9 and abs(sizes[0] - sizes[1]) <= 1:
            return "口号"  # a couplet (群众利益无小事,一枝一叶总关情。)
        # a run of short parallel lines (组织生活线上通知,党建政策一键了解,社区情况一览无余……)
        if len(sizes) >= 3 and max(sizes) <= 8 and max(sizes) - min(sizes) <= 1:
            return "口号"
    return None


# what Chinese teaching text is written in: CJK, ASCII, full-width forms and the usual punctuation
_READABLE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef\x21-\x7e“”‘’…—·]")


# a sentence closing by sending its reader to another document (详见《……》。)
_POINTER = re.compile(r"(?:详见|参见|请见|具体见|请参阅|参阅)《[^》]+》[。]?$")
# eight words or more of a Latin-script language in a row, outside Chinese quotation marks: a passage in English run
# into the Chinese (…的年度词汇是“permacrisis”（长期危机） "Permacrisis", a term that describes …), not a name, a
# title (Regional Comprehensive Economic Partnership) or a definition the text quotes (释义为“(in stories) a small …”)
_LATIN_PASSAGE = re.compile(r"(?:[A-Za-z][A-Za-z'’-]*[\s,;:\"]+){8,}[A-Za-z]")


def _foreign_share(text: str) -> float:
    """Share of the characters in no script a Chinese trainee reads: mojibake (UTF-8 read as another code page,
    йқ’е°‘е№ҙ) or a passage in another script (Arabic, Cyrillic)."""
    chars = re.sub(r"\s", "", text)
    return (len(chars) - len(_READABLE.findall(chars))) / len(chars) if chars else 0.0


def _only_evaluates(body: str, clauses: list[str]) -> bool:
    """The sentence closes on a stock phrase of effect (`_STOCK_RESULT`) and reports no figure, and no clause before
    it says what anyone did: they set the scene (随着……的推进，) or name who (功能齐全的网格党支部阵地，). A sentence that
    says what was done first (建立……机制，……，形成共建共治共享的新格局) is material."""
    if not _STOCK_RESULT.search(body) or _counts(body):
        return False
    return all(_SETTING.match(c) or not _acts(c) for c in clauses[:-1])


def _opens_on_a_verb(sentence: str) -> bool:
    """The sentence's first word is a verb (jieba's v; not a verb used as a noun, 会谈中，……): it has no subject."""
    tags = pos_tags(sentence[:12])
    return bool(tags) and tags[0][1] == "v"


def _acts(clause: str) -> bool:
    """The clause holds a verb (jieba's v and vd; not a verb used as a noun)."""
    return any(flag in ("v", "vd") for _, flag in pos_tags(clause))


def _dated_event_name(body: str) -> bool:
    """A day, then one clause that only names something (6月13日，某局和某会主办的某某座谈会。): it ends in a noun and
    each of its verbs is inside a 的 phrase, by jieba's and LAC's reading both: a photo's caption, no report."""
    date = _LEADING_DATE.match(body)
    if not date or not date.group().endswith(("，", ",")):
        return False
    rest = re.sub(f"[{END_MARKS}]+$", "", body[date.end() :])
    if len(rest) < 6 or re.search(r"[，,；;：:“”（）()《》]", rest):
        return False
    for tags in (pos_tags(rest), list(ner.tag(rest))):
        words = [w for w, _ in tags]
        if not tags or not (tags[-1][1][:1] == "n" or tags[-1][1] in ("ORG", "LOC")):
            return False
        if any(t[:1] == "v" and t != "vn" and "的" not in words[k + 1 :] for k, (_, t) in enumerate(tags)):
            return False
    return True


def _counts(text: str) -> bool:
    """The text reports a figure other than its date (65名, 5000元): a caption shows a scene, a slogan calls."""
    return _numbered(re.sub(r"\d{4}\s*年|\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?|\d{1,2}\s*日", "", text))


def counts_a_part(sentence: str, before: str) -> bool:
    """其中，…… with a figure after a sentence with one: it counts a part of what that sentence counted (2021年，某集团交付
    252万辆。其中，某品牌销量达到221万辆), whose year and whole it leaves to it."""
    return bool(re.match(r"\s*其中\s*[，,]", sentence)) and _counts(sentence) and _counts(before)


def _label_list(text: str, most: int = 3) -> bool:
    """Three labels with their values in the first clause (年度经济学家：李实 年度法治人物：罗翔 ……): a list or a
    spec sheet flattened into a line, not a sentence."""
    first = re.split(r"[，,；;。]", _ASIDE.sub("", text))[0]
    return len(_FILLED_LABEL.findall(first)) >= most


def _repeats(text: str, size: int = 6, times: int = 3) -> bool:
    """A phrase of `size` characters said `times` times or more with no punctuation between: a flattened
    table or spec list (“速度最高提升至 5 倍速度最高提升至 3.7 倍……”), not prose, which puts commas between
    repeated names."""
    squashed = re.sub(r"\s+", "", text)
    counts = Counter(squashed[i : i + size] for i in range(len(squashed) - size + 1))
    for piece, n in counts.items():
        if n < times or len(_CJK.findall(piece)) < size - 1:
            continue
        starts = [m.start() for m in re.finditer(re.escape(piece), squashed)]
        gaps = [squashed[a + size : b] for a, b in zip(starts, starts[1:])]
        if len(starts) >= times and not any(re.search(r"[，,；;。、！!？?：:]", g) for g in gaps):
            return True
    return False


def trim_start(sentence: str, layout_only: bool = False) -> str:
    """The sentence without leading layout debris, dateline or connective: the item starts at the content.
    `layout_only`: the connective stays (the sentence it connects to is printed before it).

    Chinese text puts no spaces between words, so a space there is a layout break: pieces before it that are
    no clause (a bracketed caption, web chrome, a byline, a short unpunctuated heading) are not the sentence.
    """
    out = simplified(sentence.strip())
    while True:
        m = (
            _DATELINE.match(out)
            or _SNIPPET_DATE.match(out)
            or (None if layout_only else _CONNECTIVE.match(out))
            or _QA.match(out)
            or _LABEL.match(out)
            or _FIGURE_LABEL.match(out)
            or _LEADING_MARKS.match(out)
            or (None if layout_only else _opening_conjunction(out))
            or _debris(out)
        )
        if not m or m.end() >= len(out):
            return out
        out = out[m.end() :]


def _opens_with(text: str, words: frozenset[str]) -> bool:
    """The text's first word is one of `words` (the segmenter asked only when its first character may start one).
    A pronoun counts also where precise mode glues it to the next word (他须 of 他须支付……): the tagger splits it."""
    head = text.lstrip()[:1]
    if not head or not any(w.startswith(head) for w in words):
        return False
    if first_word(text) in words:
        return True
    word, tag = _first_tagged(text.lstrip())
    return tag == "r" and word in words


def _first_tagged(text: str) -> tuple[str, str]:
    """The text's first word and its jieba tag, read from its first 12 characters; ("", "") for none."""
    return (pos_tags(text[:12]) or [("", "")])[0]


# an adverb linking the sentence to the one before it (同时推进……): not cut from the item, as its sense is the item's
_LINKING_ADVERBS = frozenset({"同时"})


def connected(sentence: str) -> bool:
    """The sentence opens with a connective or a conjunction (同时，……; 为此，……; 但……) that `trim_start` cuts, or
    with a linking adverb (同时加强……), which it leaves."""
    text = sentence.strip()
    return bool(_CONNECTIVE.match(text) or _opening_conjunction(text) or first_word(text) in _LINKING_ADVERBS)


def past_linking_adverb(sentence: str) -> str:
    """The sentence past its linking adverb, if it opens with one (同时某区建成…… → 某区建成……)."""
    text = sentence.strip()
    word = first_word(text)
    return text[len(word) :] if word in _LINKING_ADVERBS else text


def _opening_conjunction(text: str):
    return re.match(rf"^\s*{first_word(text)}", text) if _opens_with(text, _OPENING_CONJUNCTIONS) else None


_SEGMENT = re.compile(r"^(\S+)\s+(?=\S)")
_LINE_MAX = 30  # a line laid out before a sentence with a space that is a heading, a caption or a label
# what counts a figure (个, 位, 万; not 年, 月, 日: a date after a space may open the report after a headline)
_MEASURE = (
    r"(?:[个位名人家件次户项处支场元万亿千百岁天周倍米吨辆台部条种批届枚座所间套张份%％]|小时|分钟|公里)"
)


# what a page leaves run into a sentence's start: a source tag (【某某新闻】此前……) or the tail of one whose opening
# bracket was cut off (某某】上周末……), a share bar (微信好友 QQ空间复制链接据……)
_RUN_IN_DEBRIS = re.compile(
    r"^\s*(?:[A-Z]{2,8}\s*[-–—－]\s*(?=[\u4e00-\u9fff])"  # a source's code (VGP - ……)
    r"|【?[^【\[\]】，,。；;：:！!？?\s]{1,12}】|(?:(?:微信好友|朋友圈|QQ空间|QQ好友|新浪微博|微博|微信)\s*){1,5}复制链接"
    r"|[图表]\s*\d{0,2}\s*[:：][^，,。；;！!？?\s]{1,30}\s+(?=\S)"  # a table's or figure's title (表：……十强城市 )
    r"|(?:关键词|关键字|标签|(?i:tags?))\s*[:：][^\s。！!？?]{1,60}\s+(?=\S))\s*"  # a page's keyword line
)


def _debris(text: str):
    run_in = _RUN_IN_DEBRIS.match(text) or _NUMBERED_HEADING.match(text) or _LIST_MARK.match(text)
    if run_in:
        return run_in
    m = _SEGMENT.match(text)
    if not m:
        return None
    piece = m.group(1)
    if open_quotation(piece):
        return None  # the space is a quoted name's own (同时结合“党建引领 助力千企”行动，……)
    if re.fullmatch(r"[（(【\[][^）)】\]]*[）)】\]]", piece) or _CHROME.search(piece) or _BYLINE.match(piece):
        return m
    if (
        not re.search(r"[，,。；;！!？?：:]", piece)
        and content_chars(piece) <= _LINE_MAX
        and _CJK.search(piece)
        and not _word_space(piece, text[m.end() :])
    ):
        return m
    if _run_in_headline(piece, text[m.end() :]):
        return m
    # a label ended by its colon, a space, then what it labels (获奖名单如下： 下列为……名单[4]： ……)
    label = without_footnotes(piece)
    if _LABEL_LINE.fullmatch(label) and _labels(label[:-1]):
        return m
    if re.fullmatch(r"[-–—•·*]", piece):
        return m  # a list's bullet
    if (
        re.fullmatch(r"[0-9０-９.%％]{1,6}", piece)
        and re.search(r"[0-9０-９]", piece)
        and re.match(r"(?![年月日])[\u3400-\u9fff]|\d{4}年", text[m.end() :])
    ):
        return m  # a stray number (a list mark 01, a table figure) left before the sentence
    if not re.search(r"[。！!？?]", piece) and re.match(r"\d{1,2}月\d{1,2}日", text[m.end() :]):
        return m  # a headline laid out before the report's dateline (…… 4月18日，……)
    wide = _WIDE_BREAK.match(text)
    line = wide.group(1) if wide else ""
    if (
        line
        and _CJK.search(line)
        and not re.search(r"[，,。；;！!？?]", line)
        and content_chars(line) <= _LINE_MAX
    ):
        return wide  # a heading or a label line (春节档的偏爱： “唐探”……成IP  过去的年味，……; 获奖名单如下：    ……)
    return None


_HEADLINE_CLAUSE_MAX = 12
_LABEL_LINE = re.compile(r"[^，,。；;！!？?\s：:]{0,29}[\u4e00-\u9fff][：:]")


def _labels(phrase: str) -> bool:
    """The phrase before a colon names what follows (其他方面, 应征报名对象, 获奖名单如下): it ends in a noun or in
    如下/以下, not in a verb (某某爆料了：, 某某表示：), where what follows is what was said."""
    word, tag = (pos_tags(phrase)[-1:] or [("", "")])[0]
    return word in ("如下", "以下") or (tag.startswith("n") and not re.search(SPEECH_VERBS, phrase))


def _run_in_headline(piece: str, rest: str) -> bool:
    """A headline of short clauses laid out before the report with a space (加强监管，安全平稳过年 今年春运，……;
    某某家属：不服，肯定要继续申诉 宣判后，……), not a sentence a stray space cuts (某某表示，全年 增长了5%。):
    no clause of it reports speech or runs long, and what follows is a sentence of clauses of its own."""
    if re.search(r"[。；;！!？?]", piece) or not balanced(piece) or not _CJK.match(piece[-1:]):
        return False
    clauses = [c for c in re.split(r"[，,：:]", piece) if c]
    return (
        content_chars(piece) <= _LINE_MAX
        and max(map(content_chars, clauses), default=0) <= _HEADLINE_CLAUSE_MAX
        and not any(re.search(SPEECH_VERBS, c) for c in clauses)
        and not _word_space(piece, rest)
        and bool(re.search(r"[，,：:].*[\u3400-\u9fff]", rest))
    )


def _word_space(before: str, after: str) -> bool:
    """The space sets off a Latin word or a model number inside the sentence (小米13 Pro, 电池和 iOS 16, 小米 13
    Pro): Chinese text spaces those, so it is no layout break (a year or a bare figure after it still may be)."""
    return bool(
        re.search(r"[A-Za-z0-9]$", before)
        or re.match(r"[A-Za-z]", after)
        or re.match(r"[0-9]+\s*[A-Za-z]", after)
        or re.match(r"[0-9]+[（(]", after)  # a model number and its gloss (某某模型 4（英语：……）)
        or re.match(r"[（(][A-Za-z0-9]", after)  # a name's or a date's gloss (议员兰比 (Jacqui Lambie) 与……)
        # a quantity typeset with spaces around its digits (在过去 12 个月中, 从 3.86 万元提高到……), unless what is
        # before it is itself the tail of a cut one (万元提高到 30.8 万元。)
        or (
            re.match(rf"[0-9]+(?:\.[0-9]+)?\s+{_MEASURE}", after) is not None
            and not re.match(_MEASURE, before)
        )
        or re.match(r"[0-9]+\s+[年月日]", after)  # a date typeset the same way (鉴于 2022 年流动性……)
    )


_GLOSS_END = re.compile(r"[（(][A-Za-z][^（）()]*[）)]$")
# a space between two characters of Chinese (or a closing and an opening mark): Chinese sets none inside a sentence
_CJK_SPACE = re.compile(
    r"(?<=[\u3400-\u9fff”）)》：:])[ \u3000\t]+(?=[\u3400-\u9fff“《（(]|\d{1,2}月\d{1,2}日)"
)


# particles that close a word or a clause (了, 的, 着, 地, 得, 们, 吗, 呢): none opens a sentence as a word of its own
_PARTICLES = frozenset({"了", "的", "着", "过", "地", "得", "们", "吗", "呢", "吧", "啊"})


def _title_line(sentence: str, least: int = 4) -> bool:
    """The line ends on the clause it opened with (某游戏都在哪些平台发售了，某游戏发售日期，某游戏都在哪些平台发售了。):
    a page's title and keywords, repeated for search engines; a report says nothing twice at both ends."""
    clauses = [c.strip() for c in re.split(r"[，,；;。！？!?]", sentence) if c.strip()]
    return (
        len(clauses) >= 3 and len(clauses[0]) >= least and clauses[0] == clauses[-1] and not _counts(sentence)
    )


def run_in(sentence: str) -> bool:
    """A line the page ran into the next with a space, inside the sentence once `trim_start` took the layout's
    debris off its front (……并为中国赢得了第九枚金牌 在短节目单元中，ROC……; 春节档的偏爱： ……沈腾是票房保障 过去的年味，
    是……): a heading or a caption glued to a report, or two cut sentences. Not inside a quotation or brackets
    (“党建引领 助力千企”), not a word's or a figure's space (`_word_space`), and only where what follows reads as a
    sentence of clauses up to the next mark ending one (……采取必要 措施确保……的安全。 is a stray space)."""
    for m in _CJK_SPACE.finditer(sentence):
        before, after = sentence[: m.start()], sentence[m.end() :]
        if open_quotation(before) or not balanced(re.sub(r"[“”]", "", before)) or _word_space(before, after):
            continue
        if _GLOSS_END.search(before):
            continue  # the space after a name's Latin gloss (议员兰比 (Jacqui Lambie) 与……)
        clause = re.split(r"[。！!？?；;]", after, maxsplit=1)[0]
        if re.search(r"[，,：:].*[\u3400-\u9fff]", clause):
            return True
    return False


def without_footnotes(text: str) -> str:
    """The text without an encyclopedia's footnote marks (……重要胜利[3]。), which shown in a pack would read as
    its own [n] citations, nor its maintenance marks and machine dates (……3月16日 (2022-03-16)[update]), which
    read as garbled."""
    return _WIKI_MARKS.sub("", _FOOTNOTE_MARKS.sub("", text))


# A word the source printed twice (街道街道网格党支部, 攻坚攻坚战) or a doubled 的 (管理的的小区). Not a reduplication a
# writer means: a doubled character (谢谢), a counted one (一项一项推动, 两个两个), 的的确确, 目的的 (达到目的的手段).
_DOUBLED_WORD = re.compile(
    r"(?![一二两三四五六七八九十几每各])((?P<a>[\u3400-\u9fff])(?!(?P=a))[\u3400-\u9fff]{1,3})\1(?=[\u3400-\u9fff])"
)
_DOUBLED_DE = re.compile(r"(?<!目)的(?=的(?!确))")
_COMMON_WORD = 20  # jieba's count: 街道 3824, 攻坚 265; 建共 of 构建共建共治 is no word


def undoubled(text: str) -> str:
    """The text with a word the source printed twice read once: a typo no reader should get as the pack's own.
    Only inside a phrase that runs on (街道街道网格): a word said twice at a phrase's end is emphasis (太多太多。,
    没事儿没事儿，); quoted speech and titles keep their words (“咱们商量商量”, 《菠萝菠萝蜜》). Only
    `PackItem.text` changes, never the quote it cites."""
    cuts = []
    for m in _DOUBLED_WORD.finditer(text):
        if not open_quotation(text[: m.start()]) and word_frequency(m.group(1)) >= _COMMON_WORD:
            cuts.append((m.start(), m.start() + len(m.group(1))))
    for start, end in reversed(cuts):
        text = text[:start] + text[end:]
    return _DOUBLED_DE.sub("", text)


def trim_offset(sentence: str, layout_only: bool = False) -> int:
    """How many characters `trim_start` removes from the front."""
    return len(sentence.rstrip()) - len(trim_start(sentence, layout_only))


_TURN = re.compile(r"(?:^|(?<=\s))(?:[问答]|[^，,。；;：:\s“”]{0,14}记者)\s*[:：]")


def turn_label(sentence: str) -> int | None:
    """Where the label of an interview's turn (问：, 答：, 某电视台记者：) starts in the debris `trim_start` removes,
    if it is there: an item holding a question and its answer keeps both labels, or the two read as one voice."""
    m = _TURN.search(sentence, 0, trim_offset(sentence, layout_only=True))
    return m.start() if m else None


def exclaims(sentence: str, most: int | None = None) -> bool:
    """The sentence ends in an exclamation mark (……偷吃3名嫩妹!, “……加油！”), within `most` characters of text."""
    text = trim_start(sentence)
    return bool(_EXCLAIMED.search(text)) and (most is None or content_chars(text) <= most)


def numbered(sentence: str) -> bool:
    """The sentence opens with a list item's number (2.北京……, （四）在……)."""
    return bool(_LIST_MARK.match(sentence))


def quotation(sentence: str) -> bool:
    """The sentence is wholly a quotation (“……。”): what someone said, which needs who said it."""
    s = trim_start(sentence)
    return bool(re.match(r"^[“「『\"]", s) and re.search(r"[”」』\"]$", s))


def opens_section(sentence: str) -> bool:
    """The sentence starts a new section with its label (四、总结：……, （二）工业持续壮大 党的十八大以来……), a
    heading or a dateline the page ran into it (某品牌保持市场第一 某品牌全年售出……; 本报讯 ……), or a new turn
    of an interview (问：……; 某电视台记者：……): an item does not run on into it."""
    text = sentence.strip()
    return bool(_LABEL.match(text) or _DATELINE.match(text) or _QA.match(text) or _debris(text))


# a list entry's label (上半年征兵：……; 议事规则委员会：……): what the entry is about, then its text
_ENTRY_LABEL = re.compile(r"^\s*([\u4e00-\u9fffA-Za-z0-9]{2,10})[：:]\s*\S")


def next_entry(sentence: str, held: str) -> bool:
    """The sentence opens the next entry of the list whose entry the held text opened (上半年征兵：……。 下半年征兵：
    ……): both open on a label, the two labels ending alike (the kind of thing each entry is). A flattened page may
    run two such lists together without their headings; an item holds one entry, never a run of them."""
    this, first = _ENTRY_LABEL.match(sentence), _ENTRY_LABEL.match(held)
    return bool(this and first and this.group(1)[-1] == first.group(1)[-1])


_LEADING_CLAUSE_MAX = 10


def _speaks_unnamed(text: str) -> bool:
    """我/我们/你们/咱们 as a word outside quotation marks and titles, with no one said to speak before it
    (某某表示，我……; 某某：我们……): the sentence before says who speaks."""
    if not re.search("[我你咱]", text):
        return False
    plain = re.sub(r"[“\"「『‘《][^”\"」』’》]*[”\"」』’》]", lambda m: "，" * len(m.group()), text)
    if re.search(r"[“”「」『』]", plain):
        return False  # a quotation opened before it or closed after it (……我们组织……作用。”某某说。)
    position = 0
    for word, _ in pos_tags(plain):
        if word in _SPEAKERS:
            return not _SPEECH.search(plain[:position])
        position += len(word)
    return False


_SPEAKERS = frozenset({"我", "我们", "你们", "咱们"})
SPEECH_VERBS = "说|表示|介绍|指出|称|透露|认为|坦言|强调|谈到|回忆"
_SPEECH = re.compile(f"{SPEECH_VERBS}|[：:]")


# one more speaker, or one set against the last (高军也认为，……; 井润成则表示，……; 发布会上，某某还介绍了……): the sentence
# before says whom and what they add to; so do those listed as attending what it named (……李强、赵乐际等参加。)
_ALSO_SAID = re.compile(
    rf"^(?:[^，,。]{{1,10}}[，,])?[^，,。：:“”]{{1,12}}?(?:也|则|还|亦|同样)(?:{SPEECH_VERBS})"
)
_ATTENDING = re.compile(
    r"(?:、[^，,。；;、]{1,12}|等)(?:参加|出席|陪同)(?:会见|会谈|活动|仪式|上述活动)?[。！]?[”」]?$"
)


# what the text said before, named as such anywhere in the sentence (前面已经提到过，……; ……，上文已经讲到，……)
_SAID_BEFORE = re.compile(r"(?:前面|上文|前文)(?:已经|已)?(?:提到|说到|讲到|所述)")
# a task, plan or measure named as this one (该任务共包含……; 此项工作): which one, only the sentence before says — a
# title names places and bodies (该街道 reads under it), not these
_THIS_UNDERTAKING = re.compile(
    r"(?:该|此)项?(?:任务|方案|项目|计划|工程|活动|模式|机制|制度|措施|政策|行动|平台|做法|举措|工作)"
)
# a preposition whose object points back (街道、社区两级党组织根据这一特点，……; 基于这一概念构建了……; 对此，……; 对于那时的某某来说;
# 在这之前，……); 此次活动 reads alone
_POINTING_OBJECT = re.compile(
    r"(?:根据|针对|围绕|结合|按照|基于|面对|鉴于|对于|对|凭借|借助|依托|依靠|通过|经过|在)(?:这|此|上述|那)(?!次)"
)


# 这一/上述/类似的 after a verb, a preposition or a conjunction points back (曾担任过这一职务, 在谈及这一问题时, 从上述
# 票房成绩, 也受到了类似的指控); after a noun, a quotation or 的 it is an apposition naming what it means (北京冬奥会这一
# 历史时刻, “国际陆港”这一……)
_REFERENCE = re.compile(r"这一(?![次年天刻时期])|这些|上述|(?:类似|同样|相同)的")
_REFERRING_AFTER = re.compile(r"^(?:v|p|c|t|d|l|u[lgz])")


def _points_back(text: str) -> bool:
    """The sentence's opening clauses refer to something by 这一/上述 that they do not name (……就曾担任过这一职务。):
    what it means is in the sentence before. Not when they name it before (……的官方口号时，某某表示这一口号; 针对新就业
    群体，……使这一“新群体”……), nor inside a quotation, which refers to its own words."""
    opening = _opening_clauses(_QUOTED.sub(lambda m: " " * len(m.group()), text))
    for m in _REFERENCE.finditer(opening):
        before = opening[: m.start()]
        if not before.strip() or not _REFERRING_AFTER.match(pos_tags(before)[-1][1]):
            continue
        quoted = re.match(r"[“‘\"「]([^”’\"」]{1,12})[”’\"」]", text[m.end() :])
        noun = quoted.group(1) if quoted else next(iter(pos_tags(text[m.end() : m.end() + 8])), ("",))[0]
        if len(noun) < 2 or noun[-2:] not in text[: m.start()]:  # its head (群体 of 新群体) named before
            return True
    return False


# a demonstrative with what it points at (该片, 该公司, 这部电影, 本期报告, 本作 of a game or a book, not 该作用): the
# sentence names it only through the one before, or a title
_DEMONSTRATIVE = re.compile(
    r"(?:该|此|本)(?:片|剧|书|期|款|机构|公司|影片|电影|报告|文件|方案|节目|赛事|球队|项目|届|次|作(?![用为出风业]))"
    r"|(?:这|那)一?(?:部(?!分)|支|位|款|项|种|场|家|名|届|片|剧|本|座|所|只)"
    r"|(?:我|本|全)(?:省|市(?!场)|县|州)"  # 全省, 我市 (not 全市场): which one, only a title says
    r"|本(?:场|节|轮|局|盘|赛季)(?![地面])"  # 本场比赛, 本节: of the match the text spoke of before
)
# a charter or a rule named as this one, anywhere in the sentence (……即被视为接受本章程。; 该规定自……起施行): a snippet
# is not the charter itself, so which one only a title says
_THIS_RULEBOOK = re.compile(r"(?:该|此|本)(?:章程|规定|办法|条例|细则|公约|协议)")
# an event named by its kind alone as the scene of the sentence or what someone attends (会议期间，……; 开幕式上，……;
# ……出席开幕式并致辞): the one the text spoke of before
_CEREMONIES = "会议|开幕式|闭幕式|峰会|典礼|仪式|颁奖礼|发布会|会谈|会见|会晤|论坛|大会"
_BARE_EVENT = re.compile(
    rf"^(?:在|于)?(?:会上|{_CEREMONIES}|比赛|赛事|决赛|活动|演习)(?:期间|上|中|现场|当天|结束后)?[，,]"
    # a ceremony attended (……出席开幕式并致辞); 参加活动 and 参加比赛 are what people do in general
    rf"|(?:出席|参加|主持)了?(?:{_CEREMONIES})(?![\u4e00-\u9fff]*?(?:的|之))"
)
# the two named before, as what acts in one of the first two clauses (2002年……冬奥会上，两人在双人滑中……)
_THE_TWO = re.compile(r"^(?:两人|二人|双方|二者|两者|全系)")  # (全系: every model of the series named)


# a body's members as what acts, the body unnamed (成员按内务委员会所定的规则选举产生。)
_BARE_MEMBERS = re.compile(r"^\s*(?:成员|组成人员|委员)(?:由|按|从|须|必须|包括|均|为)")
# a work, a match or a programme named by its kind alone as what acts (影片将于……上映; 游戏于……发行; 比赛于……开球)
_BARE_WORK = re.compile(
    r"^\s*(?:游戏|影片|电影|剧集|节目|歌曲|专辑|小说|新机|新车|车型|比赛|赛事|公司|球队)"
    r"(?:于|将|在|由|与|为|已|共|还|也|采用|搭载|讲述|获得|以)"
    # … or a person by a role alone (导演试图塑造……; 编剧表示……): which film's, the text before said
    r"|^\s*(?:导演|编剧|主演|作者|主教练)(?:试图|表示|称|说|透露|认为|坦言|希望|曾|还|也|则|将|把|对)"
)
# a document named by its kind alone as what acts (文件规定……, 根据方案，……): the one the text spoke of before
_BARE_DOCUMENT = re.compile(
    r"(?:^|[，,；;])(?:根据|按照|依据)?(?:文件|方案|报告|通知|意见|公告)(?:规定|提出|要求|明确|指出|显示|称|自|[，,])"
)


def demonstrative(sentence: str) -> bool:
    """The sentence refers to something by a demonstrative in its opening clauses (目前该片已定档……, 冯小刚表示接拍
    这部电影……, 该飞艇……, 此次事件中，……, 本届赛事……), to two named before (……冬奥会上，两人在……; 双方……), names a
    document or an event by its kind alone (……，文件规定对住院的新冠患者……; 开幕式上，……) or a charter as this one
    anywhere (……即被视为接受本章程。), a body by its members alone (成员按……规则选举产生。, of the committee named
    before), a work, a match or a programme by its kind alone (影片将于2022年上半年完成所有拍摄……; 游戏于2022年2月25日
    发行) or a person by a role alone (导演试图塑造……)."""
    text = trim_start(sentence)
    if any(_THE_TWO.match(clause.strip()) for clause in re.split(r"[，,]", text, maxsplit=2)[:2]):
        return True
    opening = _opening_clauses(text)
    return bool(
        _DEMONSTRATIVE.search(opening)
        or _THIS_RULEBOOK.search(text)
        or _BARE_DOCUMENT.search(text)
        or _BARE_EVENT.search(opening)
        or _BARE_MEMBERS.match(text)
        or _BARE_WORK.match(text)
        or _pronoun_before_noun(opening)
    )


def _contrasted(text: str) -> bool:
    """Its subject is set against one the sentence before told of (中场则以某队为班底……; 某某则无缘……; 纪念钞则于……
    发行): 则 as a word right after it, in the first clause (not 规则, 原则, 细则)."""
    first = re.split(r"[，,。；;：:]", text, maxsplit=1)[0][:14]
    return "则" in first and any(word == "则" for word, _ in pos_tags(first)[1:4])


_PAST_POST = re.compile(
    r"^\s*曾(?:任|担任|获得?|执导|参与|主演|出演)"
)  # 曾任……副总导演: whose post, the text before says


def _bare_edition(text: str) -> bool:
    """An edition of an event the sentence does not name (本届结束时，……; 前两届由……; not 本届世界杯……): the
    word after it acts (a verb, a preposition, an adverb or a conjunction), so the event is in the sentence before."""
    m = _EDITION.match(text)
    if not m:
        return False
    return _first_tagged(text[m.end() :])[1][:1] in ("v", "p", "d", "c")


def _pronoun_before_noun(clauses: str) -> bool:
    """该 or 此 as a pronoun before a noun, or a pronoun word made of it (该飞艇, 此次事件, 在该行的……假设下, 该区;
    not the modal 该 of 该怎么办 or 应该)."""
    if "该" not in clauses and "此" not in clauses:
        return False
    tags = pos_tags(clauses)
    return any(
        tag == "r" and word[0] in "该此" and (len(word) == 2 or after[1][:1] in ("n", "q"))
        for (word, tag), after in zip(tags, [*tags[1:], ("", "")])
    )


def _opening_clauses(text: str) -> str:
    """The sentence's first clause, and the next one too after a short leading one (在2月，……; 近年来，……)."""
    first, *rest = re.split(r"[，,]", text, maxsplit=2)
    # a number counts as one word (2022年9月10日至18日，这支球队……)
    short = content_chars(re.sub(r"\d+", "0", first)) <= _LEADING_CLAUSE_MAX
    return f"{first}，{rest[0]}" if rest and short else first


def anaphoric(sentence: str) -> bool:
    """The sentence leans on the one before it (这是……、此举……、其……、他们……、第三，……), also once an opening
    conjunction is trimmed (但这种……, 而他……), when its first clause acts on what the one before said (根据这一特点，
    基于这一概念, 对此) or refers to it (曾担任过这一职务, `_points_back`), or when a pronoun follows a short leading
    clause that names no one (经过激烈比赛，他……; not 张三回到家乡后，他……), or someone speaks whom it does not name
    (我们还要告诉大家……, 对于我来说，……; inside a quotation the words after it say who), speaks too or instead
    (某某也认为，……; 某某则表示，……), or is listed as attending what it does not name (……李强、赵乐际等参加。): it is
    only material together with it. So does a bare reason (因为……。 with no main clause after it), an edition
    of an event it does not name (本届结束时，……), a subject set against another (中场则以……), a post held with
    no one holding it (曾任……副总导演) or a task or plan named as this one (该任务共包含……).
    A demonstrative (该街道……) is not: the item's source title usually names it, and it often reads alone."""
    texts = (simplified(sentence), trim_start(sentence))
    if any(
        _ANAPHORA.match(t) or _ENUMERATED.match(t) or _PAST_POST.match(t) or _opens_with(t, _POINTING_WORDS)
        for t in texts
    ):
        return True
    if _BARE_REASON.match(texts[1]) or _bare_edition(texts[1]) or _contrasted(texts[1]):
        return True
    if _speaks_unnamed(texts[1]) or _ALSO_SAID.match(texts[1]) or _ATTENDING.search(texts[1]):
        return True
    if any(_POINTING_OBJECT.search(_opening_clauses(t)) for t in texts) or _points_back(texts[1]):
        return True
    if _THIS_UNDERTAKING.search(_opening_clauses(texts[1])) or _SAID_BEFORE.search(_QUOTED.sub("", texts[1])):
        return True
    lead, *rest = re.split(
        r"[，,]", texts[1], maxsplit=1
    )  # the first clause, at its first comma of either width
    return bool(
        rest
        and content_chars(lead) <= _LEADING_CLAUSE_MAX
        and _opens_with(rest[0], _POINTING_WORDS)
        and not named_units(lead)
        and not ner.entities(lead, ("PER", "LOC", "ORG"))
    )
