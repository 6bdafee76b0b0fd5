"""Exception tree; every class carries the HTTP status it maps to (`api.py` maps them once, for both error shapes).
Messages are Chinese and say what to fix; the surfaces show them as they are.

AssistantError (400)                 bad input (empty question, unknown option ...)
├── Forbidden (403)                  cross-origin writes, a Host not allowed
├── NotFound (404)                   unknown document or job
│   └── openai_compat.ModelNotFound  unknown /v1 model (OpenAI code `model_not_found`)
├── DuplicateDocument (409)          the same content is already indexed or queued (`doc_id` of the copy)
├── PayloadTooLarge (413)            an upload over ASSISTANT_MAX_UPLOAD_MB
├── UnsupportedFileType (415)        not .txt .md .html .pdf .docx
├── EmptyDocument (422)              no text could be extracted
├── TooManyRequests (429)            full upload/job queues, too many failed key attempts (with Retry-After)
├── embeddings.EmbeddingUnavailable (503)  an embedding endpoint (openai:<model>) still failing after retries
├── LLMFailure (502)                 the LLM endpoint answered, but not usably; caught and degraded to the
│                                    extractive answer with a warning, so it never reaches a client
└── store.Unavailable (503)          Chroma or the index database is down: try again later
    └── store.DenseUnavailable       a vector query failed; answers fall back to BM25 and phrases

A missing or wrong API key never becomes an exception: `ApiKeyGuard` answers 401 before any handler runs.
"""


class AssistantError(Exception):
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Forbidden(AssistantError):
    status = 403


class TooManyRequests(AssistantError):
    status = 429

    def __init__(self, message: str, retry_after: int = 30):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class NotFound(AssistantError):
    status = 404


class DuplicateDocument(AssistantError):
    status = 409

    def __init__(self, message: str, doc_id: str = ""):
        super().__init__(message)
        self.doc_id = doc_id


class PayloadTooLarge(AssistantError):
    status = 413


class UnsupportedFileType(AssistantError):
    status = 415


class EmptyDocument(AssistantError):
    status = 422


class LLMFailure(AssistantError):
    """The LLM endpoint answered, but not usably (cut-off or empty stream); `reason` is Chinese."""

    status = 502

    @property
    def reason(self) -> str:
        return self.message
