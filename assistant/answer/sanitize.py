"""Model output → plain text that is safe to show anywhere (our UI, chat clients rendering Markdown or HTML).

`strip_markup` is applied to everything a model writes that we release: answer sentences (llm.py) and
course-pack summaries (`LLMAnswerer.summarize`, or coursepack.py directly). Images go entirely (a Markdown image is
fetched by the client the moment it renders: an exfiltration channel), links keep their text and lose their
target, HTML tags and comments go (with the content of script/style), and so do bare URLs of any scheme and
reference-style link definitions (so `[text][ref]` has nothing to point to and stays plain). Citation markers such as `[1]` are kept, also when a model turns one into a
link (`[1](http://…)` → `[1]`).
"""

from __future__ import annotations

import re

_BLOCK_TAGS = re.compile(r"<(script|style|iframe|object|embed|svg|math)\b.*?(?:</\1\s*>|$)", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_IMAGE = re.compile(r"!\[[^\]\n]*\]\s*(?:\([^)\n]*\)?|\[[^\]\n]*\]?)")
# a link's target: up to the closing parenthesis, allowing one level of nested parentheses
_LINK = re.compile(r"\[([^\[\]\n]*)\]\s*\((?:[^()\n]|\([^()\n]*\))*\)?")
_REF_DEFINITION = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*\S.*$", re.M)
_TAG = re.compile(r"</?[A-Za-z][^<>]*(?:>|$)|<[!?][^<>]*(?:>|$)")
_URL = re.compile(r"\b(?:[a-z][a-z0-9+.\-]{1,31}):(?://)?[^\s<>\"'，。；！？、（）()\[\]【】]+", re.I)
_SPACES = re.compile(r"[ \t]{2,}")


def strip_markup(text: str) -> str:
    """Plain text from model output: no images, links, HTML or URLs; citation markers kept."""
    if not text:
        return text
    text = _BLOCK_TAGS.sub("", text)
    text = _COMMENT.sub("", text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(
        lambda m: m.group(1) if not m.group(1).strip().isdigit() else f"[{m.group(1).strip()}]", text
    )
    text = _REF_DEFINITION.sub("", text)
    text = _TAG.sub("", text)
    text = _URL.sub(_drop_url, text)
    return _SPACES.sub(" ", text)


def _drop_url(m: re.Match) -> str:
    scheme = m.group(0).split(":", 1)[0].lower()
    # "时间:2024" or "比例:3" are not URLs: only schemes that lead somewhere
    if scheme in (
        "http",
        "https",
        "ftp",
        "ftps",
        "javascript",
        "data",
        "vbscript",
        "file",
        "mailto",
        "tel",
        "sms",
        "blob",
        "ws",
        "wss",
    ):
        return ""
    if "//" in m.group(0)[: len(scheme) + 3]:
        return ""
    return m.group(0)
