"""Typos and variant characters in questions, corrected against the words the corpus actually uses.

Cadres type by pinyin: 榔梨 for 㮾梨, 红风湖 for 红枫湖, 街到 for 街道, 党总支付书记 for 党总支副书记. A run of
three Chinese characters of the question that never occurs in the corpus, but becomes a run the corpus does use
by changing ONE character to another with the same toneless pinyin, is taken as that run (`MIN_SPAN`). Names the corpus
never mentions stay as typed (they have no homophone in it), so out-of-scope questions are not "corrected"
into in-scope ones. The index follows each commit with the texts it added and removed (`changed`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import lazy_pinyin

from .lexical import data_pairs, simplified, word_at, word_frequency

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
N = 3
MIN_SPAN = 4  # a correction must make a run of at least this many characters the corpus writes
# a typo ending a term the corpus writes whole (新增了多少公共停车味 → 公共停车位, 养老服务驿站食唐 → 食堂): the run up to
# and through it is a corpus run this long
BACK_SPAN = 5
# … or the whole of a three-character run (a keyword between spaces or figures: 花圆村53号 → 花园村). One corpus
# 3-gram through the typo suffices when the corpus writes on from it this far (观山湖璧海社区的 → 碧海社区的: the
# question left out the 区 of 观山湖区, so the 3-gram before the typo is new)
LONE_LINK_SPAN = 6
# a question ending in who/what-is-it-called words: what precedes them is a name or role written whole, so a typo in
# its last character is corrected as a course-pack topic's is (党支部书计叫啥名字 → 书记)
_ASKING_WHO = re.compile(r"(?:是谁|是哪个|是哪位|叫啥名字|叫什么名字|叫啥|叫什么|姓啥|姓什么)[啊呀哦呢吖]?$")
# … or a place's name: a 3-gram the corpus writes that ends in a place word, or that one follows (武当区每个村 → 乌当区,
# 观山胡社区 → 观山湖): the name ends there, so the user's own words after it need not be the corpus's
_PLACE_END = re.compile(r"^(?:社区|街道|[区县市镇乡村州])")
_OPENING = frozenset('“"「『《‘')
_CLOSING = frozenset('”"」』》’')
# the question words, never a typo of a corpus word
_QUESTION_WORDS = re.compile(
    r"哪些|哪个|哪里|哪儿|哪位|哪家|哪年|哪天|什么|多少|几个|怎么|怎样|为什么|为啥|咋|谁"
)
# a character left out of a keyword (述职评议会 → 述职评议大会) is put back in runs of this many characters: a shorter
# one is often a compound of the user's own (发布时间, not the corpus's 发布会时间)
DROPPED_RUN = (5, 8)
# the place words a two-character place name is written before (清镇市, 乌当区, 贵州省)
_STEM_ENDS = "省市县区镇乡州"
# typed right: a place word is never the typo (毕节市的 stays, not 毕节似的)
_PLACE_WORD_CHARS = frozenset("社区街道省县市镇乡村州")
# jieba's count above which a character is a common word of its own (是 796,991, 去 123,402, 想 61,904; 九 8,003)
FUNCTION_WORD = 50_000


# pinyin sent before the input method turned it into characters, inside a Chinese word (yun岩区, hb干部, dgw书记):
# lowercase, as the input method shows it (capitals are acronyms: GDP, NBA), of up to three characters
_PINYIN_RUN = re.compile(r"(?<![A-Za-z])[a-z]{1,6}(?![A-Za-z])")
_HAN_BEFORE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{1,2}$")
_HAN_AFTER = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]{1,2}")
# each pinyin run reads every 3-gram of the corpus: a question of many is read for its first ones only
MAX_PINYIN_RUNS = 3
# a year said digit by digit (二零二零年, 二〇二一年: voice input writes it so), which documents write 2020年
_SPOKEN_YEAR = re.compile(r"[零〇一二三四五六七八九]{4}(?=年)")
_DIGIT = str.maketrans("零〇一二三四五六七八九", "00123456789")


@lru_cache(maxsize=1)
def _shortforms() -> tuple[tuple[str, str], ...]:
    return tuple(data_pairs("shortforms.txt"))


@dataclass(frozen=True)
class Correction:
    typed: str
    meant: str


def _grams(texts):
    for text in texts:
        for run in _HAN.findall(text):
            yield from (run[i : i + N] for i in range(len(run) - N + 1))


def _gram_counts(added, removed) -> Counter[str]:
    counts = Counter(_grams(added))
    counts.subtract(Counter(_grams(removed)))
    return counts


# the sounds input methods let a user confuse (模糊音, on by default for many southern users): z/zh, c/ch, s/sh,
# n/l initials; en/eng, in/ing, an/ang finals
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("l", "n"))
_FUZZY_FINALS = (("eng", "en"), ("ing", "in"), ("ang", "an"))


@lru_cache(maxsize=4096)
def fuzzy_sounds(syllable: str) -> tuple[str, ...]:
    """The syllable and those an input method's fuzzy pinyin takes it for (san: san, shan, sang, shang)."""
    initials = {syllable}
    for a, b in _FUZZY_INITIALS:
        if syllable.startswith(a):
            initials.add(b + syllable[len(a) :])
            break
        if syllable.startswith(b) and b != "n" and b != "l":
            initials.add(a + syllable[len(b) :])
            break
    out = set(initials)
    for s in initials:
        for a, b in _FUZZY_FINALS:
            if s.endswith(a):
                out.add(s[: -len(a)] + b)
            elif s.endswith(b):
                out.add(s + a[len(b) :])
    return tuple(sorted(out, key=lambda x: (x != syllable, x)))


