"""The 文档 tab: upload (only files this server's Gradio upload route stored, each once), the document list,
delete with a confirmation."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from ..errors import AssistantError, DuplicateDocument, PayloadTooLarge
from ..parsers import SUPPORTED_LIST
from ..service import Assistant
from .common import UiContext, View, esc, local_time, notice, shows_errors, static_js, user_message

log = logging.getLogger(__name__)


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


def documents_tab(ctx: UiContext) -> DocumentsView:
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
            f'<div class="qa-confirm-text">确定要删除《{esc(doc.title)}》吗？'
            f"将同时从文档目录和索引中移除（{int(doc.chunks)} 个片段），此操作不能撤销。</div>"
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
        title = assistant.document(doc_id).title
        assistant.remove_document(doc_id)
        return {**closed(), delete_result: notice(f"已删除《{title}》，问答将不再引用它。", "ok")}

    def cancel_delete():
        return {
            pending_delete: "",
            confirm_box: gr.update(visible=False),
            delete_result: notice("已取消删除。", "info"),
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
        return notice("请先选择要上传的文件。", "error")
    rows = "".join(
        f'<li class="qa-upload-item qa-{r.outcome}" data-outcome="{r.outcome}"><span class="qa-upload-name">{esc(r.name)}</span>'
        f'<span class="qa-upload-outcome">{_OUTCOME_LABEL[r.outcome]}</span>'
        f'<span class="qa-upload-msg">{esc(r.message)}</span></li>'
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
        return notice(user_message(exc, "document list"), "error")
    if not docs:
        return '<div class="qa-doc-empty">还没有收录任何文档：请在上方上传。</div>'
    docs = sorted(docs, key=lambda d: (d.get("added_at") or "", d.get("title") or ""), reverse=True)
    cards = []
    for d in docs:
        meta = [f"{int(d.get('chunks') or 0)} 个片段", f"{int(d.get('chars') or 0)} 字"]
        if d.get("date"):
            meta.append(f"日期 {esc(d['date'])}")
        meta.append(f"收录于 {esc(local_time(d.get('added_at')))}")
        cards.append(
            f'<li class="qa-doc" data-doc="{esc(d["doc_id"])}"><div class="qa-doc-main">'
            f'<div class="qa-doc-title">{esc(d["title"])}</div>'
            f'<div class="qa-doc-file">{esc(d.get("source") or d.get("file") or "")}</div>'
            f'<div class="qa-doc-meta">{" · ".join(f"<span>{m}</span>" for m in meta)}</div></div>'
            f'<button type="button" class="qa-doc-delete" data-delete="{esc(d["doc_id"])}" '
            f'aria-label="删除 {esc(d["title"])}">删除</button></li>'
        )
    return f'<div class="qa-doc-count">共 {len(docs)} 篇</div><ul class="qa-doc-list">{"".join(cards)}</ul>'
