"""GET /api/jobs/{job_id}: progress of a large upload indexed in the background."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import API_KEY, JobsDep
from ..schemas import JobStatus, error_docs

router = APIRouter(prefix="/api", tags=["文档"], dependencies=API_KEY, responses=error_docs(401))


@router.get(
    "/jobs/{job_id}",
    response_model=JobStatus,
    response_model_exclude_none=True,
    responses=error_docs(404, 422),
    summary="后台编入索引任务的状态",
)
def get_job(job_id: str, jobs: JobsDep):
    return jobs.get(job_id)
