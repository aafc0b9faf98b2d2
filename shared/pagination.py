"""Cursor pages for every list: ``?limit=&cursor=`` in, ``{items, next_cursor}`` out.

Cursors are opaque keyset positions: the client hands back what the API issued, and a list
that grows while it is read neither skips nor repeats an item.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import AfterValidator, BaseModel, Field

Item = TypeVar("Item")

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


def _cursor_or_422(cursor: str | None) -> str | None:
    return decode_cursor(cursor)


CursorQuery = Annotated[
    str | None,
    Query(max_length=400, description="`next_cursor` of the previous page; omit for the first"),
    AfterValidator(_cursor_or_422),
]
"""A route's ``cursor`` parameter, already decoded to the key the page starts after."""

LimitQuery = Annotated[int, Query(ge=1, le=500, description="items per page")]


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null at end")


def next_cursor(keys: list[str], limit: int) -> str | None:
    """The cursor after a page, given the keys of up to ``limit + 1`` rows read for it."""
    return encode_cursor(keys[limit - 1]) if len(keys) > limit else None
