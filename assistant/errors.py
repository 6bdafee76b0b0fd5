"""Exception tree; every class carries the HTTP status it maps to.

AssistantError (400)
├── NotFound (404)
├── DuplicateDocument (409)
├── PayloadTooLarge (413)
├── UnsupportedFileType (415)
├── EmptyDocument (422)
├── Unauthorized (401)
├── Forbidden (403)        cross-origin writes, a Host not allowed
├── TooManyRequests (429)  full upload/job queues, too many failed key attempts (with Retry-After)
└── UpstreamError (502)   LLM endpoint failures, normally caught and degraded
"""


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


class UpstreamError(AssistantError):
    status = 502
