"""GET /healthz: open without a key, 503 only when nothing can answer."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import AssistantDep
from ..responses import UnicodeJSONResponse
from ..schemas import Health

router = APIRouter(tags=["系统"])


@router.get(
    "/healthz",
    response_model=Health,
    summary="健康检查（无需密钥）",
    responses={503: {"model": Health, "description": "无法回答问题（如索引数据库不可读且尚未加载索引）"}},
)
def healthz(assistant: AssistantDep):
    health = assistant.health()
    if health["status"] == "down":  # 503 only when nothing can answer; a degraded service is still 200
        body = Health.model_validate(health).model_dump(exclude_none=True)
        return UnicodeJSONResponse(body, status_code=503)
    return health
