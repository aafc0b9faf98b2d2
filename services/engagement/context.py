"""What every engagement handler, command, query and task gets besides its transaction.

Built once by the composition root (`app.create_app`); routes receive it as `EngagementDep`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from services.engagement.adapters.delivery import Adapters
from services.engagement.adapters.recording import RecordingAdapter
from services.engagement.rules.delivery import DeliveryPolicy
from services.engagement.rules.policy import EngagementPolicy
from services.engagement.settings import EngagementSettings
from shared.app import context_dependency


@dataclass(frozen=True)
class EngagementContext:
    settings: EngagementSettings
    policy: EngagementPolicy
    delivery: DeliveryPolicy
    adapters: Adapters
    """The sender of each channel."""
    recording: RecordingAdapter
    """The default sender, which keeps what it would have sent."""


EngagementDep = Annotated[EngagementContext, Depends(context_dependency(EngagementContext))]
