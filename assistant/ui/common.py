"""What every tab shares: the context a tab is built with, the `View` its builder returns, the one way an error
reaches the page (`user_message`, `shows_errors`), the status bar, and small HTML helpers."""

import functools
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path

import gradio as gr

from ..errors import INTERNAL_ERROR, AssistantError
from ..service import Assistant

log = logging.getLogger(__name__)


STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def static_js(name: str) -> str:
    """A script from static/ for a component's `js_on_load` (Gradio runs it with `element`, `trigger`, `watch`)."""
    return (STATIC_DIR / name).read_text(encoding="utf-8")


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
                return {**(reset() if reset else {}), target: notice(user_message(exc, doing), "error")}

        return run

    return wrap


def render_status(assistant: Assistant) -> str:
    try:
        h = assistant.health()
    except Exception as exc:
        return f'<div class="qa-status qa-status-error">索引不可用：{esc(user_message(exc, "health"))}</div>'
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
        chips.append(f"更新时间 <b>{esc(updated)}</b>")
    chips.append(f"回答方式 <b>{esc(how)}</b>")
    details = f"{h['chunks']} 个片段 · 嵌入模型 {h.get('embedder', '')} · 模式 {mode} · 索引版本 {h.get('generation', '')}"
    warn = ""
    if h.get("status") not in (None, "ok") and h.get("detail"):
        warn = f'<span class="qa-chip qa-chip-warn">{esc(h["detail"])}</span>'
    # the generation changes with every commit, so `status.change` fires whenever the index does
    return (
        f'<div class="qa-status" data-generation="{esc(h.get("generation", ""))}">'
        + "".join(f'<span class="qa-chip">{c}</span>' for c in chips)
        + warn
        + f'<span class="qa-chip qa-chip-info" tabindex="0" role="note" data-tip="{esc(details)}" '
        f'aria-label="技术信息：{esc(details)}">技术信息</span>' + "</div>"
    )


def _last_update(assistant: Assistant) -> str:
    """When a document was last added, in local time ("" when the index is empty or unreadable)."""
    try:
        stamps = [d.get("added_at") or "" for d in assistant.documents()]
    except Exception:
        log.exception("document list unavailable")
        return ""
    return local_time(max(stamps)) if any(stamps) else ""


# --------------------------------------------------------------------------- shared pieces


def line_input(placeholder: str, elem_id: str, max_lines: int, **more) -> gr.Textbox:
    """The input a tab puts before its button (a question, topics): no label, one line that grows to
    `max_lines`, the same share of the row and the same narrowest width on a phone in every tab."""
    return gr.Textbox(
        placeholder=placeholder,
        show_label=False,
        lines=1,
        max_lines=max_lines,
        scale=5,
        min_width=160,
        container=False,
        elem_id=elem_id,
        **more,
    )


# --------------------------------------------------------------------------- small HTML helpers


def esc(text) -> str:
    return html.escape(str(text if text is not None else ""), quote=True)


def notice(message: str, kind: str) -> str:
    return f'<div class="qa-notice qa-notice-{kind}">{esc(message)}</div>'


def int_or_error(value, message: str) -> int:
    """An integer from the page, or an `AssistantError` saying what was wrong."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise AssistantError(message) from None


def local_time(stamp) -> str:
    if not stamp:
        return "未知"
    try:
        return datetime.strptime(str(stamp), "%Y-%m-%dT%H:%M:%S%z").astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(stamp)
