"""A small HTTP/1.1 keep-alive client on asyncio streams: cheap enough per request that the
bench measures the server, not the client. Enough of HTTP for the services' JSON APIs."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reusable = True

    async def exchange(self, request: bytes) -> HttpResponse:
        self.writer.write(request)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._read_chunked()
        else:
            body = await self.reader.read()
            self.reusable = False
        if headers.get("connection", "").lower() == "close":
            self.reusable = False
        return HttpResponse(status, body)

    async def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self) -> None:
        self.writer.close()


class HttpClient:
    """Keep-alive connections to one host; concurrent requests open more connections."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host = host
        self.port = port
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self._fixed_headers = f"Host: {host}:{port}\r\n{extra}"
        self._idle: list[_Connection] = []

    async def get(self, path: str, *, timeout: float = 10.0) -> HttpResponse:
        return await self.request("GET", path, timeout=timeout)

    async def post_json(self, path: str, payload: Any, *, timeout: float = 10.0) -> HttpResponse:
        return await self.request("POST", path, json.dumps(payload).encode(), timeout=timeout)

    async def request(
        self, method: str, path: str, body: bytes | None = None, *, timeout: float = 10.0
    ) -> HttpResponse:
        head = f"{method} {path} HTTP/1.1\r\n{self._fixed_headers}"
        if body is not None:
            head += f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
        request = (head + "\r\n").encode("latin-1") + (body or b"")
        # asyncio.timeout, not wait_for: on 3.11 wait_for may swallow a cancellation.
        async with asyncio.timeout(timeout):
            return await self._send(request)

    async def _send(self, request: bytes) -> HttpResponse:
        while self._idle:
            # A kept-alive connection may have been closed by the server while idle:
            # nothing of the request was read then, so it is safe to send it again.
            connection = self._idle.pop()
            try:
                return await self._exchange(connection, request)
            except (ConnectionError, asyncio.IncompleteReadError):
                continue
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return await self._exchange(_Connection(reader, writer), request)

    async def _exchange(self, connection: _Connection, request: bytes) -> HttpResponse:
        try:
            response = await connection.exchange(request)
        except BaseException:
            connection.close()
            raise
        if connection.reusable:
            self._idle.append(connection)
        else:
            connection.close()
        return response

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
