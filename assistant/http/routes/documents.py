"""GET/POST/DELETE /api/documents…: list, read, upload (201, or 202 with a job for a large file), delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from ...parsers import SUPPORTED_LIST, stop_when
from ..deps import API_KEY, AssistantDep, JobsDep, UploadGateDep, client_gone
from ..responses import UnicodeJSONResponse
from ..schemas import DocumentDetail, DocumentEntry, DocumentList, JobAccepted, error_docs

router = APIRouter(prefix="/api", tags=["文档"], dependencies=API_KEY, responses=error_docs(401))


@router.get("/documents", response_model=DocumentList, summary="列出已编入索引的文档")
def list_documents(assistant: AssistantDep):
    return {"documents": assistant.documents()}


@router.get(
    "/documents/{doc_id}", response_model=DocumentDetail, responses=error_docs(404, 422), summary="文档全文"
)
def get_document(doc_id: str, assistant: AssistantDep):
    return assistant.document(doc_id).to_dict()


@router.post(
    "/documents",
    status_code=201,
    response_model=DocumentEntry,
    summary=f"上传文档（{SUPPORTED_LIST}），编入索引后返回",
    description="小文件编入索引后返回 201 与文档条目（此时已可检索）；预计耗时超过约 10 秒的大文件返回 202 与 job_id，"
    "在后台编入索引，用 GET /api/jobs/{job_id} 查看进度。大小上限为 ASSISTANT_MAX_UPLOAD_MB（默认 20 MB）。",
    responses={
        202: {"model": JobAccepted, "description": "大文件：已接受，后台编入索引"},
        **error_docs(400, 409, 413, 415, 422, 429),
    },
)
async def upload_document(
    request: Request,
    jobs: JobsDep,
    gate: UploadGateDep,
    file: Annotated[UploadFile, File(description=f"文档文件：{SUPPORTED_LIST}")],
    title: Annotated[
        str | None, Form(max_length=200, description="标题（可选，默认取文档首个标题行）")
    ] = None,
):
    limit = int(jobs.assistant.settings.max_upload_mb * 1024 * 1024)
    data = await file.read(limit + 1)  # one byte over is enough for the 413 raised by check_upload
    meta = {"title": title.strip()} if title and title.strip() else None
    async with client_gone(request) as gone:
        with stop_when(gone):  # a client that leaves mid-parse stops the parse (the thread gets this context)
            result = await gate.run(jobs.upload, file.filename or "", data, meta)
    if result.job is not None:
        url = f"/api/jobs/{result.job['job_id']}"
        return UnicodeJSONResponse(
            {"job_id": result.job["job_id"], "status": result.job["status"], "status_url": url},
            status_code=202,
            headers={"Location": url},
        )
    return result.document


@router.delete(
    "/documents/{doc_id}",
    status_code=204,
    response_class=Response,
    responses=error_docs(404, 422),
    summary="删除文档（从 corpus/ 与两个索引中移除）",
)
def delete_document(doc_id: str, assistant: AssistantDep):
    assistant.remove_document(doc_id)
    return Response(status_code=204)
