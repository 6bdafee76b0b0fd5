"""Exception tree; every class carries the HTTP status it maps to, and `http/errors.py` renders them once, for both
error shapes (exception handlers and middlewares alike). Messages are Chinese and say what to fix; the surfaces
show them as they are. Every class here is raised somewhere (tests/test_errors.py checks both).

AssistantError (400)                 bad input (empty question, unknown option, a Host not allowed ...)
├── Unauthorized (401)               a missing or wrong API key (`http.auth.ApiKeyGuard`, before any handler)
├── Forbidden (403)                  a cross-origin write (`http.middleware.OriginGuard`)
├── NotFound (404)                   unknown document or job
│   └── ModelNotFound                unknown /v1 model (OpenAI code `model_not_found`)
├── DuplicateDocument (409)          the same content is already indexed or queued (`doc_id` of the copy)
├── PayloadTooLarge (413)            an upload over ASSISTANT_MAX_UPLOAD_MB or over a parse budget
├── UnsupportedFileType (415)        a file type no parser reads
├── EmptyDocument (422)              no text could be extracted
├── TooManyRequests (429)            full upload/job queues, too many failed key attempts (with Retry-After)
├── ClientGone (499)                 the uploading client disconnected mid-parse: the parse stopped, nothing is
│                                    kept, nobody is answered (499 shows only in the access log)
├── embeddings.EmbeddingUnavailable (503)  an embedding endpoint (openai:<model>) still failing after retries
├── LLMFailure (502)                 the LLM endpoint answered, but not usably; caught and degraded to the
│                                    extractive answer with a warning, so it never reaches a client
└── database.Unavailable (503)       Chroma or the index database is down: try again later
    ├── store.DenseUnavailable       a vector query failed; answers fall back to BM25 and phrases
    └── database.DatabaseUnavailable the index database (SQLite or the shared PostgreSQL) is unreachable
"""

# What every surface says about a bug (the details go to the log, never to the user).
INTERNAL_ERROR = "服务器内部错误：请稍后重试；如果问题持续出现，请联系管理员并告知出错时间。"


class AssistantError(Exception):
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Unauthorized(AssistantError):
    status = 401


class Forbidden(AssistantError):
    status = 403


class TooManyRequests(AssistantError):
    status = 429

    def __init__(self, message: str, retry_after: int = 30):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class NotFound(AssistantError):
    status = 404


class ModelNotFound(NotFound):
    code = "model_not_found"  # OpenAI's error code


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


class ClientGone(AssistantError):
    status = 499  # nginx's "client closed request"


class LLMFailure(AssistantError):
    """The LLM endpoint answered, but not usably (cut-off or empty stream); `reason` is Chinese."""

    status = 502

    @property
    def reason(self) -> str:
        return self.message
