"""A customer's tags: the names this transaction holds, and writing a change of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ScalarSelect, delete, func, inspect, select

from services.profile.models import Customer, CustomerTag
from services.profile.repository.in_hand import RowsInHand
from services.profile.rules.tags import TagChange
from shared.transaction import Transaction

# Tag names are snake_case (rules/catalogue.py): a space never occurs in one.
_TAG_SEPARATOR = " "


def tag_names_of_customer() -> ScalarSelect[str | None]:
    """The selected customer's tag names joined by ``_TAG_SEPARATOR``; NULL without tags."""
    return (
        select(func.aggregate_strings(CustomerTag.tag, _TAG_SEPARATOR))
        .where(CustomerTag.customer_id == Customer.customer_id)
        .scalar_subquery()
    )


def stored_tags(tag_names: str | None) -> dict[str, CustomerTag | None]:
    return dict.fromkeys(tag_names.split(_TAG_SEPARATOR) if tag_names else ())


async def _tags_in_hand(tx: Transaction, customer_id: str) -> dict[str, CustomerTag | None]:
    tags = tx.held(RowsInHand).tags
    if customer_id not in tags:
        found = await tx.session.scalars(
            select(CustomerTag.tag).where(CustomerTag.customer_id == customer_id)
        )
        tags[customer_id] = dict.fromkeys(found)
    return tags[customer_id]


async def tag_names(tx: Transaction, customer_id: str) -> frozenset[str]:
    """The customer's current tags, as this transaction left them."""
    return frozenset(await _tags_in_hand(tx, customer_id))


async def tags_of(tx: Transaction, customer_id: str) -> dict[str, datetime]:
    """The customer's current tags and since when each has held (as stored)."""
    rows = await tx.session.execute(
        select(CustomerTag.tag, CustomerTag.since).where(CustomerTag.customer_id == customer_id)
    )
    return {tag: since for tag, since in rows}


async def apply_tag_change(
    tx: Transaction, customer_id: str, change: TagChange, at: datetime
) -> None:
    session = tx.session
    tags = await _tags_in_hand(tx, customer_id)
    stored_removed = [tag for tag in change.removed if tags[tag] is None]
    if stored_removed:
        await session.execute(
            delete(CustomerTag).where(
                CustomerTag.customer_id == customer_id, CustomerTag.tag.in_(stored_removed)
            )
        )
    for tag in change.removed:
        added_here = tags.pop(tag)
        if added_here is not None:
            await _discard(tx, added_here)
    for tag in change.added:
        added = tags[tag] = CustomerTag(customer_id=customer_id, tag=tag, since=at)
        session.add(added)


async def _discard(tx: Transaction, row: CustomerTag) -> None:
    """Delete a row this transaction added: drop it if it was not flushed yet."""
    if inspect(row).pending:
        tx.session.expunge(row)
    else:
        await tx.session.delete(row)