class SpellingIndex:
    """Character 3-grams of the corpus (counted, so a removed text takes away only what no other text uses),
    and the same 3-grams keyed by toneless pinyin. `changed` returns a new index sharing the pinyin cache."""

    def __init__(self, texts=()):
        self.grams: Counter[str] = Counter()
        self._pinyin: dict[str, str] = {}
        self.by_sound: dict[tuple[str, ...], list[str]] = {}
        self._after_two: dict[str, set[str]] | None = None
        self._chars: frozenset[str] | None = None
        self._apply(_gram_counts(texts, ()))

    def changed(self, added=(), removed=()) -> SpellingIndex:
        """A new index with the 3-grams of `added` texts counted in and those of `removed` texts out."""
        new = object.__new__(SpellingIndex)
        new.grams = Counter(self.grams)
        new._pinyin = self._pinyin
        new._after_two = None
        new._chars = None
        new.by_sound = dict(self.by_sound)
        new._apply(_gram_counts(added, removed))
        return new

    def _apply(self, delta: Counter[str]) -> None:
        for gram, d in delta.items():
            before = self.grams.get(gram, 0)
            after = before + d
            if after > 0:
                self.grams[gram] = after
            else:
                self.grams.pop(gram, None)
            key = self.sound(gram) if (before > 0) != (after > 0) else None
            if key is None:
                continue
            if after > 0:
                self.by_sound[key] = [*self.by_sound.get(key, ()), gram]
            else:
                rest = [g for g in self.by_sound.get(key, ()) if g != gram]
                if rest:
                    self.by_sound[key] = rest
                else:
                    self.by_sound.pop(key, None)

    def sound(self, text: str) -> tuple[str, ...]:
        out = []
        for ch in text:
            p = self._pinyin.get(ch)
            if p is None:
                p = self._pinyin[ch] = lazy_pinyin(ch)[0]
            out.append(p)
        return tuple(out)

    def _covered(self, run: str) -> list[bool]:
        """Which characters of `run` lie inside some 3-gram the corpus uses."""
        cover = [False] * len(run)
        for i in range(len(run) - N + 1):
            if run[i : i + N] in self.grams:
                cover[i : i + N] = [True] * N
        return cover

    def _span_at(self, run: str, j: int, back: bool = False) -> int:
        """Length of the longest chain of corpus 3-grams from a 3-gram holding position j on; `back`: also before
        it (a chain that ends at j, as one for a term's last character does)."""
        best, i = 0, max(0, j - N + 1)
        while i <= min(j, len(run) - N):
            if run[i : i + N] not in self.grams:
                i += 1
                continue
            first, k = i, i
            while back and first > 0 and run[first - 1 : first - 1 + N] in self.grams:
                first -= 1
            while k + 1 <= len(run) - N and run[k + 1 : k + 1 + N] in self.grams:
                k += 1
            best = max(best, k + N - first)
            i = k + 1
        return best

    def _substitutes(self, run: str, j: int) -> set[str]:
        """Characters sounding like run[j] (or as input methods' fuzzy pinyin hears it: 观三湖 → 观山湖) that the corpus
        uses in a 3-gram with run[j]'s neighbours, or in a two-character place name with its neighbour (轻镇 → 清镇,
        which the corpus writes before 市)."""
        out = set()
        grams = [(i, run[i : i + N]) for i in range(max(0, j - N + 1), min(j, len(run) - N) + 1)]
        grams += [(k, run[k : k + 2] + end) for k in self._stem_starts(run, j) for end in _STEM_ENDS]
        for i, gram in grams:
            sounds = self.sound(gram)
            at = j - i
            for heard in fuzzy_sounds(sounds[at]):
                for g in self.by_sound.get((*sounds[:at], heard, *sounds[at + 1 :]), ()):
                    if all(a == b for k, (a, b) in enumerate(zip(g, gram)) if k != at) and g[at] != run[j]:
                        out.add(g[at])
        return out

    @staticmethod
    def _stem_starts(run: str, j: int) -> list[int]:
        return [k for k in (j - 1, j) if k >= 0 and k + 2 <= len(run)]

    def _a_word_at(self, run: str, j: int) -> bool:
        return any(word_frequency(run[k : k + 2]) for k in self._stem_starts(run, j))

    def _place_stem(self, run: str, j: int) -> int:
        """How often the corpus writes a two-character name holding run[j] before a place word (清镇市)."""
        return max(
            (
                sum(self.grams.get(run[k : k + 2] + end, 0) for end in _STEM_ENDS)
                for k in self._stem_starts(run, j)
            ),
            default=0,
        )

    def _fix_run(self, run: str, term: bool = False) -> str:
        cover = self._covered(run)
        for m in _QUESTION_WORDS.finditer(run):  # typed as meant (哪些中国…, not 哪谢中国 of 感谢中国)
            cover[m.start() : m.end()] = [True] * (m.end() - m.start())
        fixed = run
        for j, ch in enumerate(run):
            if cover[j]:
                continue
            windows = range(max(0, j - N + 1), min(j, len(run) - N) + 1)
            best = (0, 0, 0, "")
            place = (0, "")  # (how often the corpus writes the place name it makes, substitute)
            for c in sorted(self._substitutes(fixed, j)):
                candidate = fixed[:j] + c + fixed[j + 1 :]
                links = sum(candidate[i : i + N] in self.grams for i in windows)
                span = self._span_at(candidate, j, back=term)
                if links >= min(2, len(windows)) or span >= LONE_LINK_SPAN:
                    if not term and self._ends_a_written_run(fixed, candidate, j):
                        span = max(span, MIN_SPAN)
                    written = max((self.grams.get(candidate[i : i + N], 0) for i in windows), default=0)
                    best = max(best, (span, links, written, c))
                if ch not in _PLACE_WORD_CHARS:
                    named = [
                        self.grams[candidate[i : i + N]] for i in windows if self._names_place(candidate, i)
                    ]
                    if not self._place_stem(fixed, j) and not self._a_word_at(fixed, j):
                        # 轻镇红枫湖: 清镇 is the corpus's place, 轻镇 none and no word (清真 is one)
                        named.append(self._place_stem(candidate, j))
                    place = max(place, (max(named, default=0), c))
            if best[0] >= MIN_SPAN or (len(run) == N and best[0] == N):
                fixed = self._unless_meant(fixed, j, best[-1])
            elif place[0]:
                fixed = self._unless_meant(fixed, j, place[1])
        return fixed

    def _ends_a_written_run(self, run: str, candidate: str, j: int) -> bool:
        """The substitute ends a run the corpus writes whole (多少公共停车味 → 公共停车位), and the typed character is no
        part of a word of its own (举办国 stays though a corpus writes 举办过; 到社区报道 stays)."""
        typed = word_at(run, j)
        return self._span_at(candidate, j, back=True) >= BACK_SPAN and not (
            len(typed) > 1 and word_frequency(typed)
        )

    def _unless_meant(self, run: str, j: int, substitute: str) -> str:
        """run with run[j] replaced by `substitute`, unless the user meant what he typed: a character inside a word
        of his the corpus writes (书记 of 社区书记示范, not 书级), or a common word of its own (去, 是, 想) where the
        substitute makes no word either (党员去排查, not 党员区排查; 街到 → 街道 and 林安还 → 林安海 stay corrections)."""
        candidate = run[:j] + substitute + run[j + 1 :]
        typed = word_at(run, j)
        if len(typed) >= 2 and self._writes(typed):
            return run
        if len(typed) == 1 and word_frequency(typed) >= FUNCTION_WORD and len(word_at(candidate, j)) == 1:
            return run
        return candidate

    def _next_chars(self) -> dict[str, set[str]]:
        """The characters the corpus writes after each two (built on first use, per index)."""
        if self._after_two is None:
            after: dict[str, set[str]] = {}
            for gram in self.grams:
                after.setdefault(gram[:2], set()).add(gram[2])
            self._after_two = after
        return self._after_two

    def _written_chars(self) -> frozenset[str]:
        """The characters the corpus writes (built on first use, per index)."""
        if self._chars is None:
            self._chars = frozenset(ch for gram in self.grams for ch in gram)
        return self._chars

    def _as_the_corpus_writes(self, question: str) -> str:
        """A character typed in its traditional form (黨, 網格, 觀山湖區, 什麼) read as the simplified one when the corpus
        never writes it: a corpus in traditional characters keeps the question as typed, and a character both forms
        share (干, 面) is never touched. Character for character (`simplified`)."""
        plain = simplified(question)
        if plain == question or len(plain) != len(question):
            return question
        chars = self._written_chars()
        return "".join(s if t != s and t not in chars else t for t, s in zip(question, plain))

    def _restore_dropped(self, run: str) -> str:
        """A keyword with a character left out, put back (述职评议会 → 述职评议大会): the corpus never writes the run as
        typed but writes all of it with one more character. Within a sentence a run is the user's own words (建了,
        闹矛盾), which the corpus need not write whole, so only a run of a keyword's length (`DROPPED_RUN`) is read
        so."""
        if not DROPPED_RUN[0] <= len(run) <= DROPPED_RUN[1] or self._writes(run):
            return run
        for j in range(2, len(run)):
            for c in sorted(self._next_chars().get(run[j - 2 : j], ())):
                candidate = run[:j] + c + run[j:]
                if self._writes(candidate):
                    return candidate
        return run

    def _names_place(self, run: str, i: int) -> bool:
        """run[i:i+3] is a 3-gram the corpus writes that ends a place's name (乌当区, 观山湖 before 社区)."""
        gram = run[i : i + N]
        if gram not in self.grams or _PLACE_END.match(gram[1:]) or gram[-1] in "社街":  # 元社区, 似的社 + 区
            return False
        return bool(_PLACE_END.match(gram[-1]) or _PLACE_END.match(run[i + N :]))

    def corrections(self, question: str, term: bool = False) -> list[Correction]:
        found = []
        for m in _HAN.finditer(question):
            run = m.group(0)
            # a quoted name (“骑手红峰”) is a term the corpus writes whole, a typo in its last characters too
            quoted = (
                question[m.start() - 1 : m.start()] in _OPENING
                and question[m.end() : m.end() + 1] in _CLOSING
            )
            asking = None if term or quoted else _ASKING_WHO.search(run)
            if asking and asking.start() >= N:  # 党支部书计叫啥: the words before it are a term, typo last
                new = self._fix_run(run[: asking.start()], term=True) + asking.group(0)
            else:
                new = self._fix_run(run, term or quoted)
            new = self._restore_dropped(new)
            if new != run:
                found.append(Correction(run, new))
        return found

    def _readings(self, latin: str) -> list[tuple[tuple[str, ...], bool]]:
        """How a run of pinyin may be read: as syllables the corpus's characters have (yun), exactly; as initials
        (hb: h…, b…), each the start of one."""
        syllables = set(self._pinyin.values())
        split: dict[int, tuple[str, ...]] = {0: ()}
        for end in range(1, len(latin) + 1):
            for start in range(max(0, end - 6), end):
                if start in split and latin[start:end] in syllables and len(split[start]) < 2:
                    split.setdefault(end, (*split[start], latin[start:end]))
        readings = [(split[len(latin)], True)] if len(latin) in split else []
        if len(latin) <= N:
            readings.append((tuple(latin), False))
        return readings

    def _pinyin_at(self, latin: str, before: str, after: str) -> str:
        """The characters the corpus writes between `before` and `after` that `latin` spells, best chained into
        the corpus's 3-grams around them (more often written on a tie); "" when none. Read as syllables, they must
        chain with a character around them (yun岩区: 云岩区); read as initials, with two, and no other reading may
        chain as far (hb干部: 后备干部 alone; xx社区 could be 线下社区, 乡下社区 …: left as typed)."""
        found: list[tuple[int, int, str]] = []
        for sounds, exact in self._readings(latin):
            n = len(sounds)
            places = [(0, after[: N - n])] if len(after) >= N - n else []
            if len(before) >= N - n and n < N:
                places.append((N - n, before[len(before) - (N - n) :]))
            spelled: dict[str, tuple[int, int, str]] = {}
            for gram, count in self.grams.items():
                for at, context in places:  # where the spelled characters sit in the 3-gram
                    chars = gram[:n] if at == 0 else gram[at:]
                    if (gram[n:] if at == 0 else gram[:at]) != context:
                        continue
                    heard = self.sound(chars)
                    if all(h == s if exact else h.startswith(s) for h, s in zip(heard, sounds)):
                        span = self._span_at(before + chars + after, len(before))
                        spelled[chars] = max(spelled.get(chars, (0, 0, "")), (span, count, chars))
            ranked = sorted(spelled.values(), reverse=True)
            if exact and ranked and ranked[0][0] > n:
                found.append(ranked[0])
            elif ranked and ranked[0][0] >= n + 2 and (len(ranked) == 1 or ranked[1][0] < ranked[0][0]):
                found.append(ranked[0])
        return max(found, default=(0, 0, ""))[2]

    def _spelled_pinyin(self, question: str) -> str:
        """`question` with pinyin typed inside a Chinese word as the characters it spells (yun岩区 → 云岩区)."""
        for m in reversed(list(_PINYIN_RUN.finditer(question))[:MAX_PINYIN_RUNS]):
            before = _HAN_BEFORE.search(question[: m.start()])
            after = _HAN_AFTER.search(question[m.end() :])
            if (not before and not after) or len(set(m.group(0))) == 1:
                continue  # xx社区 is a placeholder, not pinyin
            chars = self._pinyin_at(
                m.group(0), before.group(0) if before else "", after.group(0) if after else ""
            )
            if chars:
                question = question[: m.start()] + chars + question[m.end() :]
        return question

    def correct(self, question: str, term: bool = False) -> str:
        """`question` with its traditional characters, typos, pinyin and spoken years (二零二零年) replaced by what
        the corpus writes (unchanged when nothing matches), and its short forms (规上) by the full ones the corpus
        writes instead (规模以上, `data/shortforms.txt`).

        `term`: the text is a term the corpus writes whole (a course-pack topic), so a typo in its last characters
        is corrected as one in its first is (党建品排 → 党建品牌). A question's run often ends in a word the corpus
        never writes after it (2023年亚洲杯举办国 is no typo of 举办过), so there the chain must start at the typo."""
        question = _SPOKEN_YEAR.sub(lambda m: m.group(0).translate(_DIGIT), question)
        question = self._spelled_pinyin(self._as_the_corpus_writes(question))
        for short, full in _shortforms():
            if short in question and self._writes(full) and not self._writes(short):
                question = question.replace(short, full)
        for c in self.corrections(question, term):
            question = question.replace(c.typed, c.meant)
        return question

    def _writes(self, text: str) -> bool:
        """Whether the corpus writes `text` (of two characters or more), as far as its 3-grams tell."""
        if len(text) >= N:
            return all(text[i : i + N] in self.grams for i in range(len(text) - N + 1))
        return any(text in g for g in self.grams)
