"""Read models for other teams: return reasons for product teams, tiers as ticketing knows them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import get_args

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing.models import CustomerTier, Refund
from services.ticketing.schemas import ReturnReasonCount, ReturnReasonReport
from shared.events.catalogue import RefundReason

_FEN_PER_YUAN = Decimal(100)


def to_fen(amount: Decimal) -> int:
    return int((amount * _FEN_PER_YUAN).to_integral_value())


def to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / _FEN_PER_YUAN).quantize(Decimal("0.01"))


async def return_reasons(
    session: AsyncSession, *, since: datetime | None, until: datetime | None
) -> ReturnReasonReport:
    """Refunds by reason in [since, until), every reason listed, the most frequent first."""
    query = select(Refund.reason, func.count(), func.coalesce(func.sum(Refund.amount_fen), 0))
    if since is not None:
        query = query.where(Refund.refunded_at >= since)
    if until is not None:
        query = query.where(Refund.refunded_at < until)
    rows = await session.execute(query.group_by(Refund.reason))
    counted = {reason: (count, int(fen)) for reason, count, fen in rows}
    total = sum(count for count, _ in counted.values())
    reasons: list[ReturnReasonCount] = []
    for reason in get_args(RefundReason):
        count, fen = counted.get(reason, (0, 0))
        share = round(count / total, 4) if total else 0.0
        reasons.append(
            ReturnReasonCount(reason=reason, refunds=count, amount=to_yuan(fen), share=share)
        )
    reasons.sort(key=lambda entry: (-entry.refunds, entry.reason))
    return ReturnReasonReport(
        since=since,
        until=until,
        total_refunds=total,
        total_amount=to_yuan(sum(fen for _, fen in counted.values())),
        reasons=reasons,
    )


async def customer_tier(session: AsyncSession, customer_id: str) -> CustomerTier | None:
    """The tier ticketing learned for the customer; None: never heard of, so bronze."""
    return await session.get(CustomerTier, customer_id)
