"""Dependencies the routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from shared.app import ServiceRuntime
from shared.auth import Principal, require

READ = Depends(require("ticketing:read"))
WRITE = Depends(require("ticketing:write"))


def _runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[ServiceRuntime, Depends(_runtime)]
AdminDep = Annotated[Principal, Depends(require("admin"))]
Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
Offset = Annotated[int, Query(ge=0, description="items to skip")]


def next_offset(offset: int, limit: int, total: int) -> int | None:
    return offset + limit if offset + limit < total else None
