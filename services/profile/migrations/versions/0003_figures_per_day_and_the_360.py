"""facts as figures per day, orders by id, the customer 360 document

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:30:00

customers gains ``features`` (the facts as figures per UTC day, format 2), ``tags`` (the tag
names held now), ``customer_360`` (the read model of GET /v1/customers/{id}) and
``tags_catalogue`` (the catalogue the tags were evaluated with: NULL, so each customer's next
evaluation is a full one);
``customer_orders`` keeps orders by id (dedupe, refund_rate); ``ticket_states`` gains
``complained_at`` (a complaint counts once per ticket). Everything is carried forward from the
stored facts (``customer_features``, format 1, dropped afterwards): the code below is a frozen
copy of what format 2 and the 360 were when this revision was written, so it keeps its meaning
whatever the service's code becomes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

from shared.db import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_US = 86_400_000_000
_ZERO = Decimal("0.00")
_CENT = Decimal("0.01")
_PROFILE = (
    "customer_id name email phone birthday referrer_id consents registered_at updated_at "
    "open_tickets erased_at tier tier_since segment segment_since silenced_until "
    "silence_reason tags_as_of"
).split()

customers = sa.table(
    "customers",
    sa.column("customer_id", sa.String),
    sa.column("name", sa.String),
    sa.column("email", sa.String),
    sa.column("phone", sa.String),
    sa.column("birthday", sa.Date),
    sa.column("referrer_id", sa.String),
    sa.column("consents", sa.JSON),
    sa.column("registered_at", UtcDateTime()),
    sa.column("updated_at", UtcDateTime()),
    sa.column("open_tickets", sa.Integer),
    sa.column("erased_at", UtcDateTime()),
    sa.column("tier", sa.String),
    sa.column("tier_since", UtcDateTime()),
    sa.column("segment", sa.String),
    sa.column("segment_since", UtcDateTime()),
    sa.column("silenced_until", UtcDateTime()),
    sa.column("silence_reason", sa.String),
    sa.column("tags_as_of", UtcDateTime()),
    sa.column("features", sa.JSON),
    sa.column("tags", sa.JSON),
    sa.column("customer_360", sa.JSON),
)
customer_features = sa.table(
    "customer_features", sa.column("customer_id", sa.String), sa.column("facts", sa.JSON)
)
customer_tags = sa.table(
    "customer_tags", sa.column("customer_id", sa.String), sa.column("tag", sa.String)
)
ticket_states = sa.table(
    "ticket_states",
    sa.column("ticket_id", sa.String),
    sa.column("customer_id", sa.String),
    sa.column("complained_at", UtcDateTime()),
)
customer_orders = sa.table(
    "customer_orders",
    sa.column("order_id", sa.String),
    sa.column("customer_id", sa.String),
    sa.column("placed_at", UtcDateTime()),
    sa.column("refunded", sa.Boolean),
)


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("features", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("customer_360", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("tags_catalogue", sa.String(length=32), nullable=True))
    with op.batch_alter_table("ticket_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("complained_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "customer_orders",
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refunded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_customer_orders_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_customer_orders")),
    )
    with op.batch_alter_table("customer_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_orders_customer_id"), ["customer_id"], unique=False
        )
    _carry_forward(op.get_bind())
    op.drop_table("customer_features")


def downgrade() -> None:
    # The facts as raw lists cannot be rebuilt from figures per day: customers keep no facts.
    op.create_table(
        "customer_features",
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_customer_features_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_features")),
    )
    with op.batch_alter_table("customer_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_orders_customer_id"))
    op.drop_table("customer_orders")
    with op.batch_alter_table("ticket_states", schema=None) as batch_op:
        batch_op.drop_column("complained_at")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("tags_catalogue")
        batch_op.drop_column("customer_360")
        batch_op.drop_column("tags")
        batch_op.drop_column("features")


# --- carrying the data forward ----------------------------------------------------------


def _carry_forward(bind: sa.Connection) -> None:
    tags: dict[str, list[str]] = {}
    for customer_id, tag in bind.execute(
        sa.select(customer_tags.c.customer_id, customer_tags.c.tag)
    ):
        tags.setdefault(customer_id, []).append(tag)
    tickets = set(bind.execute(sa.select(ticket_states.c.ticket_id)).scalars())
    query = sa.select(
        *(customers.c[name] for name in _PROFILE), customer_features.c.facts
    ).select_from(
        customers.outerjoin(
            customer_features, customer_features.c.customer_id == customers.c.customer_id
        )
    )
    updates: list[dict[str, Any]] = []
    orders: dict[str, dict[str, Any]] = {}
    complaints: list[dict[str, Any]] = []
    for row in bind.execute(query).mappings():
        customer_id = row["customer_id"]
        held = sorted(tags.get(customer_id, ()))
        old = row["facts"] or {}
        erased = row["erased_at"] is not None
        figures = None if erased or not old else _figures(old)
        updates.append(
            {
                "key": customer_id,
                "features": figures,
                "tags": held,
                "customer_360": _document(row, held, figures),
            }
        )
        for order_id, record in _orders(old).items():
            orders.setdefault(
                order_id, {"order_id": order_id, "customer_id": customer_id, **record}
            )
        for complaint in old.get("complaints", ()):
            complaints.append(
                {
                    "ticket_id": complaint["id"],
                    "customer_id": customer_id,
                    "at": _at(complaint["t"]),
                }
            )
    if updates:
        bind.execute(
            customers.update()
            .where(customers.c.customer_id == sa.bindparam("key"))
            .values(
                features=sa.bindparam("features", type_=sa.JSON),
                tags=sa.bindparam("tags", type_=sa.JSON),
                customer_360=sa.bindparam("customer_360", type_=sa.JSON),
            ),
            updates,
        )
    if orders:
        bind.execute(customer_orders.insert(), list(orders.values()))
    known = [c for c in complaints if c["ticket_id"] in tickets]
    fresh = {c["ticket_id"]: c for c in complaints if c["ticket_id"] not in tickets}
    if known:
        bind.execute(
            ticket_states.update()
            .where(ticket_states.c.ticket_id == sa.bindparam("ticket"))
            .values(complained_at=sa.bindparam("at", type_=UtcDateTime())),
            [{"ticket": c["ticket_id"], "at": c["at"]} for c in known],
        )
    if fresh:
        bind.execute(
            ticket_states.insert(),
            [
                {"ticket_id": t, "customer_id": c["customer_id"], "complained_at": c["at"]}
                for t, c in fresh.items()
            ],
        )


def _at(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _orders(old: dict[str, Any]) -> dict[str, dict[str, Any]]:
    refunded = {r["order"] for r in old.get("refunds", ())}
    found = {
        o["id"]: {"placed_at": _at(o["t"]), "refunded": o["id"] in refunded}
        for o in old.get("orders", ())
    }
    for order_id in refunded - set(found):
        found[order_id] = {"placed_at": None, "refunded": True}
    return found


def _by_day(entries: Iterable[tuple[int, Any]], merge: Any) -> list[Any]:
    days: dict[int, Any] = {}
    for t, figures in sorted(entries, key=lambda entry: entry[0]):
        day = t // _DAY_US
        days[day] = figures if day not in days else merge(days[day], figures)
    return list(days.values())


def _add(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    total = dict(a)
    for key, value in b.items():
        total[key] = total.get(key, 0) + value
    return total


def _money_add(a: dict[str, str], b: dict[str, str]) -> dict[str, str]:
    total = dict(a)
    for key, value in b.items():
        total[key] = str(Decimal(total.get(key, "0")) + Decimal(value))
    return total


def _figures(old: dict[str, Any]) -> dict[str, Any]:
    """Format 1 (lists of facts) -> format 2 (figures per day)."""
    refunded = {r["order"] for r in old.get("refunds", ())}
    views = [(t, {"t": t, "c": {category: 1}}) for category, ts in old["views"].items() for t in ts]
    view_days = _by_day(views, lambda a, b: {"t": a["t"], "c": _add(a["c"], b["c"])})
    order_days = _by_day(
        ((o["t"], _order(o, o["id"] in refunded)) for o in old["orders"]), _orders_plus
    )
    refund_days = _by_day(
        ((r["t"], [r["t"], {r["reason"]: 1}, r["amount"]]) for r in old["refunds"]),
        lambda a, b: [a[0], _add(a[1], b[1]), str(Decimal(a[2]) + Decimal(b[2]))],
    )
    review_days = _by_day(
        (
            (r["t"], [r["t"], 1, r["rating"], int(r["rating"] <= 2), int(r["rating"] >= 4)])
            for r in old["reviews"]
        ),
        lambda a, b: [a[0], *(x + y for x, y in zip(a[1:], b[1:], strict=True))],
    )
    ticket_days = _by_day(
        ((t["t"], [t["t"], {t["cat"]: 1}, int(t["kind"] == "inquiry")]) for t in old["tickets"]),
        lambda a, b: [a[0], _add(a[1], b[1]), a[2] + b[2]],
    )
    complaint_days = _by_day(
        ((c["t"], [c["t"], {c["cat"]: 1}]) for c in old["complaints"]),
        lambda a, b: [a[0], _add(a[1], b[1])],
    )
    resolution_days = _by_day(
        (
            (
                r["t"],
                [
                    r["t"],
                    int(r["csat"] is not None and r["csat"] <= 2),
                    int(r["csat"] is not None and r["csat"] >= 4),
                ],
            )
            for r in old["resolutions"]
        ),
        lambda a, b: [a[0], a[1] + b[1], a[2] + b[2]],
    )
    seen = [t for ts in old["views"].values() for t in ts]
    for kind in ("orders", "refunds", "reviews", "tickets", "complaints"):
        seen.extend(entry["t"] for entry in old[kind])
    return {
        "v": 2,
        "views": [[day["t"], day["c"]] for day in view_days],
        "orders": order_days,
        "refunds": refund_days,
        "reviews": review_days,
        "tickets": ticket_days,
        "complaints": complaint_days,
        "resolutions": resolution_days,
        "lifetime": old["lifetime"],
        "last_seen": max(seen, default=None),
    }


def _order(o: dict[str, Any], refunded: bool) -> dict[str, Any]:
    amount = Decimal(o["amount"])
    listed = Decimal(o["list"]) if o["list"] else _ZERO
    priced = bool(listed)
    return {
        "t": o["t"],
        "n": 1,
        "amount": str(amount),
        "max": str(amount),
        "items": o["qty"],
        "sets": [[sorted(o["cats"]), 1]] if o["cats"] else [],
        "cats": dict(o["cats"]),
        "ch": {} if o["ch"] is None else {o["ch"]: 1},
        "priced": int(priced),
        "discounted": int(priced and amount <= listed * (1 - Decimal("0.05"))),
        "list": str(listed),
        "discount": str(max(_ZERO, listed - amount) if priced else _ZERO),
        "refunded": int(refunded),
    }


def _orders_plus(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    sets = {tuple(s): n for s, n in a["sets"]}
    for s, n in b["sets"]:
        sets[tuple(s)] = sets.get(tuple(s), 0) + n
    return {
        "t": min(a["t"], b["t"]),
        "n": a["n"] + b["n"],
        "amount": str(Decimal(a["amount"]) + Decimal(b["amount"])),
        "max": str(max(Decimal(a["max"]), Decimal(b["max"]))),
        "items": max(a["items"], b["items"]),
        "sets": [[list(s), n] for s, n in sets.items()],
        "cats": _money_add(a["cats"], b["cats"]),
        "ch": _add(a["ch"], b["ch"]),
        "priced": a["priced"] + b["priced"],
        "discounted": a["discounted"] + b["discounted"],
        "list": str(Decimal(a["list"]) + Decimal(b["list"])),
        "discount": str(Decimal(a["discount"]) + Decimal(b["discount"])),
        "refunded": a["refunded"] + b["refunded"],
    }


def _in(days: Iterable[Any], as_of: int, window_days: int) -> Iterator[Any]:
    lower = as_of - window_days * _DAY_US
    for day in days:
        first = day["t"] if isinstance(day, dict) else day[0]
        if lower < first <= as_of:
            yield day


def _time(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _document(row: Any, tags: list[str], figures: dict[str, Any] | None) -> dict[str, Any]:
    """The 360 as the handlers of this revision write it (``repository/documents.py``)."""
    erased = row["erased_at"] is not None
    as_of = row["erased_at"] if erased else (row["tags_as_of"] or row["updated_at"])
    now = _micros(as_of)
    f = figures or {
        "views": [],
        "orders": [],
        "refunds": [],
        "reviews": [],
        "tickets": [],
        "complaints": [],
        "lifetime": {"orders": 0, "spend": "0.00", "last_order": None},
        "last_seen": None,
    }
    orders = list(_in(f["orders"], now, 365))
    n_orders = sum(o["n"] for o in orders)
    spend = sum((Decimal(o["amount"]) for o in orders), _ZERO)
    reviews = list(_in(f["reviews"], now, 365))
    n_reviews, rating_sum = sum(r[1] for r in reviews), sum(r[2] for r in reviews)
    lifetime = f["lifetime"]
    return {
        "customer_id": row["customer_id"],
        "name": row["name"],
        "email": row["email"],
        "phone": row["phone"],
        "birthday": None if row["birthday"] is None else row["birthday"].isoformat(),
        "referrer_id": row["referrer_id"],
        "consents": dict(row["consents"] or {}),
        "registered_at": _time(row["registered_at"]),
        "updated_at": _time(row["updated_at"]),
        "open_tickets": row["open_tickets"] or 0,
        "erased": erased,
        "erased_at": _time(row["erased_at"]),
        "tags": [] if erased else tags,
        "tags_as_of": _time(row["tags_as_of"]),
        "tier": row["tier"],
        "tier_since": _time(row["tier_since"]),
        "segment": row["segment"],
        "segment_since": _time(row["segment_since"]),
        "silence": {"until": _time(row["silenced_until"]), "reason": row["silence_reason"]},
        "activity": {
            "as_of": _time(as_of),
            "lifetime_orders": lifetime["orders"],
            "lifetime_spend": lifetime["spend"],
            "last_order_at": None
            if lifetime["last_order"] is None
            else _time(_at(lifetime["last_order"])),
            "last_seen_at": None if f["last_seen"] is None else _time(_at(f["last_seen"])),
            "orders_365d": n_orders,
            "spend_365d": str(spend),
            "avg_order_value_365d": None
            if not n_orders
            else str((spend / n_orders).quantize(_CENT)),
            "refunds_90d": sum(sum(r[1].values()) for r in _in(f["refunds"], now, 90)),
            "views_30d": sum(sum(v[1].values()) for v in _in(f["views"], now, 30)),
            "inquiries_30d": sum(t[2] for t in _in(f["tickets"], now, 30)),
            "complaints_365d": sum(sum(c[1].values()) for c in _in(f["complaints"], now, 365)),
            "avg_rating_365d": None
            if not n_reviews
            else str((Decimal(rating_sum) / n_reviews).quantize(_CENT)),
        },
    }
