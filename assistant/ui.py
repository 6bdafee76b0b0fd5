"""Gradio UI for cadres, mounted at `/` of the API app: 问答 (chat with clickable citations) and 文档 (documents).

Thin layer: every handler calls one `Assistant` method and renders HTML. Everything is served by this
process (system fonts, no CDN, analytics off). A tab is one function `fn(ctx: UiContext)` listed in `TABS`.
"""

import functools
import hmac
import html
import json
import logging
import re
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path

import gradio as gr

from .answer.citations import REFUSAL_PREFIX, Answer, references_block
from .errors import INTERNAL_ERROR, AssistantError, DuplicateDocument, NotFound, PayloadTooLarge
from .parsers import SUPPORTED_LIST
from .service import MAX_QUESTION_CHARS, Assistant
from .sources import source_place_date, source_title

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")

# Shown on the empty chat page when the current index can answer them (checked once per index generation).
EXAMPLE_CANDIDATES = [
    "哪个社区推行了碧·有服务？",
    "青龙山街道是哪一天挂牌成立的？",
    "安顺市的智慧社区平台给群众办事带来了什么变化？",
    "社区食堂为老年人提供了哪些优惠？",
    "㮾梨街道怎样开展网格化管理？",
]
MAX_EXAMPLES = 4
STREAM_INTERVAL_S = 0.05

_SYSTEM_FONTS = [
    "PingFang SC",
    "Hiragino Sans GB",
    "Microsoft YaHei",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
]
_MONO_FONTS = ["SFMono-Regular", "Consolas", "Noto Sans Mono CJK SC", "WenQuanYi Micro Hei Mono"]


def ui_theme() -> gr.themes.Base:
    """Default look with system fonts only: Gradio's stock fonts would be fetched (Google Fonts / static)."""
    return gr.themes.Default(
        primary_hue="red",
        secondary_hue="orange",
        neutral_hue="slate",
        font=[gr.themes.Font(f) for f in _SYSTEM_FONTS] + ["system-ui", "sans-serif"],
        font_mono=[gr.themes.Font(f) for f in _MONO_FONTS] + ["monospace"],
    )


def ui_css() -> str:
    return (STATIC_DIR / "ui.css").read_text(encoding="utf-8")


