"""Customers' tags by tag (``customer_tags``): written as a set per run, read by the listing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.models import CustomerTag
from shared import bulk
from shared.transaction import Transaction

_tags = cast(Table, CustomerTag.__table__)


async def write_changes(
    tx: Transaction,
    *,
    removed: Sequence[tuple[str, str]],
    added: Sequence[tuple[str, str, datetime]],
) -> None:
    """Delete the (customer, tag) pairs removed and insert those added, a statement each."""
    if removed:
        keys = [{"customer_id": c, "tag": tag} for c, tag in removed]
        await bulk.delete_by_key(tx.session, _tags, keys)
    if added:
        rows = [{"customer_id": c, "tag": tag, "since": since} for c, tag, since in added]
        await bulk.insert_rows(tx.session, _tags, rows)


async def tags_of_many(
    session: AsyncSession, customer_ids: Iterable[str]
) -> dict[str, dict[str, datetime]]:
    """The customers' tags and since when each has held."""
    ids = list(customer_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(_tags.c.customer_id, _tags.c.tag, _tags.c.since).where(_tags.c.customer_id.in_(ids))
    )
    found: dict[str, dict[str, datetime]] = {}
    for customer_id, tag, since in rows:
        found.setdefault(customer_id, {})[tag] = since
    return found
