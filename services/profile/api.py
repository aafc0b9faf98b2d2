"""Profile routes: parse, call a command or query, shape the response."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.profile import commands, queries
from services.profile.context import ProfileDep
from services.profile.queries import Customer360, ListedCustomer
from services.profile.rules.tags import rule_to_data
from services.profile.schemas import (
    ActivityPublic,
    CustomerPage,
    CustomerPublic,
    CustomerSummary,
    SilencePublic,
    TagPublic,
)
from shared.app import RuntimeDep
from shared.auth import scope_dependencies
from shared.errors import InvalidInput
from shared.pagination import CursorQuery, LimitQuery

router = APIRouter(prefix="/v1", tags=["customers"])
READ, WRITE = scope_dependencies("profile")

TagFilter = Annotated[str | None, Query(max_length=64, description="a tag of GET /v1/tags")]


@router.get("/customers/{customer_id}", dependencies=[READ])
async def get_customer(
    customer_id: str, runtime: RuntimeDep, profile: ProfileDep
) -> CustomerPublic:
    async with runtime.transaction() as tx:
        view = await queries.customer_360(tx, profile.tagging, customer_id)
    return _public(view)


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
        raise InvalidInput("query.tag", message, location="query")
    async with runtime.transaction() as tx:
        listing = await queries.customers_page(tx, tag=tag, after=cursor, limit=limit)
    return CustomerPage(
        tag=tag,
        items=[_summary(listed, tag) for listed in listing.customers],
        next_cursor=listing.next_cursor,
    )


@router.get("/tags", dependencies=[READ], tags=["tags"])
async def list_tags(runtime: RuntimeDep, profile: ProfileDep) -> list[TagPublic]:
    catalogue = profile.catalogue
    async with runtime.transaction() as tx:
        sizes = await queries.tag_sizes(tx, catalogue)
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
        await commands.erase_customer(tx, customer_id)
        view = await queries.customer_360(tx, profile.tagging, customer_id)
    return _public(view)


def _public(view: Customer360) -> CustomerPublic:
    customer = view.profile
    return CustomerPublic(
        customer_id=customer.customer_id,
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        birthday=customer.birthday,
        referrer_id=customer.referrer_id,
        consents=dict(customer.consents),
        registered_at=customer.registered_at,
        updated_at=customer.updated_at,
        open_tickets=customer.open_tickets,
        erased=customer.erased,
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


def _summary(listed: ListedCustomer, tag: str | None) -> CustomerSummary:
    return CustomerSummary(
        customer_id=listed.customer_id,
        tags=sorted(listed.tags),
        tier=listed.tier,
        segment=listed.segment,
        erased=listed.erased,
        tagged_since=listed.tags.get(tag) if tag is not None else None,
    )
