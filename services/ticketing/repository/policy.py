"""The SLA policy in force: the highest version stored, or the built-in defaults."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing.models import SlaPolicyVersion
from services.ticketing.rules.sla import SlaPolicy


async def current_policy_row(session: AsyncSession) -> SlaPolicyVersion | None:
    return await session.scalar(
        select(SlaPolicyVersion).order_by(SlaPolicyVersion.version.desc()).limit(1)
    )


async def current_policy(session: AsyncSession) -> SlaPolicy:
    """The policy in force; the defaults until someone puts a policy."""
    policies = SlaPolicyVersion.__table__
    document = await session.scalar(
        select(policies.c.policy).order_by(policies.c.version.desc()).limit(1)
    )
    return SlaPolicy.from_dict(document) if document is not None else SlaPolicy()
