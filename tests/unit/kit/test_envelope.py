import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from shared.events import CATALOGUE, EventDecodeError, decode_message, encode_event, new_event
from shared.events.catalogue import OrderPlaced, SilenceStarted, TicketOpened
from shared.events.envelope import encode_new_event

STRUCTURED = [("content-type", b"application/cloudevents+json")]


def envelope(event_type="order.placed", **data_overrides):
    data = {
        "order_id": "o-1",
        "customer_id": "c-1",
        "amount": "1299.10",
        "currency": "CNY",
        "items": [{"sku": "s", "category": "shoes", "quantity": 1, "unit_price": "1299.10"}],
        **data_overrides,
    }
    return {
        "specversion": "1.0",
        "id": "e-1",
        "source": "storefront",
        "type": event_type,
        "time": "2026-03-01T10:00:00+08:00",
        "subject": "c-1",
        "data": data,
    }


def test_structured_event_decodes_to_its_typed_model():
    event = decode_message(json.dumps(envelope()).encode(), STRUCTURED)
    assert isinstance(event.data, OrderPlaced)
    assert event.data.amount == Decimal("1299.10")
    assert event.time == datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def test_amount_given_as_a_json_number_stays_exact():
    raw = json.dumps(envelope()).replace('"amount": "1299.10"', '"amount": 1299.10').encode()
    event = decode_message(raw, STRUCTURED)
    assert event.data.amount == Decimal("1299.10")


def test_binary_mode_reads_ce_headers_and_bare_data():
    env = envelope()
    headers = [(f"ce_{k}", str(v).encode()) for k, v in env.items() if k != "data"]
    event = decode_message(json.dumps(env["data"]).encode(), headers)
    assert event.type == "order.placed"
    assert event.envelope.id == "e-1"


def test_unknown_fields_in_data_are_ignored_because_contracts_grow():
    event = decode_message(json.dumps(envelope(loyalty_hint="x")).encode(), STRUCTURED)
    assert not hasattr(event.data, "loyalty_hint")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"{not json", "bad_json"),
        (b"[1, 2]", "bad_json"),
        (json.dumps({**envelope(), "time": "yesterday"}).encode(), "invalid_envelope"),
        (json.dumps({**envelope(), "time": "2026-03-01T10:00:00"}).encode(), "invalid_envelope"),
        (json.dumps(envelope("order.exploded")).encode(), "unknown_type"),
        (json.dumps(envelope(amount="-3")).encode(), "invalid_data"),
        (json.dumps(envelope(customer_id="someone-else")).encode(), "invalid_data"),
    ],
)
def test_undecodable_messages_say_why(value, reason):
    with pytest.raises(EventDecodeError) as raised:
        decode_message(value, STRUCTURED)
    assert raised.value.reason == reason


def test_new_event_refuses_data_of_another_type():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(TypeError):
        new_event(
            "ticket.opened",
            source="loopcrm/test",
            time=now,
            subject="c",
            data=OrderPlaced(order_id="o", customer_id="c", amount=Decimal(1)),
        )


def test_new_event_round_trips_through_the_wire_format():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    data = TicketOpened(
        customer_id="c",
        ticket_id="t",
        kind="complaint",
        category="logistics",
        priority="P1",
        tier="gold",
        opened_at=now,
        response_due_at=now,
    )
    event = new_event("ticket.opened", source="loopcrm/ticketing", time=now, subject="c", data=data)
    value, headers = encode_event(event)
    decoded = decode_message(value, headers)
    assert decoded.data == data
    assert decoded.envelope.id == event.id


def test_every_design_event_type_is_in_the_catalogue():
    design_types = {
        "customer.registered", "customer.updated", "order.placed", "order.refunded",
        "product.viewed", "review.posted", "profile.tagged", "customer.erased",
        "segment.changed", "churn_risk.detected", "silence.started", "message.sent",
        "message.suppressed", "ticket.opened", "complaint.opened", "ticket.prioritized",
        "ticket.resolved", "sla.breached", "points.earned", "points.redeemed",
        "points.expired", "points.held", "tier.changed",
    }  # fmt: skip
    assert design_types <= set(CATALOGUE)


def test_a_required_nullable_field_survives_the_wire():
    from shared.events.catalogue import SegmentChanged

    now = datetime(2026, 1, 1, tzinfo=UTC)
    data = SegmentChanged(customer_id="c", old_segment=None, new_segment="new", rfm={})
    event = new_event("segment.changed", source="loopcrm/seg", time=now, subject="c", data=data)
    value, headers = encode_event(event)
    assert json.loads(value)["data"]["old_segment"] is None
    assert decode_message(value, headers).data == data


def test_a_new_event_encoded_directly_is_the_envelope_the_model_would_give() -> None:
    data = SilenceStarted(
        customer_id="c-1",
        until=datetime(2025, 7, 1, 8, tzinfo=timezone(timedelta(hours=8))),
        reason="complaint",
    )
    at = datetime(2025, 6, 1, 9, 30, 0, 123456, tzinfo=UTC)
    event_id, value = encode_new_event(
        "silence.started", source="loopcrm/engagement", time=at, subject="c-1", data=data
    )
    model = new_event(
        "silence.started", source="loopcrm/engagement", time=at, subject="c-1", data=data
    )
    expected = json.loads(encode_event(model)[0])
    assert json.loads(value) == {**expected, "id": event_id}
    assert decode_message(value, []).data == data
