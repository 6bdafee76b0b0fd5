"""The JSON response class every route and error body uses."""

from fastapi.responses import JSONResponse


class UnicodeJSONResponse(JSONResponse):
    """UTF-8 JSON with Chinese unescaped (JSON is UTF-8 by definition: RFC 8259, no charset parameter)."""

    media_type = "application/json"
