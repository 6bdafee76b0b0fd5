"""The 问答 tab: a question streams its answer into the conversation (`Assistant.ask_stream`), [n] and the
references open the source panel, example questions the index can answer are offered on an empty page."""

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import gradio as gr

from ..answer.citations import Answer
from ..errors import INTERNAL_ERROR
from ..service import MAX_QUESTION_CHARS, Assistant
from ..sources import cited_document, with_references
from .answer_html import render_chat, render_examples, render_source
from .common import UiContext, View, line_input, static_js, user_message

log = logging.getLogger(__name__)


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


def chat_tab(ctx: UiContext) -> ChatView:
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
                question = line_input(
                    "请输入问题，按回车发送", "qa-question", max_lines=4, max_length=MAX_QUESTION_CHARS
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
                turn.update(_finished_turn(piece, question, _documents(assistant)))
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


def _documents(assistant: Assistant) -> Mapping:
    """doc_id → `StoredDocument`: what names a reference besides its title (place, date; never the stored file
    name); empty when the snapshot is unavailable (references then show their titles only)."""
    try:
        return assistant.snapshot.documents
    except Exception:
        log.exception("snapshot unavailable")
        return {}


def _finished_turn(result: Answer, question: str, documents: Mapping) -> dict:
    citations = []
    for c in result.citations:
        named = cited_document(c, documents)
        # the whole chunk (`text`) is not displayed; keep the session state small
        citations.append(
            {k: v for k, v in c.to_dict().items() if k != "text"} | {k: named[k] for k in ("region", "date")}
        )
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
        # 答案 + 参考资料 as the copy button puts them on the clipboard, the same text as /v1's answer
        "copy": with_references(result.answer, result.citations, documents),
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
