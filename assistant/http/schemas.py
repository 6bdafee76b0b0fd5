"""Request and response models of /healthz and /api/* (the /v1 shapes are in `openai_format`): what the
OpenAPI schema at /docs shows. Response models use extra="allow" so fields the service adds later pass through
(and the schema says they may)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

from ..coursepack import TOPIC_PATTERN
from ..errors import AssistantError
from ..service import MAX_QUESTION_CHARS, Assistant

TopK = Annotated[int, Field(ge=1, le=20, strict=True, description="检索的片段数，1–20")]


class CitationOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    n: int
    doc_id: str
    title: str
    source: str
    chunk_id: str
    text: str = Field(..., description="检索到的整个片段")
    quote: str = Field(..., description="支持答案的原句，等于文档 text[start:end]")
    start: int
    end: int
    score: float


# --------------------------------------------------------------------------- requests


def _service_rule(what: str):
    """The service's own rule for question and search text (trimmed, not empty, valid Unicode, at most
    MAX_QUESTION_CHARS), applied while parsing only so that the API's 422 names the field; the limit itself
    lives in the service, which applies the same rule for the CLI and the UI."""

    def check(value: str) -> str:
        try:
            return Assistant.check_text(value, what)
        except AssistantError as exc:
            raise ValueError(exc.message.rstrip("。")) from None

    return AfterValidator(check)


QuestionText = Annotated[
    str,
    Field(
        min_length=1,
        description=f"问题，去除首尾空白后 1–{MAX_QUESTION_CHARS} 字",
        examples=["哪个社区推行了碧·有服务？"],
    ),
    _service_rule("问题"),
]
QueryText = Annotated[
    str,
    Field(
        min_length=1, description=f"检索词，去除首尾空白后 1–{MAX_QUESTION_CHARS} 字", examples=["网格化管理"]
    ),
    _service_rule("查询"),
]


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: QuestionText
    top_k: TopK = 5
    history: list[Turn] | None = Field(None, max_length=100, description="之前的对话（可选），按时间顺序")

    def history_dicts(self) -> list[dict] | None:
        return [t.model_dump() for t in self.history] if self.history else None


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: QueryText
    top_k: TopK = 5


# --------------------------------------------------------------------------- responses


class ErrorDetail(BaseModel):
    detail: str = Field(..., description="出错原因与改正方法（中文）")


class Health(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["ok", "degraded", "down"] = Field(
        ...,
        description="ok；degraded：部分依赖不可用，仍可回答（如 Chroma 停机时仅按关键词检索）；down：无法回答（503）",
    )
    documents: int
    chunks: int
    chroma: Literal["ok", "down"] | None = Field(None, description="向量库（Chroma）是否可用")
    database: Literal["ok", "down"] | None = Field(None, description="索引数据库是否可读")


class AskResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    answer: str = Field(..., description="答案，用 [n] 标注出处，对应 citations[].n")
    grounded: bool = Field(..., description="资料中没有答案时为 false（answer 说明“资料中未找到……”）")
    mode: Literal["extractive", "llm"]
    citations: list[CitationOut]
    confidence: float | None = Field(
        None, ge=0, le=1, description="回答模型估计答案正确的概率；不低于拟合阈值时 grounded 为 true"
    )
    warning: str | None = Field(None, description="答案降级时的说明（例如大模型不可用，改用摘录式回答）")


class HitOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    doc_id: str
    title: str
    source: str
    chunk_id: str
    text: str
    start: int
    end: int
    score: float


class SearchResponse(BaseModel):
    hits: list[HitOut]


class DocumentEntry(BaseModel):
    model_config = ConfigDict(extra="allow")

    doc_id: str
    title: str
    source: str
    chars: int
    chunks: int
    added_at: str


class DocumentList(BaseModel):
    documents: list[DocumentEntry]


class DocumentDetail(DocumentEntry):
    text: str = Field(..., description="清洗后的全文；引用的 start/end 即此文本中的位置")


class JobAccepted(BaseModel):
    job_id: str
    status: Literal["queued", "running", "done", "failed"]
    status_url: str = Field(..., description="查询进度：GET /api/jobs/{job_id}")


class JobStatus(BaseModel):
    model_config = ConfigDict(extra="allow")

    job_id: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float = Field(..., ge=0, le=1)
    doc_id: str | None = Field(None, description="完成后的文档 doc_id")
    error: str | None = Field(None, description="失败原因")


def error_docs(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the 4xx codes a route can return, all in the {"detail"} shape."""
    meaning = {
        400: "请求有误",
        401: "缺少或错误的 API 密钥",
        404: "不存在",
        405: "请求方法不对",
        409: "内容已在知识库中",
        413: "请求或文件过大",
        429: "请求过多（上传或后台任务已满、密钥尝试过多），稍后按 Retry-After 重试",
        415: "不支持的文件类型",
        422: "参数校验失败或文件中没有可提取的文字",
    }
    return {code: {"model": ErrorDetail, "description": meaning[code]} for code in codes}


