"""What every loyalty handler, task and route gets besides its transaction, and the scopes
routes require."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from services.loyalty.settings import LoyaltySettings
from shared.app import context_dependency
from shared.auth import scope_dependencies


@dataclass(frozen=True)
class LoyaltyContext:
    settings: LoyaltySettings

    @property
    def task_batch_size(self) -> int:
        """Accounts one run of a periodic task handles at most."""
        return self.settings.task_batch_size


LoyaltyDep = Annotated[LoyaltyContext, Depends(context_dependency(LoyaltyContext))]
"""A route parameter receiving the loyalty context: ``ctx: LoyaltyDep``."""

READ, WRITE = scope_dependencies("loyalty")
"""Route dependencies admitting keys with `loyalty:read` / `loyalty:write` (or admin)."""
