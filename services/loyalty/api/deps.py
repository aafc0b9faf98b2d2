"""Dependencies the routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from shared.app import ServiceRuntime
from shared.auth import Principal, require

READ = Depends(require("loyalty:read"))
WRITE = Depends(require("loyalty:write"))


def _runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[ServiceRuntime, Depends(_runtime)]
AdminDep = Annotated[Principal, Depends(require("admin"))]
CustomerId = Annotated[str, Path(min_length=1, max_length=128)]
