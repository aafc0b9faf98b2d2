"""Dependencies the routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from shared.auth import Principal, require

READ = Depends(require("loyalty:read"))
WRITE = Depends(require("loyalty:write"))


AdminDep = Annotated[Principal, Depends(require("admin"))]
CustomerId = Annotated[str, Path(min_length=1, max_length=128)]
