"""Whether a broker answers: a Kafka metadata request (version 1, no topics) with a deadline.

An open TCP port is not an answer: a broker that is frozen (stopped, swapping, stuck in a
pause) still completes the handshake in the kernel, and only a request shows it is not there.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct

_METADATA, _VERSION, _CORRELATION = 3, 1, 0x6C6F6F70
_CLIENT_ID = b"loopcrm-readiness"
_REQUEST = struct.pack(
    f">hhih{len(_CLIENT_ID)}si", _METADATA, _VERSION, _CORRELATION, len(_CLIENT_ID), _CLIENT_ID, 0
)
_FRAME = struct.pack(">i", len(_REQUEST)) + _REQUEST


async def broker_state(bootstrap: str, timeout: float = 1.0) -> str:
    """ "ok" once one of the bootstrap brokers answers a metadata request within ``timeout``;
    otherwise "unreachable" (no connection) or "not answering" (connected, no answer)."""
    state = "unreachable"
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host or "127.0.0.1", int(port)), timeout=timeout
            )
        except (OSError, TimeoutError, ValueError):
            continue
        try:
            writer.write(_FRAME)
            await asyncio.wait_for(_answered(reader), timeout=timeout)
            return "ok"
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
            state = "not answering"
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
    return state


async def _answered(reader: asyncio.StreamReader) -> None:
    (size,) = struct.unpack(">i", await reader.readexactly(4))
    body = await reader.readexactly(size)
    if size < 4 or struct.unpack(">i", body[:4])[0] != _CORRELATION:
        raise ValueError("not an answer to the metadata request")
