"""Where a sentence ends: the one definition the splitter, the cleaner and the course-pack rules share.

A sentence ends after a run of 。！？!?… and any closing quotation marks or brackets after it (”’」』）)》"').
`.` never ends one (3.5%, 3.2 万). Modules that need more or less than a sentence end build on these sets
and say why where they do: a line may also end a paragraph at ：；:; (`ENDS_PARAGRAPH`: `corpus`, `parsers`), and what a
spoken line or a question ends with is looked for inside quotation marks only (`coursepack_text`).
"""

from __future__ import annotations

import re

END_MARKS = "。！？!?…"
CLOSERS = "”’」』）)》\"'"  # closing quotation marks and brackets that stay with the sentence they close
QUOTE_CLOSERS = "”’」』"  # the closing quotation marks alone

SENTENCE_END = re.compile(f"[{END_MARKS}]+[{CLOSERS}]*")
ENDS_SENTENCE = re.compile(f"{SENTENCE_END.pattern}$")  # the text ends a sentence (search it)
# a line that ends a paragraph: a sentence end, or a colon or semicolon (before a list) (search it)
ENDS_PARAGRAPH = re.compile(f"[{END_MARKS}：:；;]+[{CLOSERS}]*$")
# what trails a sentence or clause: its end marks or a clause mark (，；), then closers; empty when none
TRAILING_PUNCTUATION = re.compile(f"[{END_MARKS}；;，,]*[{CLOSERS}]*$")
# where a page lost the words between two pieces of a broken sentence (`corpus`): said in the text, so a reader of the
# cited sentence sees the source's gap for what it is (an ellipsis read as our own cut), and the sentence ends there;
# no course-pack item holds it (`coursepack_text`: readers still found it garbled)
LOST = "（原文此处缺字）。"