# --------------------------------------------------------------------------- course packs

PackTopic = Annotated[
    str, Field(json_schema_extra={"minLength": 1, "maxLength": 50, "pattern": TOPIC_PATTERN})
]
PackKind = Annotated[str, Field(json_schema_extra={"enum": ["典型案例", "数据成效", "工作举措"]})]


class CoursePackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The limits are documented here and checked by the service, which answers with a Chinese 400 saying what to fix.
    topics: list[PackTopic] = Field(
        ...,
        description="主题，1–10 个，每个不超过 50 字",
        examples=[["网格化管理", "物业党建"]],
        json_schema_extra={"minItems": 1, "maxItems": 10},
    )
    format: str = Field(
        "json",
        description="json（默认）、docx（Word/WPS）或 md（Markdown）",
        json_schema_extra={"enum": ["json", "docx", "md"]},
    )
    exclude: list[str] | None = Field(None, description="不要的素材条目 id（来自 JSON 结果的 items[].id）")
    sections: list[PackKind] | None = Field(
        None,
        description='要导出的类别及其顺序，例如 ["工作举措", "典型案例"]；未列出的类别不导出（与网页上删掉类别相同）',
    )
    summaries: StrictBool = Field(
        True, description="大模型模式下为每个类别生成带出处的要点小结（抽取式模式忽略）"
    )
    max_items: int | None = Field(
        None, ge=1, le=100, strict=True, description="每个主题最多几条素材（默认 25，按相关程度取前若干条）"
    )


class PackItemOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    text: str
    n: int = Field(..., description="出处编号，对应 references[].n")
    doc_id: str
    title: str
    source: str
    quote: str = Field(..., description="原文摘录，等于文档 text[start:end]")
    start: int
    end: int
    sentences: list[dict] = Field(
        default_factory=list, description="条目中的各句（start、end），每句都标注出处 [n]"
    )
    topic: str = Field("", description="条目所在的主题")
    also: list[str] = Field(default_factory=list, description="条目同样涉及的其他主题（只出现一次）")
    label: str = Field("", description="可读的出处：《标题》（地区，日期）")
    context: str = Field(
        "",
        description="条目首句未点名地方或单位时，原文上文点到的地方或单位（显示为“〔上文：……〕”，不属于引文）",
    )
    introduced: str = Field(
        "",
        description="条目首句只写了人名、未交代身份时，原文上文对此人的介绍（如“网格党支部书记李璐”，一并显示在“〔上文：……〕”中）",
    )
    related: bool = Field(
        False,
        description="资料很少直接提到本主题时：条目未直接提到它、只提到其中部分说法（显示为“（相关素材：……）”）",
    )


class PackSectionOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    kind: Literal["典型案例", "数据成效", "工作举措"]
    items: list[PackItemOut]
    summary: str | None = Field(None, description="大模型模式：本类别的要点小结，[n] 对应 references[].n")


class PackReferenceOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    n: int
    doc_id: str
    title: str
    source: str
    region: str = ""
    date: str = ""
    label: str = Field("", description="可读的出处：《标题》（地区，日期），不含内部文件名")


class PackPartOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    topic: str
    lead: str = Field("", description="导语：涉及的地方/单位及主要数据，每句标注 [n]（原文摘录）")
    broader: str = Field(
        "", description="资料从未直接论及该主题时，实际汇编所用的更宽说法（如“新型城镇化”→“城镇化”）"
    )
    corrected: str = Field(
        "",
        description="主题含错别字或请求用语时，实际汇编所用的主题（如“志原服务”→“志愿服务”，“关于网格化管理的材料”→“网格化管理”）",
    )
    kin: list[str] = Field(
        default_factory=list,
        description="资料很少直接提到该主题时，一并用来汇编的资料中的相近说法（如“防疫”→“疫情防控”）",
    )
    absent: list[str] = Field(
        default_factory=list,
        description="主题中资料从未出现的词（如“党员积分管理”的“积分”）：素材只按其余说法汇编，请核对是否切题",
    )
    sections: list[PackSectionOut]


class CoursePackResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    title: str
    topics: list[str]
    parts: list[PackPartOut] = Field(default_factory=list, description="每个主题一部分（导语 + 各类别）")
    sections: list[PackSectionOut] = Field(..., description="各部分的条目按类别合并（每条只出现一次）")
    references: list[PackReferenceOut]
    max_items: int = 25
    summaries_note: str | None = Field(None, description="未生成要点小结时的说明")
