"""Profile routes: parse, call a command or query, shape the response."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.profile import queries
from services.profile.commands import erasure
from services.profile.context import ProfileDep
from services.profile.queries import ListedCustomer
from services.profile.rules.customer import silenced
from services.profile.rules.tags import rule_to_data
from services.profile.schemas import CustomerPage, CustomerPublic, CustomerSummary, TagPublic
from shared.app import RuntimeDep
from shared.auth import scope_dependencies
from shared.errors import InvalidInput, NotFound
from shared.pagination import CursorQuery, LimitQuery

router = APIRouter(prefix="/v1", tags=["customers"])
READ, WRITE = scope_dependencies("profile")

TagFilter = Annotated[str | None, Query(max_length=64, description="a tag of GET /v1/tags")]


@router.get("/customers/{customer_id}", dependencies=[READ])
async def get_customer(customer_id: str, runtime: RuntimeDep) -> CustomerPublic:
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
