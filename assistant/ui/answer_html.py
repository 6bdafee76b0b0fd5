"""A conversation and a cited source as HTML: pure functions, state in, escaped HTML out (`render_source` reads
the document it shows). Offsets slice the stored text, never a search."""

import logging
import time

from ..answer.citations import MARKER, REFUSAL_PREFIX
from ..errors import INTERNAL_ERROR, NotFound
from ..service import Assistant
from ..sources import source_place_date, source_title
from .common import esc, int_or_error, user_message

log = logging.getLogger(__name__)


def render_chat(turns: list[dict]) -> str:
    if not turns:
        return (
            '<div class="qa-empty"><p class="qa-empty-lead">请在下方输入问题，例如某项工作的做法、成效数据或典型案例。</p>'
            '<p class="qa-empty-note">回答只依据已收录的文档；资料中没有的内容会明确告知“资料中未找到”。'
            "支持追问，例如“那它的具体做法呢？”</p></div>"
        )
    return '<div class="qa-log">' + "".join(_render_turn(i, t) for i, t in enumerate(turns)) + "</div>"


def render_examples(examples: list[str]) -> str:
    if not examples:
        return ""
    items = "".join(
        f'<button type="button" class="qa-example" data-example="{esc(q)}">{esc(q)}</button>'
        for q in examples
    )
    return f'<div class="qa-examples-box"><p class="qa-empty-lead">可以这样问：</p><div class="qa-examples">{items}</div></div>'


def _render_turn(index: int, turn: dict) -> str:
    user = f'<div class="qa-user"><div class="qa-bubble">{esc(turn["question"])}</div></div>'
    return f'<div class="qa-turn" data-turn="{index}">{user}{_render_answer(turn)}</div>'


def _render_answer(turn: dict) -> str:
    state = turn.get("state")
    if state == "error":
        return (
            f'<div class="qa-answer qa-error" data-state="error"><div class="qa-badge">出错了</div>'
            f'<div class="qa-text">{esc(turn.get("error") or INTERNAL_ERROR)}</div></div>'
        )
    if state == "streaming":
        text = turn.get("answer", "")
        body = esc(text) if text else '<span class="qa-thinking">正在检索资料…</span>'
        return (
            f'<div class="qa-answer" data-state="streaming"><div class="qa-text">{body}'
            '<span class="qa-caret"></span></div></div>'
        )
    grounded = bool(turn.get("grounded")) and not turn["answer"].startswith(REFUSAL_PREFIX)
    citations = turn.get("citations", [])
    by_n = {c["n"]: c for c in citations}
    classes = "qa-answer" + ("" if grounded else " qa-refusal")
    parts = [f'<div class="{classes}" data-state="done" data-grounded="{str(grounded).lower()}">']
    if not grounded:
        parts.append('<div class="qa-badge">资料中未找到答案</div>')
    text = turn["answer"] if grounded or not citations else _refusal_lead(turn["answer"])
    parts.append(f'<div class="qa-text">{_linkify(text, by_n)}</div>')
    if turn.get("warning"):
        parts.append(f'<div class="qa-warning">注意：{esc(turn["warning"])}</div>')
    if turn.get("understood"):
        parts.append(f'<div class="qa-note">结合上文，理解为：{esc(turn["understood"])}</div>')
    if citations and grounded:
        items = "".join(_render_reference(c) for c in citations)
        parts.append(f'<div class="qa-refs"><div class="qa-refs-title">参考资料</div><ol>{items}</ol></div>')
    elif citations:
        parts.append(_render_nearest(citations))
    parts.append(
        '<div class="qa-actions"><button type="button" class="qa-copy" data-copy="1">复制答案和参考资料'
        f'</button></div><textarea class="qa-copy-src" hidden readonly>{esc(turn.get("copy", ""))}</textarea>'
    )
    parts.append("</div>")
    return "".join(parts)


def _cite_attrs(c: dict) -> str:
    return (
        f'data-cite="1" data-n="{int(c["n"])}" data-doc="{esc(c["doc_id"])}" '
        f'data-start="{int(c["start"])}" data-end="{int(c["end"])}"'
    )


def _linkify(text: str, by_n: dict[int, dict]) -> str:
    """Escape the answer and turn each [n] that has a citation into a button opening the source."""
    out, last = [], 0
    for m in MARKER.finditer(text):
        out.append(esc(text[last : m.start()]))
        c = by_n.get(int(m.group(1)))
        if c:
            out.append(
                f'<button type="button" class="qa-cite" {_cite_attrs(c)} '
                f'title="查看原文：{esc(c["title"])}">[{int(c["n"])}]</button>'
            )
        else:
            out.append(esc(m.group(0)))
        last = m.end()
    out.append(esc(text[last:]))
    return "".join(out)


