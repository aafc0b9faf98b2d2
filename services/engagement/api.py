"""Engagement routes: parse, call a handler, shape the response."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from services.engagement import commands
from services.engagement.commands import DispatchCounts, Silence
from services.engagement.context import Engagement
from services.engagement.models import Campaign, Customer, Message
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
from shared.app import ServiceRuntime
from shared.auth import require

router = APIRouter(prefix="/v1", tags=["engagement"])

READ = [Depends(require("engagement:read"))]
WRITE = [Depends(require("engagement:write"))]
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


def _parts(request: Request) -> tuple[ServiceRuntime, Engagement]:
    return request.app.state.runtime, request.app.state.engagement


def _silence(silence: Silence) -> SilencePublic:
    return SilencePublic(
        customer_id=silence.customer_id,
        silenced=silence.silenced,
        until=silence.until,
        reason=silence.reason,
        ticket_id=silence.ticket_id,
    )


def _message(message: Message) -> MessagePublic:
    return MessagePublic.model_validate(message, from_attributes=True)


def _campaign(campaign: Campaign) -> CampaignPublic:
    return CampaignPublic.model_validate(campaign, from_attributes=True)


def _customer(customer: Customer, silence: Silence) -> CustomerPublic:
    return CustomerPublic(
        customer_id=customer.customer_id,
        consents=customer.consents,
        reachable_channels=commands.reachable_channels(customer),
        tags=customer.tags,
        segment=customer.segment,
        silence=_silence(silence),
        erased=customer.erased_at is not None,
    )


@router.get("/customers/{customer_id}", dependencies=READ)
async def get_customer(customer_id: CustomerIdPath, request: Request) -> CustomerPublic:
    """What engagement has learned of the customer from events (404 if nothing yet)."""
    runtime, ctx = _parts(request)
    async with runtime.transaction() as session:
        customer = await commands.get_customer(session, customer_id)
        return _customer(customer, commands.silence_of(customer_id, customer, ctx.clock.now()))


@router.get("/customers/{customer_id}/silence", dependencies=READ)
async def get_silence(customer_id: CustomerIdPath, request: Request) -> SilencePublic:
    """Whether marketing to the customer is silenced now. A customer engagement has never
    heard of is not silenced (200, silenced false), never a 404."""
    runtime, ctx = _parts(request)
    async with runtime.transaction() as session:
        return _silence(await commands.get_silence(session, customer_id, ctx.clock.now()))


@router.get("/customers/{customer_id}/messages", dependencies=READ)
async def list_messages(
    customer_id: CustomerIdPath,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> MessagePage:
    """Every decision about the customer, sent or suppressed with its reason, newest first."""
    runtime, _ctx = _parts(request)
    async with runtime.transaction() as session:
        messages, more = await commands.list_messages(
            session, customer_id, limit=limit, offset=offset
        )
        return MessagePage(
            items=[_message(m) for m in messages],
            limit=limit,
            offset=offset,
            next_offset=offset + limit if more else None,
        )


@router.post(
    "/messages",
    dependencies=WRITE,
    status_code=201,
    responses={
        200: {"description": "A replay: the decision first made for this Idempotency-Key"},
        409: {"description": "The Idempotency-Key was used for a different message"},
    },
)
async def send_message(
    body: MessageCreate,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> MessagePublic:
    """A one-off message through the pipeline. 201 with the decision (sent, suppressed with
    its reason, or pending when the gateway failed and delivery will be retried); 200 with
    the original decision when the Idempotency-Key was seen before."""
    runtime, ctx = _parts(request)
    message, created = await commands.send_one_off(runtime.transaction, ctx, body, idempotency_key)
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return _message(message)


@router.post("/campaigns", dependencies=WRITE, status_code=201)
async def create_campaign(body: CampaignCreate, request: Request) -> CampaignPublic:
    runtime, ctx = _parts(request)
    async with runtime.transaction() as session:
        return _campaign(await commands.create_campaign(session, body, ctx.clock.now()))


@router.get("/campaigns/{campaign_id}", dependencies=READ)
async def get_campaign(campaign_id: CampaignIdPath, request: Request) -> CampaignPublic:
    runtime, _ctx = _parts(request)
    async with runtime.transaction() as session:
        return _campaign(await commands.get_campaign(session, campaign_id))


@router.post("/campaigns/{campaign_id}/dispatch", dependencies=WRITE)
async def dispatch_campaign(campaign_id: CampaignIdPath, request: Request) -> DispatchResult:
    """Send to every current member of the segment through the pipeline; counts by result."""
    runtime, ctx = _parts(request)
    counts: DispatchCounts = await commands.dispatch_campaign(runtime.transaction, ctx, campaign_id)
    return DispatchResult(
        campaign_id=counts.campaign_id,
        members=counts.members,
        already_dispatched=counts.already_dispatched,
        sent=counts.sent,
        pending=counts.pending,
        suppressed=dict(counts.suppressed),
    )
