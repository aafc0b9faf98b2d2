"""net spend by business month; orders read by key only

The tier window sums ``monthly_spend`` rows (a row per customer and business month of the
order, its net spend in fen) instead of reading the customer's orders. The rows are backfilled
from ``orders``: each placed order's amount less its refunds (never below zero), in the
business month of its placement, judged in the business timezone of the rulebook in force.
Orders are now only read by key, so their (customer, placed_at) index goes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 00:00:00
"""

from collections import defaultdict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHUNK = 5_000

orders = sa.table(
    "orders",
    sa.column("customer_id", sa.String()),
    sa.column("placed_at", sa.DateTime(timezone=True)),
    sa.column("amount_fen", sa.BigInteger()),
    sa.column("refunded_fen", sa.BigInteger()),
)
rule_versions = sa.table(
    "rule_versions", sa.column("version", sa.Integer()), sa.column("document", sa.JSON())
)
monthly_spend = sa.table(
    "monthly_spend",
    sa.column("customer_id", sa.String()),
    sa.column("business_month", sa.Date()),
    sa.column("net_spend_fen", sa.BigInteger()),
)


def upgrade() -> None:
    op.create_table(
        "monthly_spend",
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("business_month", sa.Date(), nullable=False),
        sa.Column("net_spend_fen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "customer_id", "business_month", name=op.f("pk_monthly_spend")
        ),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_customer_placed_at")
    _backfill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_customer_placed_at", ["customer_id", "placed_at"], unique=False
        )
    op.drop_table("monthly_spend")


def _backfill(connection: sa.Connection) -> None:
    document = connection.execute(
        sa.select(rule_versions.c.document).order_by(rule_versions.c.version.desc()).limit(1)
    ).scalar()
    zone = ZoneInfo((document or {}).get("business_timezone", "Asia/Shanghai"))
    spend: dict[tuple[str, date], int] = defaultdict(int)
    placed = sa.select(orders).where(
        orders.c.amount_fen.is_not(None), orders.c.placed_at.is_not(None)
    )
    for row in connection.execute(placed):
        placed_at = row.placed_at
        if placed_at.tzinfo is None:  # SQLite hands back naive UTC
            placed_at = placed_at.replace(tzinfo=UTC)
        month = _business_month(placed_at, zone)
        spend[(row.customer_id, month)] += row.amount_fen - min(row.refunded_fen, row.amount_fen)
    rows = [
        {"customer_id": customer_id, "business_month": month, "net_spend_fen": fen}
        for (customer_id, month), fen in sorted(spend.items())
    ]
    for start in range(0, len(rows), CHUNK):
        op.bulk_insert(monthly_spend, rows[start : start + CHUNK])


def _business_month(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date().replace(day=1)