def _render_reference(c: dict) -> str:
    return (
        f'<li><button type="button" class="qa-ref" {_cite_attrs(c)}>'
        f'<span class="qa-ref-n">[{int(c["n"])}]</span>'
        f'<span class="qa-ref-title">《{esc(source_title(c))}》</span>{_place_and_date(c)}'
        f'<span class="qa-ref-quote">“{esc(c["quote"])}”</span></button></li>'
    )


def _place_and_date(doc: dict) -> str:
    """地区，日期 of a document, when known (the stored file names are internal and never shown)."""
    meta = source_place_date(doc)
    return f'<span class="qa-ref-meta">{esc(meta)}</span>' if meta else ""


def _refusal_lead(text: str) -> str:
    """A refusal's own words, without the list of nearest passages it may append (shown below, grouped)."""
    cut = text.find("以下是")
    return text[:cut].rstrip() if cut > 0 else text


def _render_nearest(citations: list[dict]) -> str:
    """A refusal's nearest passages: one entry per document, each distinct passage once. A <details> that
    static/chat.js opens on wide screens and leaves collapsed on phones (a refusal must not fill the screen)."""
    docs: dict[str, dict] = {}
    for c in citations:
        doc = docs.setdefault(c["doc_id"], {"first": c, "passages": [], "quotes": set()})
        if c["quote"] not in doc["quotes"]:
            doc["quotes"].add(c["quote"])
            doc["passages"].append(c)
    items = []
    for doc in docs.values():
        first = doc["first"]
        passages = "".join(
            f'<li><button type="button" class="qa-ref" {_cite_attrs(c)}>'
            f'<span class="qa-ref-n">[{int(c["n"])}]</span><span class="qa-ref-quote">“{esc(c["quote"])}”</span>'
            "</button></li>"
            for c in doc["passages"]
        )
        items.append(
            f'<li class="qa-near-doc"><div class="qa-near-title"><span class="qa-ref-title">《{esc(source_title(first))}》'
            f"</span>{_place_and_date(first)}</div><ol>{passages}</ol></li>"
        )
    n_passages = sum(len(d["passages"]) for d in docs.values())
    return (
        '<details class="qa-refs qa-near"><summary class="qa-refs-title">最接近的段落（仅供参考，不能直接回答该问题）'
        f'<span class="qa-near-count">{len(docs)} 篇文档 · {n_passages} 段</span></summary>'
        f'<ol class="qa-near-docs">{"".join(items)}</ol></details>'
    )


def render_source(assistant: Assistant, target: dict) -> str:
    """The cited document with the quoted span in <mark>; offsets slice the stored text, never a search."""
    try:
        doc_id = str(target.get("doc_id", ""))
        start, end, n = (
            int_or_error(target.get(k, 0), "引用信息不完整，无法定位原文。") for k in ("start", "end", "n")
        )
        doc = assistant.document(doc_id)
    except NotFound:
        return _source_message("这篇文档已从知识库中删除，无法显示原文；请重新提问以获得最新的出处。")
    except Exception as exc:
        return _source_message(user_message(exc, "open source"))
    text = doc.text
    if not 0 <= start < end <= len(text):
        return _source_message("引用位置超出了文档范围：文档可能已更新，请重新提问。")
    meta = [f"<span>{esc(v)}</span>" for v in (doc.region, doc.date) if v]
    meta.append(f"<span>引文位于第 {start}–{end} 字</span>")
    label = f"[{n}] " if n else ""
    return (
        f'<div class="qa-source" data-doc="{esc(doc_id)}" data-nonce="{time.monotonic_ns()}">'
        f'<div class="qa-source-head"><span>原文 {label}</span>'
        '<button type="button" class="qa-back" data-back="1">返回对话</button></div>'
        f'<div class="qa-source-title">《{esc(source_title(doc))}》</div>'
        f'<div class="qa-source-meta">{" · ".join(meta)}</div>'
        f'<div class="qa-source-body">{esc(text[:start])}<mark class="qa-quote">{esc(text[start:end])}</mark>'
        f"{esc(text[end:])}</div></div>"
    )


def _source_message(message: str) -> str:
    return (
        f'<div class="qa-source qa-source-empty" data-nonce="{time.monotonic_ns()}">'
        f'<div class="qa-source-head">原文</div><p class="qa-error-text">{esc(message)}</p></div>'
    )
