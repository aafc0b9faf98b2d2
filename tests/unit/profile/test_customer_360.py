"""The customer 360 learns tier, segment, silence and open tickets from the other services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.clock import FixedClock
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
async def profile(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    async with service_harness(
        "profile", tmp_path, clock=FixedClock(T0 + timedelta(days=1))
    ) as svc:
        yield svc


async def customer_360(profile: ServiceHarness, customer_id: str) -> dict[str, Any]:
    response = await profile.client.get(f"/v1/customers/{customer_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def tier_changed(customer_id: str, old: str, new: str, at: datetime) -> dict[str, Any]:
    return builders.tier_changed(customer_id, old_tier=old, new_tier=new, at=at)


def segment_changed(customer_id: str, old: str | None, new: str, at: datetime) -> dict[str, Any]:
    return builders.segment_changed(customer_id, old_segment=old, new_segment=new, at=at)


def ticket_opened(customer_id: str, ticket_id: str, at: datetime) -> dict[str, Any]:
    return builders.ticket_opened(
        customer_id, ticket_id=ticket_id, kind="inquiry", category="logistics", at=at
    )


def ticket_resolved(customer_id: str, ticket_id: str, at: datetime) -> dict[str, Any]:
    return builders.ticket_resolved(
        customer_id, ticket_id=ticket_id, kind="inquiry", category="logistics", csat=5, at=at
    )


async def test_the_360_shows_what_other_services_said(profile: ServiceHarness) -> None:
    customer_id = new_id("c")
    clock = profile.clock
    assert isinstance(clock, FixedClock)
    silence_until = T0 + timedelta(days=30)
    ticket_a, ticket_b = new_id("t"), new_id("t")
    outcomes = await profile.deliver_each(
        builders.customer_registered(
            customer_id,
            name="Li Wei",
            email="li@example.com",
            birthday="1990-03-17",
            consents={"email": True, "sms": False},
            at=T0,
        ),
        tier_changed(customer_id, "silver", "gold", T0 + timedelta(minutes=1)),
        segment_changed(customer_id, None, "loyal", T0 + timedelta(minutes=2)),
        ticket_opened(customer_id, ticket_a, T0 + timedelta(minutes=3)),
        ticket_opened(customer_id, ticket_b, T0 + timedelta(minutes=4)),
        ticket_resolved(customer_id, ticket_a, T0 + timedelta(minutes=5)),
        builders.complaint_opened(
            customer_id, ticket_id=ticket_b, category="logistics", at=T0 + timedelta(minutes=6)
        ),
        builders.silence_started(
            customer_id, until=silence_until, reason="complaint", at=T0 + timedelta(minutes=6)
        ),
    )
    assert set(outcomes) == {"handled"}
    body = await customer_360(profile, customer_id)
    assert body["silence"]["until"] is not None
    assert body["segment"] == "loyal"
    assert body["tier"] == "gold"
    assert body["activity"]["complaints_365d"] == 1
    assert body["activity"]["inquiries_30d"] == 2
    assert body["open_tickets"] == 1
    assert body["name"] == "Li Wei"
    assert body["email"] == "li@example.com"
    assert body["birthday"] == "1990-03-17"
    assert body["consents"] == {"email": True, "sms": False}
    assert body["tier_since"].startswith((T0 + timedelta(minutes=1)).isoformat()[:19])
    assert body["silence"] == {
        "silenced": True,
        "until": silence_until.isoformat().replace("+00:00", "Z"),
        "reason": "complaint",
    }
    assert {
        "vip",
        "marketing_silenced",
        "logistics_sensitive",
        "recent_complainer",
        "service_sensitive",
        "has_open_ticket",
        "email_reachable",
    } <= set(body["tags"])

    clock.set(silence_until)
    later = await customer_360(profile, customer_id)
    assert later["silence"]["silenced"] is False


async def test_a_late_tier_change_does_not_overwrite_a_newer_one(profile: ServiceHarness) -> None:
    customer_id = new_id("c")
    await profile.deliver(tier_changed(customer_id, "gold", "platinum", T0))
    assert (await customer_360(profile, customer_id))["tier"] == "platinum"
    await profile.deliver_each(
        tier_changed(customer_id, "silver", "gold", T0 - timedelta(days=2)),
        segment_changed(customer_id, None, "regular", T0),
    )
    body = await customer_360(profile, customer_id)
    assert body["segment"] is not None
    assert body["tier"] == "platinum"
    assert {"vip", "platinum_member"} <= set(body["tags"])


async def test_a_later_silence_extends_and_an_earlier_end_never_shortens(
    profile: ServiceHarness,
) -> None:
    customer_id = new_id("c")
    longer, shorter = T0 + timedelta(days=40), T0 + timedelta(days=30)
    await profile.deliver(builders.silence_started(customer_id, until=longer, at=T0))
    assert (await customer_360(profile, customer_id))["silence"]["until"]
    await profile.deliver_each(
        builders.silence_started(customer_id, until=shorter, at=T0 + timedelta(hours=1)),
        tier_changed(customer_id, "bronze", "silver", T0 + timedelta(hours=2)),
    )
    body = await customer_360(profile, customer_id)
    assert body["tier"] == "silver"
    assert body["silence"]["until"] == longer.isoformat().replace("+00:00", "Z")


async def test_a_resolution_handled_before_its_opening_leaves_no_open_ticket(
    profile: ServiceHarness,
) -> None:
    customer_id, ticket_id = new_id("c"), new_id("t")
    await profile.deliver(ticket_resolved(customer_id, ticket_id, T0))
    assert (await customer_360(profile, customer_id))["open_tickets"] == 0
    await profile.deliver_each(
        ticket_opened(customer_id, ticket_id, T0 - timedelta(hours=1)),
        ticket_opened(customer_id, new_id("t"), T0),
    )
    body = await customer_360(profile, customer_id)
    assert body["activity"]["inquiries_30d"] == 2
    assert body["open_tickets"] == 1


async def test_an_unknown_customer_is_404(profile: ServiceHarness) -> None:
    response = await profile.client.get(f"/v1/customers/{new_id('nobody')}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
