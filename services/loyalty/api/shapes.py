"""Rows and views to response models."""

from __future__ import annotations

from services.loyalty.handlers.queries import LedgerCheck, PointsView
from services.loyalty.handlers.task_claims import TaskClaim
from services.loyalty.models import Hold, LedgerEntryRow, RuleVersion
from services.loyalty.schemas import (
    ExpiringPoints,
    HoldPublic,
    LedgerCheckPublic,
    LedgerEntryPublic,
    LotAllocationPublic,
    PointsPublic,
    RulesPublic,
    TaskClaimPublic,
    TierProgressPublic,
)


def points_public(view: PointsView) -> PointsPublic:
    account, progress = view.account, view.tier_progress
    expiring = [
        ExpiringPoints(points=lot.remaining, expires_at=lot.expires_at) for lot in view.expiring
    ]
    return PointsPublic(
        customer_id=account.customer_id,
        balance=account.balance,
        held=account.held,
        available=view.available,
        debt=account.debt,
        tier=account.tier.value,
        tier_progress=TierProgressPublic(
            net_spend_12m=progress.net_spend,
            next_tier=progress.next_tier.value if progress.next_tier else None,
            spend_to_next=progress.spend_to_next_tier,
        ),
        expiring_30d=expiring,
        expiring_30d_total=sum(item.points for item in expiring),
        expiring_window_days=view.expiring_window_days,
        as_of=view.as_of,
    )


def entry_public(row: LedgerEntryRow) -> LedgerEntryPublic:
    return LedgerEntryPublic(
        entry_id=row.entry_id,
        kind=row.kind,
        reason=row.reason,
        points=row.points,
        balance_after=row.balance_after,
        held_after=row.held_after,
        source_id=row.source_id,
        rule_version=row.rule_version,
        business_time=row.business_time,
        recorded_at=row.recorded_at,
        order_id=row.order_id,
        hold_id=row.hold_id,
        lot_expires_at=row.lot_expires_at,
        debt_repaid=row.debt_repaid,
        allocations=[LotAllocationPublic(**allocation) for allocation in row.allocations],
        note=row.note,
    )


def check_public(check: LedgerCheck) -> LedgerCheckPublic:
    return LedgerCheckPublic(
        customer_id=check.customer_id,
        consistent=check.consistent,
        balance=check.balance,
        balance_from_ledger=check.balance_from_ledger,
        held=check.held,
        held_from_ledger=check.held_from_ledger,
        pending_holds=check.pending_holds,
        debt=check.debt,
        lots_remaining=check.lots_remaining,
        tier=check.tier.value,
    )


def task_claim_public(claim: TaskClaim) -> TaskClaimPublic:
    return TaskClaimPublic(
        customer_id=claim.customer_id,
        task=str(claim.task),
        business_day=claim.business_day,
        points=claim.points,
        credited=claim.credited,
        held=claim.held,
        balance=claim.balance,
        rule_version=claim.rule_version,
    )


def hold_public(hold: Hold) -> HoldPublic:
    return HoldPublic(
        hold_id=hold.id,
        customer_id=hold.customer_id,
        points=hold.points,
        original_points=hold.original_points,
        reason=hold.reason,
        source_id=hold.source_id,
        order_id=hold.order_id,
        rule_version=hold.rule_version,
        held_at=hold.held_at,
        status=hold.status,  # type: ignore[arg-type]
        resolved_at=hold.resolved_at,
        resolved_by=hold.resolved_by,
    )


def rules_public(row: RuleVersion) -> RulesPublic:
    return RulesPublic(
        version=row.version,
        published_at=row.published_at,
        published_by=row.published_by,
        rules=row.document,
    )
