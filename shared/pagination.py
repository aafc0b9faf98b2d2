"""Opaque keyset cursors for paginated lists: the client hands back what the API issued."""

from __future__ import annotations

import base64
import binascii

_CURSOR_PREFIX = "after:"


def encode_cursor(after_key: str) -> str:
    raw = f"{_CURSOR_PREFIX}{after_key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The key a page starts after; ValueError for a cursor this API did not issue."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise ValueError("not a cursor returned by this API") from error
    if not raw.startswith(_CURSOR_PREFIX) or len(raw) == len(_CURSOR_PREFIX):
        raise ValueError("not a cursor returned by this API")
    return raw[len(_CURSOR_PREFIX) :]
