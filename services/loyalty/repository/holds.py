"""A hold by its public id, as stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty.repository.rows import HOLDS

_BY_ID = select(HOLDS).where(HOLDS.c.id == bindparam("hold_id"))


async def hold_by_id(session: AsyncSession, hold_id: str) -> Any:
    """The hold's row (attribute access), or None."""
    return (await session.execute(_BY_ID, {"hold_id": hold_id})).one_or_none()
