"""A customer's points: summary, ledger, redemptions and daily tasks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from services.loyalty.api.deps import READ, WRITE, AdminDep, CustomerId
from services.loyalty.api.shapes import (
    check_public,
    entry_public,
    points_public,
    task_claim_public,
)
from services.loyalty.domain import Task
from services.loyalty.handlers import queries
from services.loyalty.handlers.common import invalid_input
from services.loyalty.handlers.redemptions import redeem_points
from services.loyalty.handlers.task_claims import claim_task
from services.loyalty.schemas import (
    LedgerCheckPublic,
    LedgerPage,
    PointsPublic,
    RedemptionCreate,
    RedemptionPublic,
    TaskClaimCreate,
    TaskClaimPublic,
)
from shared.app import RuntimeDep

router = APIRouter(prefix="/v1/customers", tags=["points"])

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
    async with runtime.transaction() as session:
        view = await queries.points_view(session, customer_id, runtime.clock.now())
    return points_public(view)


@router.get("/{customer_id}/ledger", dependencies=[READ])
async def get_ledger(
    customer_id: CustomerId,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
) -> LedgerPage:
    if cursor is not None and not cursor.isdigit():
        raise invalid_input("not a cursor this API returned", "cursor", location="query")
    before = int(cursor) if cursor is not None else None
    async with runtime.transaction() as session:
        rows, next_seq = await queries.ledger_page(
            session, customer_id, limit=limit, before_seq=before
        )
    return LedgerPage(
        customer_id=customer_id,
        entries=[entry_public(row) for row in rows],
        next_cursor=None if next_seq is None else str(next_seq),
    )


@router.get("/{customer_id}/ledger/verify")
async def verify_ledger(
    customer_id: CustomerId, runtime: RuntimeDep, _admin: AdminDep
) -> LedgerCheckPublic:
    async with runtime.transaction() as session:
        return check_public(await queries.verify_ledger(session, customer_id))


@router.post(
    "/{customer_id}/redemptions",
    dependencies=[WRITE],
    status_code=201,
    response_model=RedemptionPublic,
    responses={409: {"description": "insufficient_points: more than the available balance"}},
)
async def redeem(
    customer_id: CustomerId,
    body: RedemptionCreate,
    idempotency_key: IdempotencyKey,
    runtime: RuntimeDep,
) -> JSONResponse:
    async with runtime.transaction() as session:
        answer = await redeem_points(
            session, customer_id, body.points, idempotency_key, now=runtime.clock.now()
        )
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
    async with runtime.transaction() as session:
        claim = await claim_task(session, customer_id, Task(body.task), now=runtime.clock.now())
    return task_claim_public(claim)
