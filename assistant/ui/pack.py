"""The 课程素材 tab: topics → a pack reviewed on the page → a Word or Markdown export through the same service
method as POST /api/coursepack."""

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from ..errors import AssistantError
from .common import UiContext, View, esc, int_or_error, line_input, notice, shows_errors, static_js

# Ticking updates the section's count; nothing goes to the server until export.
PACK_REVIEW_JS = static_js("pack_review.js")


@dataclass(frozen=True)
class PackView(View):
    summary: gr.HTML
    order: gr.Dropdown
    actions: gr.Column
    exported: gr.HTML
    download: gr.File
    review: gr.HTML
    request: gr.Textbox  # the gathered topics and max_items, as JSON


def pack_tab(ctx: UiContext) -> PackView:
    """Topics → a pack reviewed on the page (one part per topic, collapsible sections, each document's title
    once, a checkbox per item) → the export bar (kept on screen) exports through the same service method as
    POST /api/coursepack: unticked items and removed sections are left out of the file."""
    from .. import coursepack, coursepack_render

    assistant, kinds = ctx.assistant, list(coursepack.KINDS)
    with gr.Column(elem_id="qa-pack"):
        gr.HTML(
            '<h3 class="qa-section">课程素材</h3><p class="qa-hint">输入一个或多个主题（用顿号、逗号或换行分隔，最多 10 个），'
            "按主题汇编各文档中的典型案例、数据成效和工作举措，每条均为原文摘录并逐句标注出处，按相关程度排序。"
            "取消勾选不需要的条目、选择要导出的类别及顺序后，导出 Word 或 Markdown 文件。</p>",
            js_on_load=None,
        )
        with gr.Row(equal_height=True, elem_id="qa-pack-inputs"):
            topics = line_input("例如：网格化管理、物业党建", "qa-pack-topics", max_lines=3)
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
        limit = (
            int_or_error(limit, "每个主题最多条数应为 1–100 之间的整数。")
            if limit not in (None, "")
            else None
        )
        pack = assistant.course_pack(wanted, max_items=limit)
        gathered = (
            f"共汇编 {len(pack.items)} 条素材（{len(pack.parts)} 个主题，每个主题最多 {pack.max_items} 条），"
            f"摘自 {len(pack.references)} 篇文档（用时 {pack.seconds:.1f} 秒）。取消勾选不需要的条目后导出。"
        )
        message = notice(gathered, "ok") if pack.items else notice(pack.warning or "", "error")
        # the pack's notes; an empty pack's warning is the message itself
        said = [n for n in coursepack_render.notes(pack) if pack.items or n != pack.warning]
        notes = "".join(notice(n, "info") for n in said)
        state = json.dumps({"topics": pack.topics, "max_items": pack.max_items}, ensure_ascii=False)
        return {
            summary: message + notes,
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
            exported: notice(f"已生成 {result.filename}（{kept} 条），请点击下方文件下载。", "ok"),
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


def _note(css_class: str, text: str) -> str:
    """A note beside an item's quote (〔上文：……〕, （另见主题：……）), styled apart from it; "" when there is none."""
    return f'<span class="{css_class}">{esc(text)}</span>' if text else ""


def render_pack_review(pack) -> str:
    """The pack as the trainer reviews it: a part per topic (lead-in), a collapsible section per kind, each
    document's readable title once above its items, a ticked checkbox per item, [n] after each sentence."""
    from .. import coursepack_render

    if not pack.items:
        return ""
    out = ['<div class="qa-pack-review">']
    for p_index, part in enumerate(p for p in pack.parts if p.items):
        out.append(
            f'<section class="qa-pack-part"><h3 class="qa-pack-topic">{esc(coursepack_render.part_heading(p_index, part))}</h3>'
        )
        if part.lead_text():
            out.append(f'<p class="qa-pack-lead"><b>导语</b>：{esc(part.lead_text())}</p>')
        for section in part.sections:
            if not section.items:
                continue
            n = len(section.items)
            out.append(
                f'<details class="qa-pack-section" open data-kind="{esc(section.kind)}"><summary>'
                f'<span class="qa-pack-kind">{esc(section.kind)}</span> <span class="qa-pack-count">{n}/{n} 条</span>'
                "</summary>"
            )
            if section.summary_text():
                out.append(f'<p class="qa-pack-summary-text"><b>要点</b>：{esc(section.summary_text())}</p>')
            for first, items in coursepack_render.groups(section):
                out.append(
                    f'<div class="qa-pack-doc">[{first.n}] {esc(first.label or first.title)}</div><ul>'
                )
                for item in items:
                    body = "".join(
                        f'{esc(t)}<sup class="qa-pack-n">[{item.n}]</sup>' for t in item.sentence_texts()
                    )
                    context = _note("qa-pack-context", coursepack_render.context_note(item))
                    related = _note("qa-pack-related", coursepack_render.related_note(item))
                    also = _note("qa-pack-also", coursepack_render.also_note(item))
                    out.append(
                        f'<li><label><input type="checkbox" checked data-id="{esc(item.id)}">'
                        f'<span class="qa-pack-text">{context}{body}{related}{also}</span></label></li>'
                    )
                out.append("</ul>")
            out.append("</details>")
        out.append("</section>")
    refs = "".join(f"<li>[{r.n}] {esc(r.label or r.title)}</li>" for r in pack.references)
    out.append(
        f'<details class="qa-pack-refs"><summary>参考资料（{len(pack.references)} 篇）</summary><ul>{refs}</ul></details>'
    )
    out.append("</div>")
    return "".join(out)
