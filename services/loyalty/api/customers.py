"""A customer's points: summary, ledger, redemptions and daily tasks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse

from services.loyalty import queries
from services.loyalty.commands.redemptions import redeem_points
from services.loyalty.commands.task_claims import claim_task
from services.loyalty.context import READ, WRITE
from services.loyalty.rules.ledger import LedgerCheck
from services.loyalty.rules.tasks import Task
from services.loyalty.schemas import (
    ExpiringPoints,
    LedgerCheckPublic,
    LedgerPage,
    PointsPublic,
    RedemptionCreate,
    RedemptionPublic,
    TaskClaimCreate,
    TaskClaimPublic,
    TierProgressPublic,
)
from shared.app import RuntimeDep
from shared.auth import AdminDep
from shared.pagination import CursorQuery

router = APIRouter(prefix="/v1/customers", tags=["points"])

CustomerId = Annotated[str, Path(min_length=1, max_length=128)]
LedgerLimit = Annotated[int, Query(ge=1, le=200, description="entries per page")]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Required; a retry with the same key and body gets the same answer.",
    ),
]


@router.get("/{customer_id}/points", dependencies=[READ])
async def get_points(customer_id: CustomerId, runtime: RuntimeDep) -> PointsPublic:
    """The customer's points: balance, held, available, debt, tier and progress to the next tier,
    and what expires within the window."""
    async with runtime.read() as session:
        view = await queries.points_view(session, customer_id, runtime.clock.now())
    return _points_public(view)


@router.get("/{customer_id}/ledger", dependencies=[READ])
async def get_ledger(
    customer_id: CustomerId,
    runtime: RuntimeDep,
    limit: LedgerLimit = 50,
    cursor: CursorQuery = None,
) -> LedgerPage:
    """The customer's ledger, newest first, a cursor page: every points decision with its
    reason, rule version and balance after."""
    async with runtime.read() as session:
        return await queries.ledger_page(session, customer_id, limit=limit, after=cursor)


@router.get("/{customer_id}/ledger/verify")
async def verify_ledger(
    customer_id: CustomerId, runtime: RuntimeDep, _admin: AdminDep
) -> LedgerCheckPublic:
    """Check the account against its ledger: balance and held as stored and as the ledger adds
    them up, with pending holds, debt and points left in lots, and whether they agree."""
    async with runtime.read() as session:
        return _check_public(await queries.verify_ledger(session, customer_id))


@router.post(
    "/{customer_id}/redemptions",
    dependencies=[WRITE],
    status_code=201,
    response_model=RedemptionPublic,
    responses={
        409: {
            "description": "insufficient_points: more than the available balance; "
            "idempotency_key_reused: the key was sent with another request"
        }
    },
)
async def redeem(
    customer_id: CustomerId,
    body: RedemptionCreate,
    idempotency_key: IdempotencyKey,
    runtime: RuntimeDep,
) -> JSONResponse:
    """Redeem points for a coupon (100 points per yuan), oldest lots first. Idempotent with an
    Idempotency-Key: the first answer is given again."""
    async with runtime.transaction() as tx:
        answer = await redeem_points(tx, customer_id, body.points, idempotency_key)
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)


@router.post(
    "/{customer_id}/tasks",
    dependencies=[WRITE],
    status_code=201,
    responses={409: {"description": "already_claimed: the task was rewarded today"}},
)
async def complete_task(
    customer_id: CustomerId, body: TaskClaimCreate, runtime: RuntimeDep
) -> TaskClaimPublic:
    """Reward a task (a daily check-in, ...) once per business day."""
    async with runtime.transaction() as tx:
        return await claim_task(tx, customer_id, Task(body.task))


def _points_public(view: queries.PointsView) -> PointsPublic:
    progress = view.tier_progress
    expiring = [
        ExpiringPoints(points=lot.remaining, expires_at=lot.expires_at) for lot in view.expiring
    ]
    return PointsPublic(
        customer_id=view.customer_id,
        balance=view.balance,
        held=view.held,
        available=view.available,
        debt=view.debt,
        tier=view.tier.value,
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


def _check_public(check: LedgerCheck) -> LedgerCheckPublic:
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
