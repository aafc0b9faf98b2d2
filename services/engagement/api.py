"""Engagement routes: parse, call a command or query, shape the response."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response

from services.engagement import queries
from services.engagement.commands.campaigns import create_campaign, dispatch_campaign
from services.engagement.commands.messages import send_one_off
from services.engagement.context import EngagementDep
from services.engagement.schemas import (
    CampaignCreate,
    CampaignPublic,
    CustomerPublic,
    DispatchResult,
    MessageCreate,
    MessagePage,
    MessagePublic,
    SilencePublic,
)
from shared.app import RuntimeDep
from shared.auth import scope_dependencies
from shared.pagination import CursorQuery, LimitQuery

READ, WRITE = scope_dependencies("engagement")

router = APIRouter(prefix="/v1", tags=["engagement"])

CustomerIdPath = Annotated[str, Path(min_length=1, max_length=128)]
CampaignIdPath = Annotated[str, Path(min_length=1, max_length=64)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Same key, same decision: a retry never sends twice.",
    ),
]


@router.get("/customers/{customer_id}", dependencies=[READ])
async def get_customer(customer_id: CustomerIdPath, runtime: RuntimeDep) -> CustomerPublic:
    """What engagement has learned of the customer from events (404 if nothing yet)."""
    async with runtime.read() as session:
        return await queries.customer(session, customer_id, runtime.clock.now())


@router.get("/customers/{customer_id}/silence", dependencies=[READ])
async def get_silence(customer_id: CustomerIdPath, runtime: RuntimeDep) -> SilencePublic:
    """Whether marketing to the customer is silenced now. A customer engagement has never
    heard of is not silenced (200, silenced false), never a 404."""
    async with runtime.read() as session:
        return await queries.silence(session, customer_id, runtime.clock.now())


@router.get("/customers/{customer_id}/messages", dependencies=[READ])
async def list_messages(
    customer_id: CustomerIdPath,
    runtime: RuntimeDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> MessagePage:
    """Every decision about the customer, sent or suppressed with its reason, newest first."""
    async with runtime.read() as session:
        return await queries.messages(session, customer_id, limit=limit, cursor=cursor)


@router.post(
    "/messages",
    dependencies=[WRITE],
    status_code=201,
    responses={
        200: {"description": "A replay: the decision first made for this Idempotency-Key"},
        409: {"description": "The Idempotency-Key was used for a different message"},
    },
)
async def send_message(
    body: MessageCreate,
    runtime: RuntimeDep,
    ctx: EngagementDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> MessagePublic:
    """A one-off message through the pipeline. 201 with the decision (sent, suppressed with
    its reason, or pending when the gateway failed and delivery will be retried); 200 with
    the original decision when the Idempotency-Key was seen before."""
    message, created = await send_one_off(runtime.transaction, ctx, body, idempotency_key)
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return message


@router.post("/campaigns", dependencies=[WRITE], status_code=201)
async def post_campaign(body: CampaignCreate, runtime: RuntimeDep) -> CampaignPublic:
    """Create a campaign: a segment, a channel, a template and its parameters. Nothing is sent
    until it is dispatched."""
    return await create_campaign(runtime.transaction, body)


@router.get("/campaigns/{campaign_id}", dependencies=[READ])
async def get_campaign(campaign_id: CampaignIdPath, runtime: RuntimeDep) -> CampaignPublic:
    """A campaign, with how often it was dispatched and when last."""
    async with runtime.read() as session:
        return await queries.campaign(session, campaign_id)


@router.post("/campaigns/{campaign_id}/dispatch", dependencies=[WRITE])
async def post_dispatch(
    campaign_id: CampaignIdPath, runtime: RuntimeDep, ctx: EngagementDep
) -> DispatchResult:
    """Send to every current member of the segment through the pipeline; counts by result."""
    return await dispatch_campaign(runtime.transaction, ctx, campaign_id)
