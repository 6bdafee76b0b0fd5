"""Which chunks contain a string, without reading every chunk: an inverted index from characters to chunks.

A question holding a known phrase (“碧·有服务”), a name the answer checks the corpus for, or a follow-up's
subject needs the chunks whose text contains that string verbatim. Scanning every chunk made a question's
cost grow with the corpus; here the string's rarest characters pick the few candidate chunks, which are then
checked. Chunks live in slots (as in `lexical.BM25Index`); adding or removing a document costs O(that
document) and returns a new index, sharing what did not change, so readers of the old one are undisturbed.
"""

from __future__ import annotations

import re

import numpy as np

from .lexical import normalise, sorted_counts

_SPACE = re.compile(r"\s+")
NARROW_ENOUGH = 64  # candidates few enough to check directly rather than intersect further
ADD_BATCH = 4096  # chunks indexed at once (bounded memory on a full load)


def matching_text(text: str) -> str:
    """The copy of a chunk strings are matched against (`lexical.normalise`: NFKC, lower case)."""
    return normalise(text)


def without_space(text: str) -> str:
    return _SPACE.sub("", text)


_MARKS = re.compile(r"[\W_]+")  # punctuation and space of any script (CJK characters are word characters)


def without_marks(text: str) -> str:
    return _MARKS.sub("", text)


class ChunkTexts:
    """Matching text of every chunk by slot (None once removed) and, per character, the slots holding it."""

    def __init__(self) -> None:
        self.texts: list[str | None] = []
        self._chars: dict[str, np.ndarray] = {}  # character → ascending slots (dead ones included)
        self.size = 0

    @property
    def slots(self) -> int:
        return len(self.texts)

    def _copy(self) -> ChunkTexts:
        new = object.__new__(ChunkTexts)
        new.__dict__.update(self.__dict__)
        return new

    def added(self, texts: list[str]) -> ChunkTexts:
        """A new index with these matching texts in the next free slots."""
        parts = []
        for start in range(0, len(texts), ADD_BATCH):
            batch = texts[start : start + ADD_BATCH]
            codes = np.frombuffer("".join(batch).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            sizes = np.fromiter(map(len, batch), dtype=np.int64, count=len(batch))
            first = self.slots + start
            slots = np.repeat(np.arange(first, first + len(batch), dtype=np.int64), sizes)
            parts.append(sorted_counts((codes.astype(np.int64) << 32) | slots)[0])  # (character, slot) pairs
        new = self._copy()
        new.texts = self.texts + list(texts)
        new._chars = dict(self._chars)
        if parts:
            pairs = np.concatenate(parts)
            pairs = pairs[np.argsort(pairs >> 32, kind="stable")]  # by character, slots ascending
            chars = pairs >> 32
            bounds = [0, *(np.flatnonzero(np.diff(chars)) + 1).tolist(), len(pairs)]
            for lo, hi in zip(bounds, bounds[1:]):
                ch = chr(chars[lo])
                if ch.isspace():
                    continue
                fresh = (pairs[lo:hi] & 0xFFFFFFFF).astype(np.int32)
                old = new._chars.get(ch)
                new._chars[ch] = fresh if old is None else np.concatenate([old, fresh])
        new.size = self.size + len(texts)
        return new

    def removed(self, slots: list[int]) -> ChunkTexts:
        """A new index without these chunks (their character postings are filtered when read)."""
        new = self._copy()
        new.texts = list(self.texts)
        for slot in slots:
            if new.texts[slot] is not None:
                new.texts[slot] = None
                new.size -= 1
        return new

    def _candidates(self, chars: set[str]) -> np.ndarray:
        postings = []
        for ch in chars:
            slots = self._chars.get(ch)
            if slots is None:
                return np.zeros(0, dtype=np.int32)
            postings.append(slots)
        postings.sort(key=len)
        found = postings[0]
        for slots in postings[1:]:
            if len(found) <= NARROW_ENOUGH:
                break
            found = np.intersect1d(found, slots, assume_unique=True)
        return found

    def containing(self, needle: str, ignore_space: bool = False) -> list[int]:
        """Ascending live slots whose matching text contains `needle` (already normalised); with
        `ignore_space`, as if all whitespace were removed from the text (and from `needle`)."""
        if ignore_space:
            needle = without_space(needle)
        chars = {ch for ch in needle if not ch.isspace()}
        if not chars:
            return []
        out = []
        for slot in self._candidates(chars).tolist():
            text = self.texts[slot]
            if text is None:
                continue
            if needle in (without_space(text) if ignore_space else text):
                out.append(slot)
        return out

    def any_containing(self, needle: str, ignore_marks: bool = False) -> bool:
        """Some live chunk contains `needle` (normalised); with `ignore_marks`, as if punctuation and whitespace
        were removed from both (执法敢执法 in 执法、敢执法: a quotation typed from memory)."""
        if ignore_marks:
            needle = without_marks(needle)
        chars = {ch for ch in needle if not ch.isspace()}
        if not chars:
            return False
        return any(
            (text := self.texts[slot]) is not None
            and needle in (without_marks(text) if ignore_marks else text)
            for slot in self._candidates(chars).tolist()
        )
