"""Refunds kept for the return-reason report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing.models import Refund


@dataclass(frozen=True)
class RefundRow:
    order_id: str
    reason: str
    amount_fen: int
    refunded_at: datetime


async def add_refunds(session: AsyncSession, refunds: Sequence[RefundRow]) -> None:
    """One multi-row insert for a run's refunds."""
    if not refunds:
        return
    await session.execute(
        insert(cast(Table, Refund.__table__)),
        [
            {
                "order_id": refund.order_id,
                "reason": refund.reason,
                "amount_fen": refund.amount_fen,
                "refunded_at": refund.refunded_at,
            }
            for refund in refunds
        ],
    )
