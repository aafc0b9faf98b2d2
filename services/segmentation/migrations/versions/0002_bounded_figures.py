"""bounded figures per member, keyset index for the sweep

Each member row gains the figures the rules read (kept orders of the window, the latest kept
order, net spend per business month, complaints of the window) and ``settled_until``. The
figures are backfilled from ``customer_orders`` and ``customer_complaints`` as of each member's
last evaluation, with the default policy (365-day window, Asia/Shanghai months, 24 months
kept); ``settled_until`` is set to the last evaluation, so the next review (at most a day
away) re-evaluates every member in full under the configured policy.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 00:00:00
"""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

WINDOW = timedelta(days=365)
TIMEZONE = ZoneInfo("Asia/Shanghai")
MONTHS_KEPT = 24
CHUNK = 2_000

members = sa.table(
    "segment_members",
    sa.column("customer_id", sa.String()),
    sa.column("evaluated_at", sa.DateTime(timezone=True)),
    sa.column("settled_until", sa.DateTime(timezone=True)),
    sa.column("last_order_at", sa.DateTime(timezone=True)),
    sa.column("recent_orders", sa.JSON()),
    sa.column("recent_complaints", sa.JSON()),
    sa.column("monthly_net", sa.JSON()),
)
orders = sa.table(
    "customer_orders",
    sa.column("customer_id", sa.String()),
    sa.column("placed_at", sa.DateTime(timezone=True)),
    sa.column("amount_fen", sa.BigInteger()),
    sa.column("refunded_fen", sa.BigInteger()),
)
complaints = sa.table(
    "customer_complaints",
    sa.column("customer_id", sa.String()),
    sa.column("opened_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("segment_members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("settled_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_order_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("recent_orders", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("recent_complaints", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("monthly_net", sa.JSON(), nullable=False, server_default="{}")
        )
        batch_op.drop_index("ix_segment_members_review_at")
        batch_op.create_index(
            "ix_segment_members_review_at_customer", ["review_at", "customer_id"], unique=False
        )
    _backfill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("segment_members", schema=None) as batch_op:
        batch_op.drop_index("ix_segment_members_review_at_customer")
        batch_op.create_index("ix_segment_members_review_at", ["review_at"], unique=False)
        batch_op.drop_column("monthly_net")
        batch_op.drop_column("recent_complaints")
        batch_op.drop_column("recent_orders")
        batch_op.drop_column("last_order_at")
        batch_op.drop_column("settled_until")


def _backfill(bind: sa.engine.Connection) -> None:
    """Members in chunks of ``CHUNK``, by customer id: their orders and complaints in one
    query each, one executemany update."""
    sqlite = bind.dialect.name == "sqlite"
    after = ""
    while True:
        chunk = bind.execute(
            sa.select(members.c.customer_id, members.c.evaluated_at)
            .where(members.c.customer_id > after)
            .order_by(members.c.customer_id)
            .limit(CHUNK)
        ).all()
        if not chunk:
            return
        ids = [customer_id for customer_id, _ in chunk]
        placed = defaultdict(list)
        for customer_id, placed_at, amount, refunded in bind.execute(
            sa.select(orders).where(orders.c.customer_id.in_(ids), orders.c.placed_at.is_not(None))
        ):
            placed[customer_id].append((_utc(placed_at), amount or 0, refunded or 0))
        opened = defaultdict(list)
        for customer_id, opened_at in bind.execute(
            sa.select(complaints).where(complaints.c.customer_id.in_(ids))
        ):
            opened[customer_id].append(_utc(opened_at))
        rows = [
            _figures(customer_id, _utc(evaluated_at), placed[customer_id], opened[customer_id])
            for customer_id, evaluated_at in chunk
        ]
        if sqlite:
            for row in rows:
                for name in ("b_settled_until", "b_last_order_at"):
                    if row[name] is not None:
                        row[name] = row[name].replace(tzinfo=None)
        bind.execute(
            sa.update(members)
            .where(members.c.customer_id == sa.bindparam("b_customer_id"))
            .values(
                {
                    name: sa.bindparam(f"b_{name}")
                    for name in (
                        "settled_until",
                        "last_order_at",
                        "recent_orders",
                        "recent_complaints",
                        "monthly_net",
                    )
                }
            ),
            rows,
        )
        after = ids[-1]


def _figures(customer_id, evaluated_at, placed, opened):
    start = evaluated_at - WINDOW
    now_month = _month(evaluated_at)
    index = now_month.year * 12 + now_month.month - 1 - MONTHS_KEPT
    oldest_month = date(index // 12, index % 12 + 1, 1)
    recent, monthly, last = [], defaultdict(int), None
    for placed_at, amount, refunded in sorted(placed):
        net = max(0, amount - refunded)
        month = _month(placed_at)
        if month >= oldest_month:
            monthly[month] += net
        if refunded > 0 and refunded >= amount:
            continue
        last = placed_at if last is None else max(last, placed_at)
        if placed_at > start:
            recent.append([placed_at.isoformat(), net])
    return {
        "b_customer_id": customer_id,
        "b_settled_until": evaluated_at,
        "b_last_order_at": last,
        "b_recent_orders": recent,
        "b_recent_complaints": [at.isoformat() for at in sorted(opened) if at > start],
        "b_monthly_net": {f"{m:%Y-%m}": fen for m, fen in sorted(monthly.items()) if fen},
    }


def _month(at: datetime) -> date:
    local = at.astimezone(TIMEZONE)
    return date(local.year, local.month, 1)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
