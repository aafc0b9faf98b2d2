"""What ticketing's handlers, tasks and routes receive, built once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from prometheus_client import Counter

from services.ticketing.settings import TicketingSettings
from shared.app import context_dependency


@dataclass(frozen=True)
class TicketingContext:
    settings: TicketingSettings
    sla_breaches: Counter
    """`loopcrm_sla_breaches_total{tier}`: breaches of committed scans."""


TicketingDep = Annotated[TicketingContext, Depends(context_dependency(TicketingContext))]
"""A route parameter that receives the context: ``ctx: TicketingDep``."""
