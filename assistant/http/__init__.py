"""The HTTP surface: parse a request, call one `Assistant` method, format the result.

`app.create_app` wires everything; each module owns one concern and they import one way only:
routes → deps/schemas/streaming/openai_format → errors → responses (nothing here imports `app`).
Kept free of imports so `import assistant.http.errors` does not build the whole app.
"""
