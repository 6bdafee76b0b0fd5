"""Real servers on loopback for tests that talk HTTP: the app in a uvicorn thread (`serve_app`), or the real
`assistant serve` in a subprocess over a private copy of the test index (`ServeProcess`).

with serve_app(create_app(assistant, with_ui=False)) as base_url:
    httpx.get(f"{base_url}/healthz")
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn


@contextlib.contextmanager
def serve_app(app, *, timeout: float = 30.0, log_level: str = "warning") -> Iterator[str]:
    """Serve `app` on 127.0.0.1:<free port> until the block ends; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(  # it skips signal handlers off the main thread
            app, log_level=log_level, lifespan="on", timeout_graceful_shutdown=5
        )
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn exited before it started (see the log above)")
        if time.monotonic() > deadline:
            raise TimeoutError(f"uvicorn did not start within {timeout} s")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise AssertionError(f"no VmRSS for process {pid}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout: float = 120.0, process=None) -> None:
    """Poll `url` until it answers 200; fail early (with the server's output) if `process` died."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"server exited with {process.returncode}:\n{out}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class ServeProcess:
    """`assistant serve` on a free loopback port over a private copy of the test index (`corpus_dir`,
    `index_dir`), with its own Gradio upload folder so other servers' cached files never mix in; its output goes
    to `root/server.log`. Started and waited for (GET /healthz) on construction; `stop()` ends it. With a
    `gate` (`conftest.Gate`) it runs through tests/gated_cli.py and stops there once."""

    def __init__(self, root: Path, base_index, gate=None, **settings):
        from conftest import ASSISTANT_BIN, cli_env, copy_index

        self.root = root
        self.corpus_dir, self.index_dir = copy_index(base_index, root)
        self.gradio_dir = root / "gradio-cache"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / "server.log"
        env = cli_env(corpus_dir=self.corpus_dir, index_dir=self.index_dir, **settings)
        env["GRADIO_TEMP_DIR"] = str(self.gradio_dir)
        self.gate = gate
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self._log_file = self.log.open("wb")
        self.proc = subprocess.Popen(
            gate.argv(args) if gate else [str(ASSISTANT_BIN), *args],
            env=gate.env(env) if gate else env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            self.wait()
        except BaseException:
            self.stop()
            raise

    def wait(self, timeout: float = 180) -> None:
        import httpx
        import pytest

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"assistant serve exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        pytest.fail(f"assistant serve did not start within {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def log_size(self) -> int:
        return self.log.stat().st_size

    def wait_for_log(self, text: str, since: int = 0, timeout: float = 120) -> str:
        """The first line of the server's log after byte `since` that contains `text`, once it is written."""
        import pytest

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.log.open("rb") as f:
                f.seek(since)
                for line in f.read().decode("utf-8", "replace").splitlines():
                    if text in line:
                        return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        pytest.fail(f"the server never logged {text!r}:\n{self.output()}")

    def rss_mb(self) -> float:
        return rss_mb(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()