def static_js(name: str) -> str:
    """A script from static/ for a component's `js_on_load` (Gradio runs it with `element`, `trigger`, `watch`)."""
    return (STATIC_DIR / name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- context and composition


@dataclass
class UiContext:
    """What a tab needs: the assistant, the page (for `blocks.load`) and the shared status bar.

    Refresh `status` after changing documents: other tabs listen to `status.change`.
    """

    assistant: Assistant
    blocks: gr.Blocks
    status: gr.HTML

    def on_load(self, fn: Callable, outputs) -> None:
        """Run `fn` on every page load (fresh per browser session), hidden from Gradio's API listing."""
        self.blocks.load(fn, None, outputs, show_progress="hidden", api_visibility="private")

    def status_html(self) -> str:
        return render_status(self.assistant)


@dataclass(frozen=True)
class View:
    """A tab's components by name, returned by its builder. Handlers return `{component: value}` for what they
    change (the rest stays as it is), never positional tuples."""

    def outputs(self) -> list:
        return [getattr(self, f.name) for f in fields(self)]


# --------------------------------------------------------------------------- errors, shown once


def user_message(exc: Exception, doing: str) -> str:
    """What the page says about an error: an `AssistantError`'s own Chinese message; anything else is a bug,
    logged with its traceback, and the page says only INTERNAL_ERROR."""
    if isinstance(exc, AssistantError):
        return exc.message
    log.error("%s failed", doing, exc_info=exc)
    return INTERNAL_ERROR


def shows_errors(target: gr.Component, doing: str, reset: Callable[[], dict] | None = None):
    """Decorator for an event handler that returns `{component: value}`: an error becomes a notice in `target`
    (plus what `reset()` returns, e.g. closing a dialog) instead of Gradio's generic error toast."""

    def wrap(fn):
        @functools.wraps(fn)  # Gradio reads the handler's signature (EventData, Progress) through __wrapped__
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                return {**(reset() if reset else {}), target: _notice(user_message(exc, doing), "error")}

        return run

    return wrap


def build_ui(assistant: Assistant) -> gr.Blocks:
    """The whole page: status bar, then one tab per entry of `TABS`."""
    with gr.Blocks(title="政策问答助手", analytics_enabled=False) as ui:
        gr.HTML(
            '<h1 class="qa-title">政策问答助手</h1>'
            '<p class="qa-subtitle">基于已收录政策文件作答，每句标注出处，点击 [n] 查看原文</p>',
            js_on_load=None,
            elem_id="qa-header",
            apply_default_css=False,
        )
        status = gr.HTML(value="", elem_id="qa-status", js_on_load=None, apply_default_css=False)
        ctx = UiContext(assistant, ui, status)
        with gr.Tabs(elem_id="qa-tabs"):
            for label, tab_id, build_tab in TABS:
                with gr.Tab(label, id=tab_id, elem_id=f"qa-tab-{tab_id}") as tab:
                    build_tab(ctx)
                tab.select(ctx.status_html, outputs=status, show_progress="hidden", api_visibility="private")
        ctx.on_load(ctx.status_html, status)
    return ui


def mount_ui(app, assistant: Assistant):
    """Mount the UI at `/` (after every API route). With ASSISTANT_API_KEYS set, the UI asks for a key too."""
    keys = list(assistant.settings.api_keys)
    auth = None
    if keys:

        def auth(username: str, password: str) -> bool:
            return any(hmac.compare_digest(password.encode(), k.encode()) for k in keys)

    ui = build_ui(assistant)
    mounted = gr.mount_gradio_app(
        app,
        ui,
        path="/",
        theme=ui_theme(),
        css=ui_css(),
        head=_HEAD,
        auth=auth,
        auth_message="本系统已启用访问密钥：用户名可任意填写，密码请输入管理员提供的访问密钥（ASSISTANT_API_KEYS 中的任一个）。",
        footer_links=[],
        run_history=False,
        show_error=False,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        max_file_size=upload_limit_bytes(assistant),  # per file, enforced while /gradio_api/upload streams
    )
    # Gradio checks that a file handed to an event was uploaded through its own route (inside its cache dir)
    # only once the app "has launched", which a mounted app never does: without this, a client could name any
    # server file in a FileData `path`. `_uploaded_path` checks again before a file is read.
    ui.has_launched = True
    return mounted


def upload_limit_bytes(assistant: Assistant) -> int:
    return int(assistant.settings.max_upload_mb * 1024 * 1024)


# Page-level rules that Gradio's scoping of `css=` cannot reach (they style elements outside `.contain`).
_HEAD = (
    '<meta name="format-detection" content="telephone=no">'
    "<style>@media (max-width: 640px) { .gradio-container .main.app "
    "{ padding-left: 8px !important; padding-right: 8px !important; } }</style>"
)


# --------------------------------------------------------------------------- status


def render_status(assistant: Assistant) -> str:
    try:
        h = assistant.health()
    except Exception as exc:
        return f'<div class="qa-status qa-status-error">索引不可用：{_e(user_message(exc, "health"))}</div>'
    # plain words for the reader; the technical details sit behind the 技术信息 tooltip
    if h.get("mode") == "llm":
        how, mode = "大模型撰写，逐句核对出处", f"大模型 {assistant.settings.llm_model}"
        if h.get("llm_reachable") is False:
            how, mode = "摘录原文（大模型暂时连不上）", mode + "（当前无法连接，回答退回抽取式）"
    else:
        how, mode = "摘录原文", "抽取式（不调用大模型）"
    chips = [f"已收录 <b>{h['documents']}</b> 篇文档"]
    updated = _last_update(assistant)
    if updated:
        chips.append(f"更新时间 <b>{_e(updated)}</b>")
    chips.append(f"回答方式 <b>{_e(how)}</b>")
    details = f"{h['chunks']} 个片段 · 嵌入模型 {h.get('embedder', '')} · 模式 {mode} · 索引版本 {h.get('generation', '')}"
    warn = ""
    if h.get("status") not in (None, "ok") and h.get("detail"):
        warn = f'<span class="qa-chip qa-chip-warn">{_e(h["detail"])}</span>'
    # the generation changes with every commit, so `status.change` fires whenever the index does
    return (
        f'<div class="qa-status" data-generation="{_e(h.get("generation", ""))}">'
        + "".join(f'<span class="qa-chip">{c}</span>' for c in chips)
        + warn
        + f'<span class="qa-chip qa-chip-info" tabindex="0" role="note" data-tip="{_e(details)}" '
        f'aria-label="技术信息：{_e(details)}">技术信息</span>' + "</div>"
    )


def _last_update(assistant: Assistant) -> str:
    """When a document was last added, in local time ("" when the index is empty or unreadable)."""
    try:
        stamps = [d.get("added_at") or "" for d in assistant.documents()]
    except Exception:
        log.exception("document list unavailable")
        return ""
    return _local_time(max(stamps)) if any(stamps) else ""


# --------------------------------------------------------------------------- chat tab

CHAT_JS = static_js("chat.js")

# Example questions live in their own component, filled on page load: a late load event must never
# overwrite a conversation that has already started (CSS hides the box once the chat has a turn).
EXAMPLES_JS = static_js("examples.js")

SOURCE_JS = static_js("source.js")

SOURCE_PLACEHOLDER = (
    '<div class="qa-source qa-source-empty"><div class="qa-source-head">原文</div>'
    '<p>点击答案中的 <span class="qa-cite-sample">[1]</span> 或下方参考资料，'
    "这里会显示原文，并高亮被引用的句子。</p></div>"
)


@dataclass(frozen=True)
class ChatView(View):
    chat: gr.HTML
    turns: gr.State
    question: gr.Textbox
    send: gr.Button
    source: gr.HTML  # a new question clears it


def _chat_tab(ctx: UiContext) -> ChatView:
    assistant = ctx.assistant
    examples = _ExampleCache(assistant)
    turns = gr.State([])
    with gr.Row(equal_height=False, elem_id="qa-main"):
        with gr.Column(scale=3, min_width=300, elem_id="qa-chat-col"):
            chat = gr.HTML(
                value=render_chat([]), elem_id="qa-chat", js_on_load=CHAT_JS, apply_default_css=False
            )
            # checked against the index on page load, not at start-up
            example_box = gr.HTML(
                value="", elem_id="qa-examples", js_on_load=EXAMPLES_JS, apply_default_css=False
            )
            with gr.Row(elem_id="qa-input-row", equal_height=True):
                question = gr.Textbox(
                    placeholder="请输入问题，按回车发送",
                    show_label=False,
                    lines=1,
                    max_lines=4,
                    scale=5,
                    min_width=160,
                    elem_id="qa-question",
                    container=False,
                    max_length=MAX_QUESTION_CHARS,
                )
                send = gr.Button("发送", variant="primary", scale=0, min_width=72, elem_id="qa-send")
            with gr.Row(elem_id="qa-chat-actions"):
                clear = gr.Button(
                    "清空对话", size="sm", variant="secondary", scale=0, min_width=96, elem_id="qa-clear"
                )
        with gr.Column(scale=2, min_width=300, elem_id="qa-source-col"):
            source = gr.HTML(
                value=SOURCE_PLACEHOLDER, elem_id="qa-source", js_on_load=SOURCE_JS, apply_default_css=False
            )
    view = ChatView(chat, turns, question, send, source)

    def ask(text, history_turns, evt: gr.EventData):
        if getattr(evt.target, "elem_id", None) == "qa-examples":  # an example question was clicked
            text = (evt._data or {}).get("question", "")
        yield from _ask_stream(assistant, view, text, history_turns)

    def open_source(evt: gr.EventData):
        return render_source(assistant, evt._data)

    def clear_chat():
        return {turns: [], chat: render_chat([]), source: SOURCE_PLACEHOLDER, question: ""}

    ctx.on_load(lambda: render_examples(examples.get()), example_box)
    ctx.status.change(
        lambda: render_examples(examples.get()),
        None,
        example_box,
        show_progress="hidden",
        api_visibility="private",
    )
    common = {"show_progress": "hidden", "api_visibility": "private", "concurrency_limit": None}
    # one listener for every way of asking: while an answer streams, further asks are ignored ("once"),
    # so two streams never race to write the conversation state
    gr.on(
        [question.submit, send.click, example_box.submit],
        ask,
        [question, turns],
        view.outputs(),
        trigger_mode="once",
        **common,
    )
    chat.select(open_source, None, source, **common)
    clear.click(clear_chat, None, [turns, chat, source, question], **common)
    return view


def _ask_stream(assistant: Assistant, view: ChatView, text, history_turns: list[dict]):
    """Yield the chat's changes as the answer streams in; what the user types meanwhile is kept."""
    question = (text or "").strip()
    turns = list(history_turns or [])
    if not question:
        gr.Warning("请输入问题后再发送。")
        yield {view.chat: render_chat(turns), view.turns: turns, view.send: gr.update(interactive=True)}
        return
    history = _history(turns)
    turn = {"question": question, "answer": "", "state": "streaming"}
    turns.append(turn)
    # the previous answer's document gives way: the panel waits for a click on this answer's sources
    yield {
        view.chat: render_chat(turns),
        view.turns: turns,
        view.question: "",
        view.send: gr.update(interactive=False),
        view.source: SOURCE_PLACEHOLDER,
    }
    last_render = time.monotonic()
    try:
        for piece in assistant.ask_stream(question, history=history):
            if isinstance(piece, Answer):
                turn.update(_finished_turn(piece, question, _places_and_dates(assistant)))
            else:
                turn["answer"] += piece
                # pieces that arrive together are shown together: at most ~20 re-renders a second
                if time.monotonic() - last_render >= STREAM_INTERVAL_S:
                    last_render = time.monotonic()
                    yield {view.chat: render_chat(turns), view.turns: turns}
    except Exception as exc:
        turn.update(state="error", answer="", error=user_message(exc, "ask"))
    if turn["state"] == "streaming":
        turn.update(state="error", error=INTERNAL_ERROR)
    yield {view.chat: render_chat(turns), view.turns: turns, view.send: gr.update(interactive=True)}


def _places_and_dates(assistant: Assistant) -> dict[str, dict]:
    """doc_id → {"region", "date"}: what a reference shows besides its title (never the stored file name)."""
    try:
        docs = assistant.snapshot.documents
    except Exception:
        log.exception("snapshot unavailable")
        return {}
    return {
        doc_id: {"region": d.get("region") or "", "date": d.get("date") or ""} for doc_id, d in docs.items()
    }


def _finished_turn(result: Answer, question: str, places: dict[str, dict] | None = None) -> dict:
    citations = [c.to_dict() for c in result.citations]
    for c in citations:
        c.pop("text", None)  # the whole chunk is not displayed; keep the session state small
        c.update((places or {}).get(c["doc_id"], {}))
    return {
        "state": "done",
        "answer": result.answer,
        "grounded": result.grounded,
        "mode": result.mode,
        "citations": citations,
        "warning": result.warning or "",
        # how a follow-up was understood, said only when it is a sentence (LLM mode rewrites it into a standalone
        # question; the extractive search terms are not for reading)
        "understood": result.query
        if result.mode == "llm" and result.query and result.query != question
        else "",
        "copy": result.answer + references_block(result.citations),
    }


def _history(turns: list[dict]) -> list[dict]:
    """Finished turns as chat messages for `ask_stream` (failed turns are left out)."""
    out = []
    for t in turns:
        if t.get("state") == "done":
            out += [{"role": "user", "content": t["question"]}, {"role": "assistant", "content": t["answer"]}]
    return out


class _ExampleCache:
    """Example questions the current index answers (not refuses); recomputed when the index changes.

    Checked with retrieval plus the extractive answerer, so LLM mode spends no model calls on it.
    """

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self._lock = threading.Lock()
        self._generation = None
        self._examples: list[str] = []

    def get(self) -> list[str]:
        try:
            generation = self.assistant.snapshot.generation
        except Exception:
            log.exception("snapshot unavailable")
            return []
        with self._lock:
            if generation != self._generation:
                self._examples = self._answerable()
                self._generation = generation
            return list(self._examples)

    def _answerable(self) -> list[str]:
        found = []
        for q in EXAMPLE_CANDIDATES:
            try:
                if self.assistant.extractive_answer(q, self.assistant.search(q)).grounded:
                    found.append(q)
            except Exception:
                log.exception("example check failed: %s", q)
            if len(found) >= MAX_EXAMPLES:
                break
        return found


# ---- rendering (pure functions: state in, escaped HTML out)

_MARKER = re.compile(r"\[(\d{1,2})\]")


def _e(text) -> str:
    return html.escape(str(text if text is not None else ""), quote=True)


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
        f'<button type="button" class="qa-example" data-example="{_e(q)}">{_e(q)}</button>' for q in examples
    )
    return f'<div class="qa-examples-box"><p class="qa-empty-lead">可以这样问：</p><div class="qa-examples">{items}</div></div>'


