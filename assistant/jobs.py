"""Uploads: small files are indexed at once, large ones run as a background job that survives a restart.

A job's state is a JSON file in index/jobs/<job_id>.json (replaced atomically on every change), with the
uploaded bytes beside it in <job_id>.upload until the job ends. On a shared database (ASSISTANT_DATABASE_URL) its
public state is also written there, so every replica answers GET /api/jobs/{job_id}; the job itself runs on the
replica that accepted it. When a server starts, a job that a dead process
left queued or running is settled: if its document was committed it is reported done; otherwise any corpus
file the dead writer had already written (same bytes, not committed) is deleted and the job runs again from the
saved bytes. `IndexStore.apply()` commits a document in one transaction, so the index never holds half of one.

Used by the HTTP API and the UI; `assistant docs add` indexes synchronously with a progress bar instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import queue
import threading
import time
import uuid
import weakref
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import corpus as corpus_mod
from .errors import AssistantError, DuplicateDocument, NotFound, TooManyRequests
from .store import DatabaseUnavailable

if TYPE_CHECKING:
    from .service import Assistant

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")
KEEP_FINISHED = 200  # finished job records kept on disk; older ones are pruned at start


@dataclass
class Job:
    job_id: str
    file_name: str
    status: str = "queued"  # queued | running | done | failed
    progress: float = 0.0
    doc_id: str = ""  # known from parsing at submission; reported once the job is done
    error: str = ""
    meta: dict = field(default_factory=dict)
    sha256: str = ""  # of the uploaded bytes, to recognise what an interrupted writer left in corpus/
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    def public(self) -> dict:
        """The GET /api/jobs/{job_id} object."""
        out = {
            "job_id": self.job_id,
            "status": self.status,
            "progress": round(self.progress, 3),
            "file_name": self.file_name,
        }
        if self.status == "done":
            out["doc_id"] = self.doc_id
        if self.status == "failed":
            out["error"] = self.error
        return out


@dataclass
class UploadResult:
    """Either `document` (indexed now) or `job` (accepted, indexing in the background)."""

    document: dict | None = None
    job: dict | None = None


class JobManager:
    """One per index: a queue of large uploads indexed by a single worker thread, state persisted on disk."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.dir = Path(assistant.settings.index_dir) / "jobs"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[str] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._prepared: dict[str, object] = {}  # job_id → parsed upload of this process (no second parse)
        self._recover()

    # ------------------------------------------------------------ public

    def upload(self, file_name: str, data: bytes, meta: dict | None = None) -> UploadResult:
        """Validate (4xx errors raised here, before anything is written), then index now or queue a job.

        The ingest time is estimated by the number of chunks: above `sync_upload_max_chunks` (≈10 s of
        embedding on a small CPU) the upload becomes a job. The file is parsed once.
        """
        prepared = self.assistant.parse_upload(file_name, data, meta)
        self._check_not_pending(prepared.doc.doc_id)
        if len(prepared.chunks) <= self.assistant.settings.sync_upload_max_chunks:
            entry = self.assistant.add_document(file_name, data, meta, prepared=prepared)
            return UploadResult(document=entry)
        return UploadResult(job=self.submit(file_name, data, meta, prepared.doc.doc_id, prepared).public())

    def submit(
        self, file_name: str, data: bytes, meta: dict | None, doc_id: str, prepared: object = None
    ) -> Job:
        s = self.assistant.settings
        with self._lock:
            self._check_not_pending(doc_id)
            active = [j for j in self._jobs.values() if j.status in ACTIVE]
            parked = sum(_size(self._upload_path(j.job_id)) for j in active)
            if len(active) >= s.jobs_max_queued or parked + len(data) > s.jobs_max_mb * 1048576:
                raise TooManyRequests(
                    f"后台编入索引的任务已满（{len(active)} 个进行中或排队，暂存 {parked / 1048576:.1f} MB；"
                    f"上限 {s.jobs_max_queued} 个、{s.jobs_max_mb:g} MB）：请稍后重试（见 Retry-After）。",
                    retry_after=self._retry_after(active),
                )
            job = Job(
                job_id=uuid.uuid4().hex[:16],
                file_name=file_name,
                doc_id=doc_id,
                meta=dict(meta or {}),
                sha256=hashlib.sha256(data).hexdigest(),
            )
            _write_atomic(self._upload_path(job.job_id), data)
            self._jobs[job.job_id] = job
            if prepared is not None:
                self._prepared[job.job_id] = prepared
            self._save(job)
        self._enqueue(job.job_id)
        log.info("job %s queued for %s", job.job_id, file_name)
        return job

    def _check_not_pending(self, doc_id: str) -> None:
        pending = next((j for j in self._jobs.values() if j.status in ACTIVE and j.doc_id == doc_id), None)
        if pending is not None:
            raise DuplicateDocument(
                f"该文档正在后台编入索引（任务 {pending.job_id}）：请用 GET /api/jobs/{pending.job_id} 查看进度，无需重复上传。",
                doc_id,
            )

    @staticmethod
    def _retry_after(active: list[Job]) -> int:
        """Seconds until a slot is likely free: the running job's remaining time, by its progress so far."""
        running = [j for j in active if j.status == "running" and j.progress > 0.02]
        if not running:
            return 30
        j = running[0]
        elapsed = max(1.0, time.time() - j.created_at)
        return int(min(600, max(5, elapsed * (1 - j.progress) / max(j.progress, 0.05))))

    def get(self, job_id: str) -> dict:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                return job.public()
        shared = self.assistant.store.load_job(job_id) if self.assistant.store.shared else None
        if shared is None:
            raise NotFound(f"未找到任务 {job_id}：请使用上传文档时返回的 job_id（status_url）。")
        return json.loads(shared)  # a job another replica accepted

    def wait(self, job_id: str, timeout: float = 600) -> dict:
        """Block until the job has finished (for the CLI, tests and scripts)."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.get(job_id)
            if state["status"] not in ACTIVE or time.monotonic() > deadline:
                return state
            time.sleep(0.1)

    # ------------------------------------------------------------ worker

    def _enqueue(self, job_id: str) -> None:
        self._queue.put(job_id)
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="assistant-jobs", daemon=True)
                self._worker.start()

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            try:
                self._run(job_id)
            except Exception:  # never let the worker die: the job is marked failed inside _run
                log.exception("job %s: unexpected error in the worker", job_id)

    def _run(self, job_id: str) -> None:
        job = self._jobs[job_id]
        self._update(job, status="running", progress=0.01)
        started = time.perf_counter()
        try:
            data = self._upload_path(job_id).read_bytes()
            entry = self.assistant.add_document(
                job.file_name,
                data,
                job.meta,
                progress=lambda done, total: self._progress(job, done, total),
                prepared=self._prepared.pop(job_id, None),
            )
        except AssistantError as exc:
            self._update(job, status="failed", error=exc.message)
            log.warning("job %s failed: %s", job_id, exc.message)
        except Exception as exc:
            log.exception("job %s (%s) failed", job_id, job.file_name)
            self._update(
                job,
                status="failed",
                error=f"编入索引时出错（{type(exc).__name__}）：文档未加入索引，请稍后重新上传。",
            )
        else:
            self._update(job, status="done", progress=1.0, doc_id=entry["doc_id"])
            log.info(
                "job %s done: %s, %d chunks in %.1f s",
                job_id,
                entry["doc_id"],
                entry["chunks"],
                time.perf_counter() - started,
            )
        finally:
            self._prepared.pop(job_id, None)
            self._upload_path(job_id).unlink(missing_ok=True)

    def _progress(self, job: Job, done: int, total: int) -> None:
        # embedding is almost all of the work; the commit after it is the last few per cent
        self._update(job, progress=0.02 + 0.95 * (done / total if total else 1.0))

    # ------------------------------------------------------------ persistence

    def _update(self, job: Job, **changes) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(job, key, value)
            job.updated_at = time.time()
            self._save(job)

    def _save(self, job: Job) -> None:
        _write_atomic(
            self.dir / f"{job.job_id}.json", json.dumps(asdict(job), ensure_ascii=False).encode("utf-8")
        )
        if self.assistant.store.shared:
            self._publish(job)

    def _publish(self, job: Job) -> None:
        """The public state, for the other replicas; a database that is down costs them only the progress."""
        try:
            self.assistant.store.save_job(
                job.job_id, json.dumps(job.public(), ensure_ascii=False), job.updated_at
            )
        except DatabaseUnavailable as exc:
            log.warning("job %s: state not shared (%s)", job.job_id, exc.message)

    def _upload_path(self, job_id: str) -> Path:
        return self.dir / f"{job_id}.upload"

    def _recover(self) -> None:
        """Load job records; settle jobs a dead process left unfinished (done, re-run, or failed)."""
        jobs = []
        for path in self.dir.glob("*.json"):
            try:
                jobs.append(Job(**json.loads(path.read_text("utf-8"))))
            except (OSError, ValueError, TypeError) as exc:
                log.warning("ignoring unreadable job record %s: %s", path.name, exc)
        jobs.sort(key=lambda j: j.created_at)
        self._prune(jobs)
        interrupted = [j for j in jobs if j.status in ACTIVE]
        for job in jobs:
            self._jobs[job.job_id] = job
        if not interrupted:
            return
        committed = self.assistant.snapshot.documents
        for job in interrupted:
            if job.doc_id in committed:
                self._update(job, status="done", progress=1.0)
                log.warning("job %s was interrupted after its commit: reported done", job.job_id)
                continue
            self._remove_strays(job)
            if self._upload_path(job.job_id).is_file():
                self._update(job, status="queued", progress=0.0)
                log.warning("job %s was interrupted before its commit: running it again", job.job_id)
                self._enqueue(job.job_id)
            else:
                self._update(
                    job,
                    status="failed",
                    error="服务重启时任务中断，文档未编入索引（索引未受影响）：请重新上传该文件。",
                )

    def _remove_strays(self, job: Job) -> None:
        """Roll back what an interrupted `add_document` wrote to corpus/ before its commit."""
        corpus_dir = Path(self.assistant.settings.corpus_dir)
        if not corpus_dir.is_dir() or not job.sha256:
            return
        with self.assistant.store.writer():
            committed_files = self.assistant.store.file_index(self.assistant.origin(corpus_dir))
            for path in corpus_mod.corpus_files(corpus_dir):
                if path.name in committed_files:
                    continue
                with contextlib.suppress(OSError):
                    if hashlib.sha256(path.read_bytes()).hexdigest() == job.sha256:
                        path.unlink()
                        corpus_mod.save_source(corpus_dir, path.name, None)
                        log.warning(
                            "job %s: removed %s left uncommitted by an interrupted write",
                            job.job_id,
                            path.name,
                        )

    def _prune(self, jobs: list[Job]) -> None:
        finished = [j for j in jobs if j.status not in ACTIVE]
        for job in finished[:-KEEP_FINISHED] if len(finished) > KEEP_FINISHED else []:
            jobs.remove(job)
            (self.dir / f"{job.job_id}.json").unlink(missing_ok=True)
            self._upload_path(job.job_id).unlink(missing_ok=True)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


_managers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_managers_lock = threading.Lock()


def job_manager(assistant: Assistant) -> JobManager:
    """The one JobManager of this Assistant (created, and interrupted jobs recovered, on first use)."""
    with _managers_lock:
        manager = _managers.get(assistant)
        if manager is None:
            manager = _managers[assistant] = JobManager(assistant)
        return manager
