"""`assistant serve --workers N`: what each uvicorn worker process imports (by name: workers are spawned).

Every worker builds its own `Assistant` from the same settings (environment and assistant.toml) on the same
index directory: its own snapshot, embedder and Chroma client, so questions use every core. Commits made by one
worker (uploads, deletes) reach the others before their next question (the snapshot follows the database's
generation, as with a separate `assistant index`); writers take turns through index/.lock.
"""

from __future__ import annotations

import logging
import threading


def app():
    """The ASGI app of one worker (uvicorn `factory=True`)."""
    from .config import Settings
    from .http.app import create_app
    from .service import Assistant

    logging.getLogger().setLevel(logging.INFO)
    assistant = Assistant(Settings())
    application = create_app(assistant)
    threading.Thread(target=assistant.warm_up, name="warm-up", daemon=True).start()
    return application


def __getattr__(name: str):
    """`HeaderDeadlineProtocol`: the API's h11 protocol with the request-head deadline from the settings, made
    here because uvicorn hands it to spawned workers by import path (a class made in a closure cannot travel)."""
    if name == "HeaderDeadlineProtocol":
        from .config import Settings
        from .http.server import header_deadline_protocol

        protocol = header_deadline_protocol(Settings().header_timeout_s)
        globals()[name] = protocol
        return protocol
    raise AttributeError(name)
