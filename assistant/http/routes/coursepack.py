"""POST /api/coursepack: a cited course pack as JSON, or exported as Word or Markdown."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ..deps import API_KEY, AssistantDep
from ..schemas import CoursePackRequest, CoursePackResponse, error_docs

router = APIRouter(
    prefix="/api", tags=["课程素材"], dependencies=API_KEY, responses=error_docs(400, 401, 413, 422)
)

FILES_DOC = {
    200: {
        "description": "format=json 时为 JSON；docx、md 时为文件本身（Content-Disposition 给出文件名）",
        "content": {
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
                "schema": {"type": "string", "format": "binary"}
            },
            "text/markdown": {"schema": {"type": "string"}},
        },
    }
}


@router.post(
    "/coursepack",
    response_model=CoursePackResponse,
    responses=FILES_DOC,
    summary="按主题汇编带出处的课程素材（JSON、Word 或 Markdown）",
)
def coursepack(body: CoursePackRequest, assistant: AssistantDep):
    if body.format == "json":
        return assistant.course_pack(
            body.topics, body.exclude, body.sections, body.summaries, body.max_items
        ).to_dict()
    export = assistant.course_pack_export(
        body.topics, body.format, body.exclude, body.sections, body.summaries, body.max_items
    )
    return Response(
        export.data, media_type=export.media_type, headers={"Content-Disposition": export.content_disposition}
    )
