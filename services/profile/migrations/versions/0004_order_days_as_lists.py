"""order days of the features document as lists (format 3)

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-10 09:00:00

Format 2 wrote each order day of ``customers.features`` as an object naming its figures;
format 3 writes the same figures as a list in a fixed order, as every other kind of day
already was. Every stored document is rewritten; the conversion below is a frozen copy of the
two formats, so it keeps its meaning whatever the service's code becomes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ORDER_FIELDS = (
    "t n amount max items sets cats ch priced discounted list discount refunded".split()
)

customers = sa.table(
    "customers", sa.column("customer_id", sa.String), sa.column("features", sa.JSON)
)


def _to_lists(document: dict[str, Any]) -> dict[str, Any]:
    orders = [[day[name] for name in _ORDER_FIELDS] for day in document["orders"]]
    return {**document, "v": 3, "orders": orders}


def _to_objects(document: dict[str, Any]) -> dict[str, Any]:
    orders = [dict(zip(_ORDER_FIELDS, day, strict=True)) for day in document["orders"]]
    return {**document, "v": 2, "orders": orders}


def _rewrite(version: int, convert: Any) -> None:
    bind = op.get_bind()
    query = sa.select(customers.c.customer_id, customers.c.features).where(
        customers.c.features.is_not(None)
    )
    rows = [
        {"key": customer_id, "features": convert(features)}
        for customer_id, features in bind.execute(query)
        if features and features.get("v") == version
    ]
    if rows:
        bind.execute(
            sa.update(customers)
            .where(customers.c.customer_id == sa.bindparam("key"))
            .values(features=sa.bindparam("features", type_=sa.JSON)),
            rows,
        )


def upgrade() -> None:
    _rewrite(2, _to_lists)


def downgrade() -> None:
    _rewrite(3, _to_objects)
