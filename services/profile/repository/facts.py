"""A customer's facts: ``CustomerFacts`` <-> the JSON document stored per customer.

Times are integer microseconds since the epoch (exact, and small); money is a decimal string.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.profile.models import CustomerFeatures
from services.profile.repository.in_hand import RowsInHand
from services.profile.rules.facts import (
    ComplaintFact,
    CustomerFacts,
    Lifetime,
    OrderFact,
    RefundFact,
    ResolutionFact,
    ReviewFact,
    TicketFact,
)
from shared.transaction import Transaction

FORMAT_VERSION = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def moment(value: int) -> datetime:
    return _EPOCH + value * _MICROSECOND


def _optional_micros(value: datetime | None) -> int | None:
    return None if value is None else micros(value)


def _optional_moment(value: int | None) -> datetime | None:
    return None if value is None else moment(value)


def facts_to_json(facts: CustomerFacts) -> dict[str, Any]:
    lifetime = facts.lifetime
    return {
        "v": FORMAT_VERSION,
        "views": {c: [micros(t) for t in times] for c, times in sorted(facts.views.items())},
        "orders": [
            {
                "id": o.order_id,
                "t": micros(o.at),
                "amount": str(o.amount),
                "list": None if o.list_value is None else str(o.list_value),
                "qty": o.quantity,
                "cats": {c: str(v) for c, v in o.category_values.items()},
                "ch": o.channel,
            }
            for o in facts.orders
        ],
        "refunds": [
            {"order": r.order_id, "t": micros(r.at), "amount": str(r.amount), "reason": r.reason}
            for r in facts.refunds
        ],
        "reviews": [{"t": micros(r.at), "rating": r.rating} for r in facts.reviews],
        "tickets": [
            {"id": t.ticket_id, "t": micros(t.at), "kind": t.kind, "cat": t.category}
            for t in facts.tickets
        ],
        "complaints": [
            {"id": c.ticket_id, "t": micros(c.at), "cat": c.category} for c in facts.complaints
        ],
        "resolutions": [
            {"id": r.ticket_id, "t": micros(r.at), "csat": r.csat} for r in facts.resolutions
        ],
        "lifetime": {
            "orders": lifetime.orders,
            "spend": str(lifetime.spend),
            "first_order": _optional_micros(lifetime.first_order_at),
            "last_order": _optional_micros(lifetime.last_order_at),
        },
    }


def facts_from_json(data: dict[str, Any] | None) -> CustomerFacts:
    if not data:
        return CustomerFacts()
    lifetime = data.get("lifetime") or {}
    return CustomerFacts(
        views={c: tuple(moment(t) for t in times) for c, times in data["views"].items()},
        orders=tuple(
            OrderFact(
                order_id=o["id"],
                at=moment(o["t"]),
                amount=Decimal(o["amount"]),
                list_value=None if o["list"] is None else Decimal(o["list"]),
                quantity=o["qty"],
                category_values={c: Decimal(v) for c, v in o["cats"].items()},
                channel=o["ch"],
            )
            for o in data["orders"]
        ),
        refunds=tuple(
            RefundFact(r["order"], moment(r["t"]), Decimal(r["amount"]), r["reason"])
            for r in data["refunds"]
        ),
        reviews=tuple(ReviewFact(moment(r["t"]), r["rating"]) for r in data["reviews"]),
        tickets=tuple(
            TicketFact(t["id"], moment(t["t"]), t["kind"], t["cat"]) for t in data["tickets"]
        ),
        complaints=tuple(
            ComplaintFact(c["id"], moment(c["t"]), c["cat"]) for c in data["complaints"]
        ),
        resolutions=tuple(
            ResolutionFact(r["id"], moment(r["t"]), r["csat"]) for r in data["resolutions"]
        ),
        lifetime=Lifetime(
            orders=lifetime.get("orders", 0),
            spend=Decimal(lifetime.get("spend", "0.00")),
            first_order_at=_optional_moment(lifetime.get("first_order")),
            last_order_at=_optional_moment(lifetime.get("last_order")),
        ),
    )


async def _features_row(tx: Transaction, customer_id: str) -> CustomerFeatures | None:
    features = tx.held(RowsInHand).features
    if customer_id not in features:
        features[customer_id] = await tx.session.get(CustomerFeatures, customer_id)
    return features[customer_id]


async def load_facts(tx: Transaction, customer_id: str) -> CustomerFacts:
    row = await _features_row(tx, customer_id)
    return facts_from_json(row.facts if row is not None else None)


async def save_facts(tx: Transaction, customer_id: str, facts: CustomerFacts, at: datetime) -> None:
    row = await _features_row(tx, customer_id)
    if row is None:
        row = CustomerFeatures(customer_id=customer_id, facts=facts_to_json(facts), updated_at=at)
        tx.session.add(row)
        tx.held(RowsInHand).features[customer_id] = row
        return
    row.facts = facts_to_json(facts)
    row.updated_at = at
