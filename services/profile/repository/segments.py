"""Segment changes written in place: a customer's segment and the 360 document's copy of it,
set by one statement for a run, without reading the customer.

No tag reads the segment, so a change of segment alone evaluates nothing again: the 360's
tags and activity stay as of their last evaluation (the document says when), and what time
alone changes is the sweep's (``tags_review_at``). Under the storefront mix segment.changed is
a fifth of what profile consumes, and reading, evaluating and rewriting each of those
customers cost as much as a product view.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, TextClause, bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.models import Customer
from shared import bulk
from shared.db import json_text

_customers = cast(Table, Customer.__table__)


@dataclass(frozen=True)
class SegmentChange:
    segment: str
    at: datetime
    """The business time of the segment.changed that said so."""


async def write_segments(session: AsyncSession, changes: Mapping[str, SegmentChange]) -> set[str]:
    """Set each customer's segment (and the 360's) where the row holds a document, no later
    segment, and tags not due for review by the change's time; returns the customers written.
    The others (not known yet, a later segment stored, no document yet, or tags that time has
    changed meanwhile, which the sweep would evaluate soon anyway) are left to the caller's
    full path, which evaluates them as of the change."""
    if not changes:
        return set()
    if bulk.on_postgresql(session):
        rows = [
            {
                "customer_id": customer_id,
                "segment": change.segment,
                "segment_since": change.at,
                "patch": {"segment": change.segment, "segment_since": change.at},
            }
            for customer_id, change in changes.items()
        ]
        result = await session.execute(_postgresql_statement(), {"rows": bulk.document(rows)})
        return {customer_id for (customer_id,) in result}
    return await _write_on_sqlite(session, changes)


@functools.cache
def _postgresql_statement() -> TextClause:
    # The patch is encoded as the full path encodes the document (bulk's orjson): the same text.
    return text(
        "UPDATE customers AS c SET segment = v.segment, segment_since = v.segment_since, "
        "customer_360 = CAST(CAST(c.customer_360 AS JSONB) || CAST(v.patch AS JSONB) AS JSON) "
        "FROM json_to_recordset(CAST(CAST(:rows AS TEXT) AS JSON)) AS v(customer_id "
        "VARCHAR(128), segment VARCHAR(64), segment_since TIMESTAMP WITH TIME ZONE, patch JSON) "
        "WHERE c.customer_id = v.customer_id AND c.customer_360 IS NOT NULL "
        "AND (c.segment_since IS NULL OR c.segment_since <= v.segment_since) "
        "AND (c.tags_review_at IS NULL OR c.tags_review_at > v.segment_since) "
        "RETURNING c.customer_id"
    )


_SQLITE_UPDATE = (
    update(_customers)
    .where(_customers.c.customer_id == bindparam("key"))
    .values(
        segment=bindparam("new_segment"),
        segment_since=bindparam("new_since", type_=_customers.c.segment_since.type),
        customer_360=func.json_patch(_customers.c.customer_360, bindparam("patch", type_=String)),
    )
)


async def _write_on_sqlite(session: AsyncSession, changes: Mapping[str, SegmentChange]) -> set[str]:
    # In-process: which rows take the change is looked at here, then one executemany.
    c = _customers.c
    found = await session.execute(
        select(c.customer_id, c.segment_since, c.tags_review_at).where(
            c.customer_id.in_(list(changes)), c.customer_360.is_not(None)
        )
    )
    written = {
        customer_id
        for customer_id, since, review_at in found
        if (since is None or since <= changes[customer_id].at)
        and (review_at is None or review_at > changes[customer_id].at)
    }
    if written:
        parameters: list[dict[str, Any]] = [
            {
                "key": customer_id,
                "new_segment": change.segment,
                "new_since": change.at,
                "patch": json_text({"segment": change.segment, "segment_since": change.at}),
            }
            for customer_id, change in changes.items()
            if customer_id in written
        ]
        await session.execute(_SQLITE_UPDATE, parameters)
    return written
