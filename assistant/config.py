"""All settings in one class: environment variables ASSISTANT_* and an optional assistant.toml."""

from pathlib import Path
from typing import Annotated

from pydantic import Field, computed_field, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", toml_file="assistant.toml", extra="ignore")

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    embedding: str = "e5-small-q4"
    chroma_url: str = ""
    # postgresql://user:password@host:5432/db: documents, chunks, tokens, generation and jobs shared by every
    # replica (needs chroma_url); empty: index_dir/assistant.db (SQLite)
    database_url: str = ""

    # ASSISTANT_EMBEDDING=openai:<model>: an OpenAI-compatible embeddings endpoint (TEI, vLLM, Xinference,
    # Ollama, or another assistant's /v1/embeddings)
    embedding_base_url: str = ""  # with /v1, e.g. http://embed.intranet:8080/v1
    embedding_api_key: str = ""
    embedding_batch_size: int = Field(64, ge=1, le=2048)  # passages per request
    embedding_timeout_s: float = Field(60.0, gt=0)
    embedding_max_retries: int = Field(3, ge=0, le=10)  # connection errors, timeouts, 429, 5xx
    embedding_query_prefix: str | None = None  # None: "query: " for e5 models, "" otherwise
    embedding_passage_prefix: str | None = None  # None: "passage: " for e5 models, "" otherwise
    # embed the answer candidates' sentences when indexing (doubles an index build's embedding); off: each is
    # embedded when a question first reaches it
    index_sentence_vectors: bool = True

    llm_base_url: str = ""
    llm_model: str = "deepseek-chat"
    llm_api_key: str = ""
    llm_temperature: float = Field(0.1, ge=0, le=2)
    llm_max_tokens: int = Field(800, ge=16)
    llm_timeout_s: float = Field(30.0, gt=0)
    llm_max_retries: int = Field(1, ge=0, le=5)
    llm_context_chars: int = Field(6000, ge=500)

    max_upload_mb: float = Field(20, gt=0)
    api_keys: Annotated[list[str], NoDecode] = []

    # chunking
    chunk_target_chars: int = 300
    chunk_max_chars: int = 500
    max_sentence_chars: int = 200

    # retrieval: candidates from each retriever, then reciprocal-rank fusion
    candidates: int = 30
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    phrase_weight: float = 1.0  # the list of chunks holding the query's domain phrases verbatim

    # the fitted answer model (weights and refusal threshold); empty: the packaged one (see `assistant fit`)
    answer_model: Path | None = None

    # parse budgets (parsers.Limits): checked before the expensive step, a Chinese 413 names the one exceeded
    parse_max_unzipped_mb: float = Field(100, gt=0)  # .docx and converted .doc/.wps/.rtf, unzipped
    parse_max_zip_entries: int = Field(2000, ge=10)  # parts in a .docx
    parse_max_pdf_pages: int = Field(500, ge=1)
    parse_max_chars: int = Field(2_000_000, ge=1000)  # extracted characters of one document
    parse_max_ocr_pages: int = Field(50, ge=0)  # scanned pages recognised per document (≈5–10 s each)
    parse_convert_timeout_s: float = Field(120, gt=0)  # LibreOffice conversion of legacy formats

    # uploads whose ingest is estimated above this many chunks run as a background job (202)
    sync_upload_max_chunks: int = 40

    # hardening (issue 12): upload and job back-pressure, request origins, auth rate limits, timeouts
    # uploads parsed/embedded at once; the rest wait, off the threads
    upload_concurrency: int = Field(2, ge=1)
    upload_queue: int = Field(16, ge=0)  # uploads allowed to wait for a slot; beyond that a 429
    upload_wait_s: float = Field(60.0, gt=0)  # longest wait for a slot before a 429
    jobs_max_queued: int = Field(8, ge=1)  # background jobs queued or running; beyond that a 429
    jobs_max_mb: float = Field(200, gt=0)  # upload bytes parked in index/jobs/ for queued jobs
    # Host names accepted besides loopback and the bind address
    allowed_hosts: Annotated[list[str], NoDecode] = []
    # other origins allowed to POST/DELETE (e.g. https://portal)
    allowed_origins: Annotated[list[str], NoDecode] = []
    # failed key/login attempts per client within auth_window_s → 429
    auth_max_failures: int = Field(10, ge=1)
    auth_window_s: float = Field(60.0, gt=0)
    body_timeout_s: float = Field(60.0, gt=0)  # deadline for reading a whole request body (408)
    header_timeout_s: float = Field(10.0, gt=0)  # deadline for a request's headers (slow clients dropped)
    keep_alive_s: int = Field(5, ge=1)  # idle keep-alive connections closed after this

    @field_validator("api_keys", "allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def split_keys(cls, value):
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value

    @computed_field
    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url.strip())

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ):
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)
