"""Profile routes: parse, call a handler, shape the response."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator

from services.profile import commands, queries
from services.profile.listing import CustomerRow
from services.profile.models import Customer
from services.profile.profiling import Profiler
from services.profile.queries import Customer360
from services.profile.schemas import (
    ActivityPublic,
    CustomerPage,
    CustomerPublic,
    CustomerSummary,
    SilencePublic,
    TagPublic,
)
from services.profile.tagging import rule_to_data
from shared.app import ServiceRuntime
from shared.auth import require
from shared.pagination import decode_cursor, encode_cursor

router = APIRouter(prefix="/v1", tags=["customers"])
READ = [Depends(require("profile:read"))]

Limit = Annotated[int, Query(ge=1, le=500, description="page size, 1-500")]
Cursor = Annotated[
    str | None,
    Query(max_length=400, description="next_cursor of the previous page"),
    AfterValidator(decode_cursor),
]
TagFilter = Annotated[str | None, Query(max_length=64, description="a tag of GET /v1/tags")]


def _runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def _profiler(request: Request) -> Profiler:
    return request.app.state.profiler  # type: ignore[no-any-return]


def _known_tag(request: Request, tag: str | None) -> str | None:
    if tag is not None and tag not in _profiler(request).catalogue.names:
        message = f"unknown tag {tag!r}; GET /v1/tags lists the catalogue"
        raise RequestValidationError([{"loc": ("query", "tag"), "msg": message, "type": "value"}])
    return tag


@router.get("/customers/{customer_id}", dependencies=READ)
async def get_customer(customer_id: str, request: Request) -> CustomerPublic:
    runtime = _runtime(request)
    async with runtime.transaction() as session:
        view = await queries.customer_360(
            session, customer_id, profiler=_profiler(request), now=runtime.clock.now()
        )
    return _public(view)


@router.get("/customers", dependencies=READ)
async def list_customers(
    request: Request, tag: TagFilter = None, limit: Limit = 50, cursor: Cursor = None
) -> CustomerPage:
    tag = _known_tag(request, tag)
    async with _runtime(request).transaction() as session:
        page = await queries.customers(session, tag=tag, after=cursor, limit=limit)
    return CustomerPage(
        tag=tag,
        items=[_summary(row, tag) for row in page.rows],
        next_cursor=encode_cursor(page.next_after) if page.next_after else None,
    )


@router.get("/tags", dependencies=READ, tags=["tags"])
async def list_tags(request: Request) -> list[TagPublic]:
    catalogue = _profiler(request).catalogue
    async with _runtime(request).transaction() as session:
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


@router.delete("/customers/{customer_id}", dependencies=[Depends(require("profile:write"))])
async def erase_customer(customer_id: str, request: Request) -> CustomerPublic:
    runtime = _runtime(request)
    now = runtime.clock.now()
    async with runtime.transaction() as session:
        await commands.erase_customer(
            session, customer_id, now=now, source=runtime.settings.event_source
        )
        view = await queries.customer_360(
            session, customer_id, profiler=_profiler(request), now=now
        )
    return _public(view)


def _public(view: Customer360) -> CustomerPublic:
    customer: Customer = view.customer
    return CustomerPublic(
        customer_id=customer.customer_id,
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        birthday=customer.birthday,
        referrer_id=customer.referrer_id,
        consents=customer.consents or {},
        registered_at=customer.registered_at,
        updated_at=customer.updated_at,
        open_tickets=customer.open_tickets,
        erased=customer.erased_at is not None,
        erased_at=customer.erased_at,
        tags=sorted(view.tags),
        tags_as_of=customer.tags_as_of,
        tier=customer.tier,
        tier_since=customer.tier_since,
        segment=customer.segment,
        segment_since=customer.segment_since,
        silence=SilencePublic(
            silenced=view.silenced,
            until=customer.silenced_until,
            reason=customer.silence_reason,
        ),
        activity=ActivityPublic(**vars(view.activity)),
    )


def _summary(row: CustomerRow, tag: str | None) -> CustomerSummary:
    customer = row.customer
    return CustomerSummary(
        customer_id=customer.customer_id,
        tags=sorted(row.tags),
        tier=customer.tier,
        segment=customer.segment,
        erased=customer.erased_at is not None,
        tagged_since=row.tags.get(tag) if tag is not None else None,
    )
