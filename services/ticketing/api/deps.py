"""Dependencies the routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from shared.auth import Principal, require

READ = Depends(require("ticketing:read"))
WRITE = Depends(require("ticketing:write"))


AdminDep = Annotated[Principal, Depends(require("admin"))]
Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
Offset = Annotated[int, Query(ge=0, description="items to skip")]


def next_offset(offset: int, limit: int, total: int) -> int | None:
    return offset + limit if offset + limit < total else None
