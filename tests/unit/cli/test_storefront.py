"""The demo's storefront: deterministic for a seed, every event valid against the catalogue,
business time within the stretch simulated."""

from datetime import UTC, datetime, timedelta

from shared.cli.storefront import simulate
from shared.events.http_binding import check

END = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def test_the_same_seed_tells_the_same_story() -> None:
    assert simulate(40, 60, END, seed=3) == simulate(40, 60, END, seed=3)
    assert simulate(40, 60, END, seed=3).events != simulate(40, 60, END, seed=4).events


def test_every_event_is_valid_and_within_the_stretch() -> None:
    story = simulate(60, 90, END, seed=11)
    kinds = {event["type"] for event in story.events}
    assert {"customer.registered", "product.viewed", "order.placed"} <= kinds
    for index, event in enumerate(story.events):
        received = check(index, event)
        assert received.rejection is None, (event, received.rejection)
        assert END - timedelta(days=90) <= received.event.time <= END
    times = [event["time"] for event in story.events]
    assert times == sorted(times)
    registered = {e["subject"] for e in story.events if e["type"] == "customer.registered"}
    assert registered == set(story.customer_ids)
    assert all(c.customer_id in registered and c.opened_at <= END for c in story.complaints)
