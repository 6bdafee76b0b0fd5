"""The Gradio UI for cadres, mounted at `/` of the API app (`app.mount_ui`): 问答, 文档 and 课程素材 tabs.

Thin layer: every handler calls one `Assistant` method and renders HTML. A tab is one builder `fn(ctx)` listed
in `app.TABS` that returns its components as a `common.View`. Kept free of imports (Gradio is heavy).
"""