def _render_turn(index: int, turn: dict) -> str:
    user = f'<div class="qa-user"><div class="qa-bubble">{_e(turn["question"])}</div></div>'
    return f'<div class="qa-turn" data-turn="{index}">{user}{_render_answer(turn)}</div>'


def _render_answer(turn: dict) -> str:
    state = turn.get("state")
    if state == "error":
        return (
            f'<div class="qa-answer qa-error" data-state="error"><div class="qa-badge">出错了</div>'
            f'<div class="qa-text">{_e(turn.get("error") or INTERNAL_ERROR)}</div></div>'
        )
    if state == "streaming":
        text = turn.get("answer", "")
        body = _e(text) if text else '<span class="qa-thinking">正在检索资料…</span>'
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
        parts.append(f'<div class="qa-warning">注意：{_e(turn["warning"])}</div>')
    if turn.get("understood"):
        parts.append(f'<div class="qa-note">结合上文，理解为：{_e(turn["understood"])}</div>')
    if citations and grounded:
        items = "".join(_render_reference(c) for c in citations)
        parts.append(f'<div class="qa-refs"><div class="qa-refs-title">参考资料</div><ol>{items}</ol></div>')
    elif citations:
        parts.append(_render_nearest(citations))
    parts.append(
        '<div class="qa-actions"><button type="button" class="qa-copy" data-copy="1">复制答案和参考资料'
        f'</button></div><textarea class="qa-copy-src" hidden readonly>{_e(turn.get("copy", ""))}</textarea>'
    )
    parts.append("</div>")
    return "".join(parts)


