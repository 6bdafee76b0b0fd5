"""The page: status bar, then one tab per entry of `TABS`, mounted at `/` of the API app (with a login when
ASSISTANT_API_KEYS is set). Everything is served by this process: system fonts, no CDN, analytics off."""

import hmac
from collections.abc import Callable

import gradio as gr

from ..service import Assistant
from .chat import chat_tab
from .common import STATIC_DIR, UiContext, View
from .documents import documents_tab
from .pack import pack_tab

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


# Tabs in page order: (label, id, builder). A new tab is one builder function appended here.
TABS: list[tuple[str, str, Callable[[UiContext], View]]] = [
    ("问答", "chat", chat_tab),
    ("文档", "documents", documents_tab),
    ("课程素材", "coursepack", pack_tab),
]
