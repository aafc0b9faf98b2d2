"""Text holding the NUL character is refused at the door with a 422: PostgreSQL cannot store
it in any text column, so it would otherwise fail deep in a transaction as a 500 (SQLite would
store it, and the two databases would answer differently).

Plain ASGI, before routing: the path and query string are looked at as sent (``%00``), a JSON
body for the escape ``\\u0000`` (the only way JSON can carry a NUL in a string).
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
"""``\\u0000`` after an even number of backslashes (``\\\\u0000`` is a backslash and "u0000")."""


def _refusal(location: str) -> bytes:
    field = "body" if location == "body" else location
    return json.dumps(
        {
            "error": {
                "code": "invalid_request",
                "message": f"Invalid input: {field}.",
                "fields": [
                    {
                        "field": field,
                        "location": location,
                        "message": "text must not contain the NUL character (U+0000)",
                    }
                ],
            }
        }
    ).encode()


class RefuseNulCharacters:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if b"%00" in scope.get("raw_path", b"") or "\x00" in scope["path"]:
            await _refuse(send, "path")
            return
        if b"%00" in scope.get("query_string", b""):
            await _refuse(send, "query")
            return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self._app(scope, receive, send)
            return
        first = await _whole_body(receive)
        if first["type"] == "http.request" and _ESCAPED_NUL.search(first["body"]):
            await _refuse(send, "body")
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return first

        await self._app(scope, replay, send)


async def _whole_body(receive: Receive) -> Message:
    """The request's body as one ``http.request`` message (or the disconnect that ended it)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return message if not chunks else {"type": "http.request", "body": b"".join(chunks)}
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}


async def _refuse(send: Send, location: str) -> None:
    body = _refusal(location)
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
