"""Engagement's event handlers through the harness: the read model, silences, triggers and
erasure, on a real (SQLite) database with a fixed clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.engagement.models import Customer, Message
from shared.events.envelope import CloudEvent
from tests.support import builders
from tests.support.harness import ServiceHarness

NOW = builders.T0
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


async def customer_row(svc: ServiceHarness, customer_id: str) -> Customer | None:
    async with svc.transaction() as tx:
        return await tx.session.get(Customer, customer_id)


async def messages_of(svc: ServiceHarness, customer_id: str) -> list[Message]:
    async with svc.transaction() as tx:
        rows = await tx.session.scalars(
            select(Message).where(Message.customer_id == customer_id).order_by(Message.seq)
        )
        return list(rows.all())


async def drain(svc: ServiceHarness, event_type: str) -> list[CloudEvent]:
    """What was published of `event_type`, oldest first; the outbox is emptied."""
    events = await svc.published(event_type)
    await svc.forget_published()
    return events


def complaint(customer_id: str, opened_at: datetime, ticket_id: str = "t-1") -> dict[str, Any]:
    return builders.complaint_opened(
        customer_id, ticket_id=ticket_id, category="logistics", opened_at=opened_at
    )


async def test_late_customer_events_never_overwrite_newer_ones(svc: ServiceHarness) -> None:
    newer = builders.customer_updated("c-1", phone="139", consents={"email": False}, at=NOW)
    older = builders.customer_registered(
        "c-1", phone="138", consents={"email": True, "sms": True}, at=NOW - HOUR
    )
    await svc.deliver(newer)
    await svc.deliver(older)

    customer = await customer_row(svc, "c-1")
    assert customer is not None
    assert (customer.phone, customer.consents) == ("139", {"email": False, "sms": True})


async def test_tags_keep_the_newest_full_set(svc: ServiceHarness) -> None:
    await svc.deliver(builders.profile_tagged("c-1", tags=["vip"], at=NOW))
    await svc.deliver(builders.profile_tagged("c-1", tags=["old"], at=NOW - DAY))
    customer = await customer_row(svc, "c-1")
    assert customer is not None and customer.tags == ["vip"]


async def test_a_complaint_silences_and_queues_one_follow_up(svc: ServiceHarness) -> None:
    await svc.deliver(complaint("c-1", NOW - HOUR))
    await svc.deliver(complaint("c-1", NOW - HOUR))  # redelivered
    await svc.deliver(complaint("c-1", NOW - 3 * DAY, "t-0"))  # older

    customer = await customer_row(svc, "c-1")
    assert customer is not None
    assert customer.silenced_until == NOW - HOUR + 30 * DAY
    assert customer.silence_ticket_id == "t-1"
    [started] = await drain(svc, "silence.started")
    assert started.data["until"].startswith("2025-07-01T08:00:00")
    follow_ups = await messages_of(svc, "c-1")
    assert [(m.template, m.outcome, m.channel) for m in follow_ups] == [
        ("complaint_follow_up", "pending", "in_app"),
        ("complaint_follow_up", "pending", "in_app"),
    ]
    assert {m.params["ticket_id"] for m in follow_ups if m.params} == {"t-1", "t-0"}


async def test_a_complaint_backdated_31_days_starts_no_silence(svc: ServiceHarness) -> None:
    await svc.deliver(complaint("c-1", NOW - 31 * DAY))
    assert await drain(svc, "silence.started") == []
    await svc.deliver(complaint("c-1", NOW, "t-2"))
    [started] = await drain(svc, "silence.started")
    assert started.data["ticket_id"] == "t-2"


async def test_the_follow_up_uses_the_first_reachable_channel(svc: ServiceHarness) -> None:
    consents = {"email": True, "sms": True, "wecom": True}
    await svc.deliver(builders.customer_registered("c-1", consents=consents))
    await svc.deliver(complaint("c-1", NOW))
    [follow_up] = await messages_of(svc, "c-1")
    assert follow_up.channel == "wecom"  # sms comes first, but there is no phone number


def segment(customer_id: str, old: str | None, new: str, at: datetime = NOW) -> dict[str, Any]:
    return builders.segment_changed(customer_id, old_segment=old, new_segment=new, at=at)


async def test_playbooks_run_on_entering_a_segment_while_fresh(svc: ServiceHarness) -> None:
    await svc.deliver(segment("c-1", "new", "potential"))
    await svc.deliver(segment("c-2", "potential", "potential"))
    await svc.deliver(segment("c-3", "new", "potential", at=NOW - 4 * DAY))
    await svc.deliver(segment("c-4", None, "regular"))

    [playbook] = await messages_of(svc, "c-1")
    assert (playbook.channel, playbook.template, playbook.purpose) == (
        "in_app",
        "similar_to_viewed",
        "marketing",
    )
    for quiet in ("c-2", "c-3", "c-4"):
        assert await messages_of(svc, quiet) == []


async def test_a_customer_flapping_between_segments_is_welcomed_once(
    svc: ServiceHarness,
) -> None:
    """prospect -> new -> regular -> potential -> regular -> potential within 100 ms: one
    playbook message for potential, not two; a re-entry after the repeat window runs it again."""
    ms = timedelta(milliseconds=1)
    flaps = [(None, "new"), ("new", "regular"), ("regular", "potential")]
    flaps += [("potential", "regular"), ("regular", "potential")]
    for step, (old, new) in enumerate(flaps):
        await svc.deliver(segment("c-1", old, new, at=NOW - 100 * ms + 20 * step * ms))
    assert [m.template for m in await messages_of(svc, "c-1")] == ["similar_to_viewed"]

    svc.clock.advance(30 * DAY)
    await svc.deliver(segment("c-1", "potential", "regular", at=NOW + 30 * DAY - HOUR))
    await svc.deliver(segment("c-1", "regular", "potential", at=NOW + 30 * DAY))
    assert len(await messages_of(svc, "c-1")) == 2


async def test_an_older_segment_change_arriving_late_is_ignored(svc: ServiceHarness) -> None:
    await svc.deliver(segment("c-1", "new", "regular", at=NOW))
    await svc.deliver(segment("c-1", None, "new", at=NOW - DAY))
    customer = await customer_row(svc, "c-1")
    assert customer is not None and customer.segment == "regular"


@pytest.mark.parametrize(
    ("csat", "resolved_ago", "coupons"),
    [(5, HOUR, 1), (4, 71 * HOUR, 1), (3, HOUR, 0), (5, 73 * HOUR, 0), (None, HOUR, 0)],
)
async def test_a_csat_coupon_within_72_hours(
    svc: ServiceHarness, csat: int | None, resolved_ago: timedelta, coupons: int
) -> None:
    def resolved() -> dict[str, Any]:
        return builders.ticket_resolved(
            "c-1",
            ticket_id="t-1",
            kind="inquiry",
            category="size",
            resolved_at=NOW - resolved_ago,
            csat=csat,
            at=NOW,
        )

    await svc.deliver(resolved())
    await svc.deliver(resolved())
    assert [m.template for m in await messages_of(svc, "c-1")] == ["csat_coupon"] * coupons


async def test_erasure_keeps_decisions_without_personal_data(svc: ServiceHarness) -> None:
    registered = builders.customer_registered(
        "c-1", email="a@example.com", consents={"email": True}
    )
    await svc.deliver(registered)
    await svc.deliver(builders.profile_tagged("c-1", tags=["vip"]))
    await svc.deliver(complaint("c-1", NOW))
    await drain(svc, "message.suppressed")

    await svc.deliver(builders.customer_erased("c-1", erased_at=NOW))
    await svc.deliver(builders.customer_updated("c-1", email="b@example.com"))

    customer = await customer_row(svc, "c-1")
    assert customer is not None and customer.erased_at == NOW
    assert (customer.email, customer.consents, customer.tags) == (None, {}, [])
    [follow_up] = await messages_of(svc, "c-1")
    assert (follow_up.outcome, follow_up.reason, follow_up.params) == (
        "suppressed",
        "customer_erased",
        None,
    )
    [suppressed] = await drain(svc, "message.suppressed")
    assert suppressed.data["reason"] == "customer_erased"
