"""Reads for other teams: the SLA policy in force, tiers as ticketing knows them, and the
return reasons for product teams."""

from __future__ import annotations

from datetime import datetime
from typing import get_args

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing.models import CustomerTier, Refund, SlaPolicyVersion
from services.ticketing.repository import policy as policy_rows
from services.ticketing.rules.sla import SlaPolicy
from services.ticketing.rules.values import DEFAULT_TIER
from services.ticketing.schemas import (
    CustomerTierPublic,
    ReturnReasonCount,
    ReturnReasonReport,
    SlaPolicyPublic,
)
from shared.events.catalogue import RefundReason
from shared.money import to_yuan


async def sla_policy(session: AsyncSession) -> SlaPolicyPublic:
    row = await policy_rows.current_policy_row(session)
    return policy_public(SlaPolicy.from_dict(row.policy) if row is not None else SlaPolicy(), row)


def policy_public(policy: SlaPolicy, row: SlaPolicyVersion | None) -> SlaPolicyPublic:
    """`row` None: the built-in defaults, version 0."""
    return SlaPolicyPublic.model_validate(
        {
            **policy.to_dict(),
            "version": row.version if row is not None else 0,
            "effective_at": row.effective_at if row is not None else None,
            "changed_by": row.changed_by if row is not None else None,
        }
    )


async def customer_tier(session: AsyncSession, customer_id: str) -> CustomerTierPublic:
    """The tier ticketing learned for the customer; never heard of: bronze, not known."""
    known = await session.get(CustomerTier, customer_id)
    return CustomerTierPublic.model_validate(
        {
            "customer_id": customer_id,
            "tier": known.tier if known is not None else str(DEFAULT_TIER),
            "known": known is not None,
            "changed_at": known.changed_at if known is not None else None,
        }
    )


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
