"""A change of segment alone is written in place, the customer unread, on the service's real
database (PostgreSQL with LOOPCRM_TEST_DATABASE_URL, and SQLite): the 360 shows what the full
path would show, a late change never overwrites a newer one, a customer not known yet becomes
known, a customer whose tags time has changed is evaluated, and a run that also reads the
customer applies the change first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from services.profile.models import Customer
from shared.clock import FixedClock
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness
from tests.unit.profile.test_customer_360 import T0
from tests.unit.profile.test_customer_360 import customer_360 as the_360


@pytest.fixture(params=[False, True], ids=["sqlite", "server"])
async def profile(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    clock = FixedClock(T0 + timedelta(hours=1))
    async with service_harness("profile", tmp_path, clock=clock, on_server=request.param) as svc:
        yield svc


def segment_changed(customer_id: str, new: str, at: datetime) -> dict[str, Any]:
    return builders.segment_changed(customer_id, old_segment=None, new_segment=new, at=at)


def viewed(customer_id: str, at: datetime) -> dict[str, Any]:
    return builders.product_viewed(customer_id, category="kitchen", at=at)


def registered(customer_id: str) -> dict[str, Any]:
    return builders.customer_registered(customer_id, name="Li Wei", consents={"email": True}, at=T0)


async def test_a_change_of_segment_alone_changes_only_the_segment_in_the_360(profile):
    alone, read_too = new_id("c"), new_id("c")
    for customer_id in (alone, read_too):
        await profile.deliver(registered(customer_id), viewed(customer_id, T0))
    before = await the_360(profile, alone)
    await profile.forget_published()
    at = T0 + timedelta(minutes=5)

    # One run: ``alone`` only changes segment; ``read_too`` is read by its other event.
    sent: list[str] = []
    engine = profile.runtime.engine.sync_engine

    def listener(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        await profile.deliver(
            segment_changed(alone, "prospect", at),
            segment_changed(read_too, "prospect", at),
            builders.tier_changed(read_too, old_tier="bronze", new_tier="bronze", at=at),
        )
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    # Only ``read_too``'s facts were read: ``alone`` was written without being read.
    reads_of_facts = [
        s for s in sent if s.lstrip().upper().startswith("SELECT") and "features" in s
    ]
    assert len(reads_of_facts) == 1

    after = await the_360(profile, alone)
    assert after["segment"] == "prospect"
    assert after["segment_since"] == (await the_360(profile, read_too))["segment_since"]
    assert datetime.fromisoformat(after["segment_since"].replace("Z", "+00:00")) == at
    unchanged = {k: v for k, v in after.items() if k not in ("segment", "segment_since")}
    assert unchanged == {k: v for k, v in before.items() if k not in ("segment", "segment_since")}
    assert not [e for e in await profile.published("profile.tagged") if e.subject == alone]


async def test_a_late_change_of_segment_never_overwrites_a_newer_one(profile):
    customer_id = new_id("c")
    await profile.deliver(registered(customer_id))
    await profile.deliver(segment_changed(customer_id, "loyal", T0 + timedelta(minutes=10)))
    await profile.deliver(segment_changed(customer_id, "new", T0 + timedelta(minutes=5)))
    assert (await the_360(profile, customer_id))["segment"] == "loyal"

    # In one run too, the latest by business time wins whatever the order.
    await profile.deliver(
        segment_changed(customer_id, "regular", T0 + timedelta(minutes=30)),
        segment_changed(customer_id, "potential", T0 + timedelta(minutes=20)),
    )
    body = await the_360(profile, customer_id)
    assert body["segment"] == "regular"
    since = datetime.fromisoformat(body["segment_since"].replace("Z", "+00:00"))
    assert since == T0 + timedelta(minutes=30)


async def test_a_change_of_segment_for_a_customer_not_known_yet_makes_them_known(profile):
    customer_id = new_id("c")
    outcomes = await profile.deliver(segment_changed(customer_id, "new", T0))
    assert outcomes == ["handled"]
    body = await the_360(profile, customer_id)
    assert body["segment"] == "new"
    assert body["customer_id"] == customer_id


async def test_a_run_that_also_reads_the_customer_applies_the_change_of_segment(profile):
    customer_id = new_id("c")
    await profile.deliver(registered(customer_id))
    await profile.deliver(
        segment_changed(customer_id, "prospect", T0 + timedelta(minutes=1)),
        viewed(customer_id, T0 + timedelta(minutes=2)),
    )
    body = await the_360(profile, customer_id)
    assert body["segment"] == "prospect"
    assert body["activity"]["views_30d"] == 1


async def test_a_customer_whose_tags_are_due_for_review_is_evaluated_as_of_the_change(profile):
    customer_id = new_id("c")
    await profile.deliver(registered(customer_id), viewed(customer_id, T0))
    async with profile.runtime.sessions() as session:
        query = select(Customer.tags_review_at).where(Customer.customer_id == customer_id)
        review_at = await session.scalar(query)
    assert review_at is not None
    at = review_at + timedelta(minutes=1)

    await profile.deliver(segment_changed(customer_id, "prospect", at))

    body = await the_360(profile, customer_id)
    assert body["segment"] == "prospect"
    assert datetime.fromisoformat(body["tags_as_of"].replace("Z", "+00:00")) == at
