"""One router per resource; `app.api_routers()` lists them. Handlers parse, call one `Assistant` method and
format; errors are raised as `AssistantError`s and rendered by `http.errors`."""