def _cite_attrs(c: dict) -> str:
    return (
        f'data-cite="1" data-n="{int(c["n"])}" data-doc="{_e(c["doc_id"])}" '
        f'data-start="{int(c["start"])}" data-end="{int(c["end"])}"'
    )


def _linkify(text: str, by_n: dict[int, dict]) -> str:
    """Escape the answer and turn each [n] that has a citation into a button opening the source."""
    out, last = [], 0
    for m in _MARKER.finditer(text):
        out.append(_e(text[last : m.start()]))
        c = by_n.get(int(m.group(1)))
        if c:
            out.append(
                f'<button type="button" class="qa-cite" {_cite_attrs(c)} '
                f'title="查看原文：{_e(c["title"])}">[{int(c["n"])}]</button>'
            )
        else:
            out.append(_e(m.group(0)))
        last = m.end()
    out.append(_e(text[last:]))
    return "".join(out)


def _render_reference(c: dict) -> str:
    return (
        f'<li><button type="button" class="qa-ref" {_cite_attrs(c)}>'
        f'<span class="qa-ref-n">[{int(c["n"])}]</span>'
        f'<span class="qa-ref-title">《{_e(source_title(c))}》</span>{_place_and_date(c)}'
        f'<span class="qa-ref-quote">“{_e(c["quote"])}”</span></button></li>'
    )


def _place_and_date(doc: dict) -> str:
    """地区，日期 of a document, when known (the stored file names are internal and never shown)."""
    meta = source_place_date(doc)
    return f'<span class="qa-ref-meta">{_e(meta)}</span>' if meta else ""


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
            f'<span class="qa-ref-n">[{int(c["n"])}]</span><span class="qa-ref-quote">“{_e(c["quote"])}”</span>'
            "</button></li>"
            for c in doc["passages"]
        )
        items.append(
            f'<li class="qa-near-doc"><div class="qa-near-title"><span class="qa-ref-title">《{_e(source_title(first))}》'
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
            _int(target.get(k, 0), "引用信息不完整，无法定位原文。") for k in ("start", "end", "n")
        )
        doc = assistant.document(doc_id)
    except NotFound:
        return _source_message("这篇文档已从知识库中删除，无法显示原文；请重新提问以获得最新的出处。")
    except Exception as exc:
        return _source_message(user_message(exc, "open source"))
    text = doc["text"]
    if not 0 <= start < end <= len(text):
        return _source_message("引用位置超出了文档范围：文档可能已更新，请重新提问。")
    meta = [f"<span>{_e(doc[k])}</span>" for k in ("region", "date") if doc.get(k)]
    meta.append(f"<span>引文位于第 {start}–{end} 字</span>")
    label = f"[{n}] " if n else ""
    return (
        f'<div class="qa-source" data-doc="{_e(doc_id)}" data-nonce="{time.monotonic_ns()}">'
        f'<div class="qa-source-head"><span>原文 {label}</span>'
        '<button type="button" class="qa-back" data-back="1">返回对话</button></div>'
        f'<div class="qa-source-title">《{_e(doc.get("title", ""))}》</div>'
        f'<div class="qa-source-meta">{" · ".join(meta)}</div>'
        f'<div class="qa-source-body">{_e(text[:start])}<mark class="qa-quote">{_e(text[start:end])}</mark>'
        f"{_e(text[end:])}</div></div>"
    )


