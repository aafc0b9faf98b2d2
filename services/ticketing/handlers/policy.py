"""The SLA policy as data: read the one in force, put a new version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing import store
from services.ticketing.errors import InvalidInput
from services.ticketing.models import SlaPolicyVersion
from services.ticketing.rules import PolicyError, SlaPolicy
from shared.errors import Conflict


async def get_policy(session: AsyncSession) -> tuple[SlaPolicy, SlaPolicyVersion | None]:
    """The policy in force and the row it came from (None: the built-in defaults)."""
    row = await store.current_policy_row(session)
    policy = SlaPolicy.from_dict(row.policy) if row is not None else SlaPolicy()
    return policy, row


async def put_policy(
    session: AsyncSession, document: dict[str, Any], *, now: datetime, changed_by: str
) -> tuple[SlaPolicy, SlaPolicyVersion]:
    """Store a new version. It applies to tickets prioritised from now on; due times already
    computed are left as they are."""
    try:
        policy = SlaPolicy.from_dict(document)
    except PolicyError as exc:
        raise InvalidInput(exc.field, exc.message) from exc
    current = await store.current_policy_row(session)
    row = SlaPolicyVersion(
        version=(current.version if current is not None else 0) + 1,
        policy=policy.to_dict(),
        effective_at=now,
        changed_by=changed_by,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "policy_changed", "The SLA policy was changed concurrently; read it and retry."
        ) from exc
    return policy, row
