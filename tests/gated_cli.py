"""The `assistant` command stopped at a named point of a write, for tests that SIGKILL it exactly there: instead of
racing the process's progress output against the clock, the test waits for the file `GATE_FILE` and kills.

    GATE=embedding  after the write's first batch of passage vectors (in the embedding cache), before the next
    GATE=commit     after every vector of the write is in Chroma, before its rows are committed

The process writes `GATE_FILE` there, then waits: for good, or, with `GATE_RELEASE`, until that file exists (a
test that watches the process stand there, e.g. a progress bar, then lets it go on). A gate stops a process once.
Run: python tests/gated_cli.py index (or serve ...); tests use `conftest.Gate`.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from assistant import cli, store

GATE = os.environ["GATE"]
GATE_FILE = Path(os.environ["GATE_FILE"])
RELEASE = Path(os.environ["GATE_RELEASE"]) if os.environ.get("GATE_RELEASE") else None
_passed = threading.Event()


def stop_here(point: str) -> None:
    if point != GATE or _passed.is_set():
        return
    _passed.set()
    GATE_FILE.write_text(f"{point} {os.getpid()}\n", encoding="utf-8")
    if RELEASE is None:
        threading.Event().wait()  # until the test kills us
    while not RELEASE.exists():
        time.sleep(0.05)


_vectors, _commit = store.IndexStore._vectors, store.IndexStore._commit  # noqa: SLF001


def gated_vectors(self, texts, progress):
    def report(done: int, total: int) -> None:
        if progress:
            progress(done, total)
        if 0 < done < total:
            stop_here("embedding")

    return _vectors(self, texts, report)


def gated_commit(self, *args, **kwargs):
    stop_here("commit")
    return _commit(self, *args, **kwargs)


store.IndexStore._vectors = gated_vectors  # noqa: SLF001
store.IndexStore._commit = gated_commit  # noqa: SLF001

if __name__ == "__main__":
    sys.exit(cli.main(prog_name="assistant"))