def _int(value, message: str) -> int:
    """An integer from the page, or an `AssistantError` saying what was wrong."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise AssistantError(message) from None


def _source_message(message: str) -> str:
    return (
        f'<div class="qa-source qa-source-empty" data-nonce="{time.monotonic_ns()}">'
        f'<div class="qa-source-head">原文</div><p class="qa-error-text">{_e(message)}</p></div>'
    )


# --------------------------------------------------------------------------- documents tab

DOCS_JS = static_js("documents.js")


@dataclass(frozen=True)
class DocumentsView(View):
    files: gr.File
    upload_result: gr.HTML
    pending_delete: gr.State
    confirm_box: gr.Group
    confirm_text: gr.HTML
    delete_result: gr.HTML
    listing: gr.HTML


def _documents_tab(ctx: UiContext) -> DocumentsView:
    assistant = ctx.assistant
    pending_delete = gr.State("")
    with gr.Column(elem_id="qa-docs"):
        gr.HTML(
            f'<h3 class="qa-section">上传文档</h3><p class="qa-hint">支持 {SUPPORTED_LIST}（扫描件自动文字识别），可一次选择多个文件；'
            f"单个文件不超过 {assistant.settings.max_upload_mb:g} MB。上传后立即编入索引，问答页即可检索到。</p>",
            js_on_load=None,
        )
        files = gr.File(file_count="multiple", type="filepath", label="选择文件", elem_id="qa-upload-files")
        upload = gr.Button("上传并编入索引", variant="primary", elem_id="qa-upload")
        upload_result = gr.HTML("", elem_id="qa-upload-result", js_on_load=None)
        gr.HTML('<h3 class="qa-section">已收录的文档</h3>', js_on_load=None)
        with gr.Group(visible=False, elem_id="qa-confirm") as confirm_box:
            confirm_text = gr.HTML("", js_on_load=None)
            with gr.Row():
                confirm = gr.Button("确认删除", variant="stop", elem_id="qa-confirm-delete", min_width=100)
                cancel = gr.Button("取消", variant="secondary", elem_id="qa-cancel-delete", min_width=100)
        delete_result = gr.HTML("", elem_id="qa-delete-result", js_on_load=None)
        listing = gr.HTML(value="", elem_id="qa-doc-list", js_on_load=DOCS_JS, apply_default_css=False)
    view = DocumentsView(
        files, upload_result, pending_delete, confirm_box, confirm_text, delete_result, listing
    )

    def closed() -> dict:
        """The delete dialog closed, the list and status bar as they are now."""
        return {
            pending_delete: "",
            confirm_box: gr.update(visible=False),
            listing: render_documents(assistant),
            ctx.status: ctx.status_html(),
        }

    def do_upload(paths, progress=gr.Progress()):
        results = _upload_files(assistant, paths or [], progress, ctx.blocks)
        return {
            upload_result: render_upload_results(results),
            files: None,
            listing: render_documents(assistant),
            ctx.status: ctx.status_html(),
        }

    @shows_errors(
        delete_result,
        "open delete dialog",
        reset=lambda: {pending_delete: "", confirm_box: gr.update(visible=False)},
    )
    def ask_delete(evt: gr.EventData):
        doc_id = str(evt._data.get("doc_id", ""))
        doc = assistant.document(doc_id)
        text = (
            f'<div class="qa-confirm-text">确定要删除《{_e(doc["title"])}》吗？'
            f"将同时从文档目录和索引中移除（{int(doc.get('chunks', 0))} 个片段），此操作不能撤销。</div>"
        )
        return {
            pending_delete: doc_id,
            confirm_box: gr.update(visible=True),
            confirm_text: text,
            delete_result: "",
        }

    @shows_errors(delete_result, "delete", reset=closed)
    def do_delete(doc_id):
        if not doc_id:
            raise AssistantError("请先在列表中点击要删除的文档。")
        title = assistant.document(doc_id)["title"]
        assistant.remove_document(doc_id)
        return {**closed(), delete_result: _notice(f"已删除《{title}》，问答将不再引用它。", "ok")}

    def cancel_delete():
        return {
            pending_delete: "",
            confirm_box: gr.update(visible=False),
            delete_result: _notice("已取消删除。", "info"),
        }

    private = {"api_visibility": "private"}
    upload.click(
        do_upload,
        files,
        [upload_result, files, listing, ctx.status],
        show_progress="full",
        show_progress_on=[files],  # over the chosen files, which stay visible while they are indexed
        **private,
    )
    listing.select(
        ask_delete,
        None,
        [pending_delete, confirm_box, confirm_text, delete_result],
        show_progress="hidden",
        **private,
    )
    confirm.click(
        do_delete,
        pending_delete,
        [pending_delete, confirm_box, delete_result, listing, ctx.status],
        **private,
    )
    cancel.click(
        cancel_delete, None, [pending_delete, confirm_box, delete_result], show_progress="hidden", **private
    )
    # the status bar is refreshed on page load, tab switch and every change: keep the list in step with it
    ctx.status.change(lambda: render_documents(assistant), None, listing, show_progress="hidden", **private)
    return view


@dataclass
class FileOutcome:
    name: str
    outcome: str  # added | duplicate | rejected
    message: str


def _uploaded_path(path, blocks: gr.Blocks | None, limit: int) -> Path:
    """The file, if this server's Gradio upload route stored it in its cache dir (a regular file, no link,
    within the size limit); else a Chinese error that says nothing about the path (not even if it exists)."""
    from gradio.utils import get_upload_folder, is_in_or_equal

    refused = AssistantError("只能编入通过本页面上传的文件：请用“选择文件”重新上传。")
    raw = Path(str(path))
    cache = Path(get_upload_folder()).resolve()
    try:
        real = raw.resolve(strict=True)
    except (OSError, RuntimeError):
        raise refused from None
    uploaded = {str(Path(p).resolve()) for p in (getattr(blocks, "upload_file_set", None) or ())}
    if (
        raw.is_symlink()
        or not is_in_or_equal(str(real), str(cache))
        or (blocks is not None and str(real) not in uploaded)
        or not real.is_file()
    ):
        raise refused
    if real.stat().st_size > limit:
        raise PayloadTooLarge(
            f"文件过大（{real.stat().st_size / 1048576:.1f} MB）：上限为 {limit / 1048576:g} MB，请拆分后上传。"
        )
    return real


def _forget_upload(path: Path, blocks: gr.Blocks | None) -> None:
    """An upload is used once: its cached copy is deleted after indexing (corpus/ keeps the document)."""
    for p in list(getattr(blocks, "upload_file_set", None) or ()):
        if Path(p).resolve() == path:
            blocks.upload_file_set.discard(p)
    path.unlink(missing_ok=True)


def _upload_files(
    assistant: Assistant, paths: list, progress: Callable, blocks: gr.Blocks | None = None
) -> list[FileOutcome]:
    results = []
    total = len(paths)
    limit = int(assistant.settings.max_upload_mb * 1024 * 1024)
    for i, path in enumerate(paths):
        name = Path(str(path)).name
        progress(i / max(total, 1), desc=f"正在处理 {name}（第 {i + 1}/{total} 个）")

        def on_chunks(done: int, chunks: int, i=i, name=name):
            frac = (i + (done / chunks if chunks else 1)) / total
            progress(frac, desc=f"正在编入索引 {name}：{done}/{chunks} 个片段")

        try:
            path = _uploaded_path(path, blocks, limit)
            assistant.check_upload(name, path.stat().st_size)
            data = path.read_bytes()
            _forget_upload(path, blocks)

            def on_pages(done: int, pages: int, i=i, name=name):
                progress(i / max(total, 1), desc=f"正在识别扫描件 {name}：第 {done}/{pages} 页")

            meta = {"source": name}
            prepared = assistant.parse_upload(name, data, meta, ocr_progress=on_pages)
            entry = assistant.add_document(name, data, meta, progress=on_chunks, prepared=prepared)
            results.append(
                FileOutcome(name, "added", f"已编入索引：《{entry['title']}》，{entry['chunks']} 个片段")
            )
        except DuplicateDocument as exc:
            results.append(FileOutcome(name, "duplicate", exc.message))
        except OSError as exc:
            results.append(
                FileOutcome(name, "rejected", f"无法读取上传的文件：{exc.strerror or exc}。请重新上传。")
            )
        except Exception as exc:
            results.append(FileOutcome(name, "rejected", user_message(exc, f"upload of {name}")))
    if total:
        progress(1.0, desc="完成")
    return results


_OUTCOME_LABEL = {"added": "已添加", "duplicate": "重复，未添加", "rejected": "未通过"}


def render_upload_results(results: list[FileOutcome]) -> str:
    if not results:
        return _notice("请先选择要上传的文件。", "error")
    rows = "".join(
        f'<li class="qa-upload-item qa-{r.outcome}" data-outcome="{r.outcome}"><span class="qa-upload-name">{_e(r.name)}</span>'
        f'<span class="qa-upload-outcome">{_OUTCOME_LABEL[r.outcome]}</span>'
        f'<span class="qa-upload-msg">{_e(r.message)}</span></li>'
        for r in results
    )
    added = sum(r.outcome == "added" for r in results)
    return (
        f'<div class="qa-upload-results"><div class="qa-upload-summary">共 {len(results)} 个文件，'
        f"成功添加 {added} 个</div><ul>{rows}</ul></div>"
    )


def render_documents(assistant: Assistant) -> str:
    try:
        docs = assistant.documents()
    except Exception as exc:
        return _notice(user_message(exc, "document list"), "error")
    if not docs:
        return '<div class="qa-doc-empty">还没有收录任何文档：请在上方上传。</div>'
    docs = sorted(docs, key=lambda d: (d.get("added_at") or "", d.get("title") or ""), reverse=True)
    cards = []
    for d in docs:
        meta = [f"{int(d.get('chunks') or 0)} 个片段", f"{int(d.get('chars') or 0)} 字"]
        if d.get("date"):
            meta.append(f"日期 {_e(d['date'])}")
        meta.append(f"收录于 {_e(_local_time(d.get('added_at')))}")
        cards.append(
            f'<li class="qa-doc" data-doc="{_e(d["doc_id"])}"><div class="qa-doc-main">'
            f'<div class="qa-doc-title">{_e(d["title"])}</div>'
            f'<div class="qa-doc-file">{_e(d.get("source") or d.get("file") or "")}</div>'
            f'<div class="qa-doc-meta">{" · ".join(f"<span>{m}</span>" for m in meta)}</div></div>'
            f'<button type="button" class="qa-doc-delete" data-delete="{_e(d["doc_id"])}" '
            f'aria-label="删除 {_e(d["title"])}">删除</button></li>'
        )
    return f'<div class="qa-doc-count">共 {len(docs)} 篇</div><ul class="qa-doc-list">{"".join(cards)}</ul>'


def _local_time(stamp) -> str:
    if not stamp:
        return "未知"
    try:
        return datetime.strptime(str(stamp), "%Y-%m-%dT%H:%M:%S%z").astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(stamp)


def _notice(message: str, kind: str) -> str:
    return f'<div class="qa-notice qa-notice-{kind}">{_e(message)}</div>'


# --------------------------------------------------------------------------- course pack tab (课程素材)


@dataclass(frozen=True)
class PackView(View):
    summary: gr.HTML
    order: gr.Dropdown
    actions: gr.Column
    exported: gr.HTML
    download: gr.File
    review: gr.HTML
    request: gr.Textbox  # the gathered topics and max_items, as JSON


def _coursepack_tab(ctx: UiContext) -> PackView:
    """Topics → a pack reviewed on the page (one part per topic, collapsible sections, each document's title
    once, a checkbox per item) → the export bar (kept on screen) exports through the same service method as
    POST /api/coursepack: unticked items and removed sections are left out of the file."""
    from . import coursepack

    assistant, kinds = ctx.assistant, list(coursepack.KINDS)
    with gr.Column(elem_id="qa-pack"):
        gr.HTML(
            '<h3 class="qa-section">课程素材</h3><p class="qa-hint">输入一个或多个主题（用顿号、逗号或换行分隔，最多 10 个），'
            "按主题汇编各文档中的典型案例、数据成效和工作举措，每条均为原文摘录并逐句标注出处，按相关程度排序。"
            "取消勾选不需要的条目、选择要导出的类别及顺序后，导出 Word 或 Markdown 文件。</p>",
            js_on_load=None,
        )
        with gr.Row(equal_height=True, elem_id="qa-pack-inputs"):
            topics = gr.Textbox(
                placeholder="例如：网格化管理、物业党建",
                show_label=False,
                lines=1,
                max_lines=3,
                scale=5,
                min_width=160,
                container=False,
                elem_id="qa-pack-topics",
            )
            max_items = gr.Number(
                value=coursepack.DEFAULT_MAX_ITEMS,
                minimum=1,
                maximum=coursepack.MAX_ITEMS_LIMIT,
                precision=0,
                step=5,
                label="每个主题最多条数",
                scale=1,
                min_width=110,
                elem_id="qa-pack-max",
            )
            gather = gr.Button("汇编素材", variant="primary", scale=0, min_width=96, elem_id="qa-pack-gather")
        summary = gr.HTML("", elem_id="qa-pack-summary", js_on_load=None)
        # the export bar comes before the long review and stays on screen (sticky) while scrolling it
        order = gr.Dropdown(
            kinds,
            value=kinds,
            multiselect=True,
            label="导出的类别及顺序",
            info="按这里的先后排列；删掉的类别不导出（网页与 API 相同）",
            visible=False,
            elem_id="qa-pack-order",
        )
        with gr.Column(visible=False, elem_id="qa-pack-actions") as actions:
            with gr.Row(elem_id="qa-pack-buttons"):
                to_docx = gr.Button("导出 Word（.docx）", variant="primary", elem_id="qa-pack-docx")
                to_md = gr.Button("导出 Markdown（.md）", variant="secondary", elem_id="qa-pack-md")
            exported = gr.HTML("", elem_id="qa-pack-exported", js_on_load=None)
            download = gr.File(label="下载文件", interactive=False, visible=False, elem_id="qa-pack-file")
        review = gr.HTML("", elem_id="qa-pack-review", js_on_load=PACK_REVIEW_JS, apply_default_css=False)
        request = gr.Textbox(visible=False, elem_id="qa-pack-request")  # the gathered topics and max_items
        unticked = gr.Textbox(visible=False, elem_id="qa-pack-unticked")  # filled from the page at export

    view = PackView(summary, order, actions, exported, download, review, request)
    no_file = gr.update(value=None, visible=False)

    def nothing_gathered() -> dict:
        return {
            order: gr.update(visible=False),
            actions: gr.update(visible=False),
            exported: "",
            download: no_file,
            review: "",
            request: "",
        }

    @shows_errors(summary, "course pack", reset=nothing_gathered)
    def do_gather(text, limit):
        wanted = [t for t in re.split(r"[、，,；;\n]+", text or "") if t.strip()]
        limit = _int(limit, "每个主题最多条数应为 1–100 之间的整数。") if limit not in (None, "") else None
        pack = assistant.course_pack(wanted, max_items=limit)
        message = pack.warning or (
            f"共汇编 {len(pack.items)} 条素材（{len(pack.parts)} 个主题，每个主题最多 {pack.max_items} 条），"
            f"摘自 {len(pack.references)} 篇文档（用时 {pack.seconds:.1f} 秒）。取消勾选不需要的条目后导出。"
        )
        notes = "".join(_notice(n, "info") for n in (pack.notice, pack.summaries_note) if n)
        state = json.dumps({"topics": pack.topics, "max_items": pack.max_items}, ensure_ascii=False)
        return {
            summary: _notice(message, "error" if pack.warning else "ok") + notes,
            order: gr.update(value=kinds, visible=bool(pack.items)),
            actions: gr.update(visible=bool(pack.items)),
            exported: "",
            download: no_file,
            review: render_pack_review(pack),
            request: state if pack.items else "",
        }

    @shows_errors(exported, "course pack export", reset=lambda: {download: no_file})
    def do_export(fmt, state, chosen_order, dropped):
        if not state:
            raise AssistantError("请先输入主题并汇编素材。")
        wanted = json.loads(state)
        exclude = [i for i in json.loads(dropped or "[]") if isinstance(i, str)]
        result = assistant.course_pack_export(
            wanted["topics"], fmt, exclude, list(chosen_order or []), max_items=wanted["max_items"]
        )
        kept = _exported_count(result)
        if not kept:
            raise AssistantError("没有选中任何条目：请至少勾选一条、保留至少一个类别后再导出。")
        path = Path(tempfile.mkdtemp(prefix="coursepack-")) / result.filename
        path.write_bytes(result.data)
        return {
            exported: _notice(f"已生成 {result.filename}（{kept} 条），请点击下方文件下载。", "ok"),
            download: gr.update(value=str(path), visible=True),
        }

    private = {"api_visibility": "private"}
    gr.on(
        [topics.submit, gather.click],
        do_gather,
        [topics, max_items],
        view.outputs(),
        **private,
    )
    collect = (
        "(state, order, dropped) => [state, order, JSON.stringify([...document.querySelectorAll("
        "'#qa-pack-review input[type=checkbox][data-id]')].filter((b) => !b.checked).map((b) => b.dataset.id))]"
    )
    for button, fmt in ((to_docx, "docx"), (to_md, "md")):
        button.click(
            lambda *args, fmt=fmt: do_export(fmt, *args),
            [request, order, unticked],
            [exported, download],
            js=collect,
            **private,
        )
    return view


def _exported_count(result) -> int:
    """Items in an exported file (the marker after each item's last sentence is counted once per item)."""
    if result.filename.endswith(".md"):
        return sum(1 for line in result.data.decode("utf-8").splitlines() if line.startswith("- "))
    from io import BytesIO

    from docx import Document

    return sum(1 for p in Document(BytesIO(result.data)).paragraphs if p.style.name == "List Bullet")


# Ticking updates the section's count; nothing goes to the server until export.
PACK_REVIEW_JS = static_js("pack_review.js")


def render_pack_review(pack) -> str:
    """The pack as the trainer reviews it: a part per topic (lead-in), a collapsible section per kind, each
    document's readable title once above its items, a ticked checkbox per item, [n] after each sentence."""
    from . import coursepack

    if not pack.items:
        return ""
    out = ['<div class="qa-pack-review">']
    for p_index, part in enumerate(p for p in pack.parts if p.items):
        out.append(
            f'<section class="qa-pack-part"><h3 class="qa-pack-topic">{_e(coursepack.part_heading(p_index, part))}</h3>'
        )
        if part.lead_text():
            out.append(f'<p class="qa-pack-lead"><b>导语</b>：{_e(part.lead_text())}</p>')
        for section in part.sections:
            if not section.items:
                continue
            n = len(section.items)
            out.append(
                f'<details class="qa-pack-section" open data-kind="{_e(section.kind)}"><summary>'
                f'<span class="qa-pack-kind">{_e(section.kind)}</span> <span class="qa-pack-count">{n}/{n} 条</span>'
                "</summary>"
            )
            if section.summary_text():
                out.append(f'<p class="qa-pack-summary-text"><b>要点</b>：{_e(section.summary_text())}</p>')
            for first, items in coursepack.groups(section):
                out.append(f'<div class="qa-pack-doc">[{first.n}] {_e(first.label or first.title)}</div><ul>')
                for item in items:
                    body = "".join(
                        f'{_e(t)}<sup class="qa-pack-n">[{item.n}]</sup>' for t in item.sentence_texts()
                    )
                    also = (
                        f'<span class="qa-pack-also">{_e(coursepack.also_note(item))}</span>'
                        if item.also
                        else ""
                    )
                    out.append(
                        f'<li><label><input type="checkbox" checked data-id="{_e(item.id)}">'
                        f'<span class="qa-pack-text">{body}{also}</span></label></li>'
                    )
                out.append("</ul>")
            out.append("</details>")
        out.append("</section>")
    refs = "".join(f"<li>[{r.n}] {_e(r.label or r.title)}</li>" for r in pack.references)
    out.append(
        f'<details class="qa-pack-refs"><summary>参考资料（{len(pack.references)} 篇）</summary><ul>{refs}</ul></details>'
    )
    out.append("</div>")
    return "".join(out)


# Tabs in page order: (label, id, builder). A new tab is one builder function appended here.
TABS: list[tuple[str, str, Callable[[UiContext], View]]] = [
    ("问答", "chat", _chat_tab),
    ("文档", "documents", _documents_tab),
    ("课程素材", "coursepack", _coursepack_tab),
]
