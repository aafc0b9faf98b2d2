"""Profile routes: parse, call a command or query, shape the response."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from services.profile import queries
from services.profile.commands import erasure
from services.profile.commands.ingestion import publish_received
from services.profile.context import ProfileDep
from services.profile.queries import ListedCustomer
from services.profile.rules.customer import silenced
from services.profile.rules.tags import rule_to_data
from services.profile.schemas import (
    CustomerPage,
    CustomerPublic,
    CustomerSummary,
    IngestedEvent,
    IngestionAnswer,
    TagPublic,
)
from shared.app import RuntimeDep
from shared.auth import Principal, require, scope_dependencies
from shared.errors import ApiError, InvalidInput, NotFound, error_body
from shared.events.catalogue import INBOUND_TYPES
from shared.events.envelope import STRUCTURED_CONTENT_TYPE, CloudEvent
from shared.events.http_binding import (
    BATCH_CONTENT_TYPE,
    Received,
    UnreadableRequest,
    check,
    events_of_request,
)
from shared.metrics import ServiceMetrics
from shared.pagination import CursorQuery, LimitQuery
from shared.rate_limit import RateLimiter

router = APIRouter(prefix="/v1", tags=["customers"])
READ, WRITE = scope_dependencies("profile")

TagFilter = Annotated[str | None, Query(max_length=64, description="a tag of GET /v1/tags")]


@router.get("/customers/{customer_id}", dependencies=[READ])
async def get_customer(customer_id: str, runtime: RuntimeDep) -> CustomerPublic:
    """The customer 360: profile, consents, tags, tier, segment, silence, open tickets and an
    activity summary, as the events have told them. 404 for a customer never heard of."""
    document = await queries.customer_360(runtime.keyed_reads, customer_id)
    return _public(customer_id, document, runtime.clock.now())


@router.get("/customers", dependencies=[READ])
async def list_customers(
    runtime: RuntimeDep,
    profile: ProfileDep,
    tag: TagFilter = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> CustomerPage:
    """Customers with a tag (every customer without `tag`), a cursor page in customer-id order;
    no personal data in the items."""
    if tag is not None and tag not in profile.catalogue.names:
        message = f"unknown tag {tag!r}; GET /v1/tags lists the catalogue"
        raise InvalidInput("tag", message, location="query")
    async with runtime.read() as session:
        listing = await queries.customers_page(session, tag=tag, after=cursor, limit=limit)
    return CustomerPage(
        tag=tag,
        items=[_summary(listed, tag) for listed in listing.customers],
        next_cursor=listing.next_cursor,
    )


@router.get("/tags", dependencies=[READ], tags=["tags"])
async def list_tags(runtime: RuntimeDep, profile: ProfileDep) -> list[TagPublic]:
    """The tag catalogue: each tag with its description, group, rule and member count."""
    catalogue = profile.catalogue
    async with runtime.read() as session:
        sizes = await queries.tag_sizes(session, catalogue)
    return [
        TagPublic(
            name=size.tag.name,
            description=size.tag.description,
            group=size.tag.group,
            rule=rule_to_data(size.tag.rule),
            categories={
                group: sorted(members)
                for group, members in catalogue.groups_used_by(size.tag).items()
            },
            member_count=size.member_count,
        )
        for size in sizes
    ]


@router.delete("/customers/{customer_id}", dependencies=[WRITE])
async def erase_customer(
    customer_id: str, runtime: RuntimeDep, profile: ProfileDep
) -> CustomerPublic:
    """Erase the customer's personal data, consents, facts and tags and publish customer.erased
    (the other services forget them too); answers the erased 360."""
    async with runtime.transaction() as tx:
        await erasure.erase_customer(tx, profile, customer_id)
        document = await queries.customer_360_in(tx.session, customer_id)
    return _public(customer_id, document, tx.now)


def _public(customer_id: str, document: dict[str, Any] | None, now: datetime) -> CustomerPublic:
    """The stored 360, with whether the silence is still on as of ``now``."""
    if document is None:
        raise NotFound("customer", customer_id)
    until = document["silence"]["until"]
    on = until is not None and silenced(datetime.fromisoformat(until), now)
    return CustomerPublic.model_validate(
        {**document, "silence": {**document["silence"], "silenced": on}}
    )


def _summary(listed: ListedCustomer, tag: str | None) -> CustomerSummary:
    return CustomerSummary(
        customer_id=listed.customer_id,
        tags=sorted(listed.tags),
        tier=listed.tier,
        segment=listed.segment,
        erased=listed.erased,
        tagged_since=listed.tags.get(tag) if tag is not None else None,
    )


# --- HTTP ingestion: storefronts that don't speak Kafka ---------------------------------------

_EVENT_SCHEMA = CloudEvent.model_json_schema()
_INGESTION_BODY = {
    "requestBody": {
        "required": True,
        "description": "One CloudEvent (structured mode, or binary mode: ce-* headers and the "
        "data as application/json) or a JSON array of them (batched mode).",
        "content": {
            STRUCTURED_CONTENT_TYPE: {"schema": _EVENT_SCHEMA},
            BATCH_CONTENT_TYPE: {"schema": {"type": "array", "items": _EVENT_SCHEMA}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}
IngestDep = Annotated[Principal, Depends(require("events:write", "profile:write"))]


@router.post(
    "/events",
    status_code=202,
    response_model=IngestionAnswer,
    tags=["events"],
    openapi_extra=_INGESTION_BODY,
    responses={
        413: {"description": "body_too_large: send fewer events at once"},
        415: {"description": "unsupported_media_type: not a CloudEvents HTTP binding"},
        429: {"description": "rate_limited: over the key's events per second; see Retry-After"},
    },
)
async def ingest_events(
    request: Request, runtime: RuntimeDep, profile: ProfileDep, principal: IngestDep
) -> Any:
    """Publish a storefront's events (the catalogue's inbound types) as a Kafka producer would:
    202 with each event accepted or rejected and why; 422 when none is accepted. Accepted
    events are durable (written to the outbox with the answer's commit). Per API key (scope
    `events:write` or `profile:write`) at most `ingest_rate_per_s` events a second."""
    ingestion = profile.ingestion
    body = await request.body()
    if len(body) > ingestion.max_body_bytes:
        raise ApiError(413, "body_too_large", f"At most {ingestion.max_body_bytes} bytes.")
    try:
        batched, raws = events_of_request(body, request.headers)
    except UnreadableRequest as unreadable:
        if unreadable.status == 415:
            raise ApiError(415, "unsupported_media_type", unreadable.message) from unreadable
        raise InvalidInput("body", unreadable.message) from unreadable
    if not 1 <= len(raws) <= ingestion.max_events:
        raise InvalidInput("body", f"between 1 and {ingestion.max_events} events per request")
    wait_s = ingestion.limiter.take(principal.name, len(raws))
    if wait_s > 0:
        return JSONResponse(
            error_body("rate_limited", "Too many events for this API key; retry later."),
            status_code=429,
            headers={"Retry-After": RateLimiter.retry_after(wait_s)},
        )
    received = [check(index, raw) for index, raw in enumerate(raws)]
    accepted = [r.event for r in received if r.event is not None]
    if accepted:
        async with runtime.transaction() as tx:
            await publish_received(tx, accepted)
    answer = _ingestion_answer(received)
    _count_ingested(runtime.metrics, received)
    if not accepted:
        fields = [
            {
                "field": f"[{r.index}].{r.rejection.field}" if batched else r.rejection.field,
                "location": "body",
                "message": f"{r.rejection.reason}: {r.rejection.message}",
            }
            for r in received
            if r.rejection is not None
        ]
        return JSONResponse(
            error_body(
                "invalid_request",
                "No event was accepted.",
                fields=fields,
                details=answer.model_dump(mode="json"),
            ),
            status_code=422,
        )
    return answer


def _ingestion_answer(received: list[Received]) -> IngestionAnswer:
    events = [
        IngestedEvent(index=r.index, id=r.id, type=r.type, status="accepted")
        if r.rejection is None
        else IngestedEvent(
            index=r.index,
            id=r.id,
            type=r.type,
            status="rejected",
            reason=r.rejection.reason,
            field=r.rejection.field,
            message=r.rejection.message,
        )
        for r in received
    ]
    accepted = sum(1 for e in events if e.status == "accepted")
    return IngestionAnswer(accepted=accepted, rejected=len(events) - accepted, events=events)


def _count_ingested(metrics: ServiceMetrics, received: list[Received]) -> None:
    for r in received:
        event_type = r.type if r.type in INBOUND_TYPES else "other"
        outcome = "accepted" if r.rejection is None else r.rejection.reason
        metrics.events_ingested.labels(event_type, outcome).inc()
