"""Agents' open loads kept on their rows; indexes for the hot paths: the queue in work order,
the breach scan, a customer's tickets, agents' open tickets

`agents.open_tickets` is the count dispatch decides on, kept by every write that assigns,
moves or resolves a ticket; the upgrade backfills it from the open tickets.

The queue's index now holds its whole order (priority, response due, opened, id) and only
open tickets; it replaces ix_tickets_work_order. A customer's tickets are found by customer
first (customer_id, status), for the ticket list and the consumer's runs; it replaces
ix_tickets_status_customer, which led with status and so competed with the queue's index.

Revision ID: 0002
Revises: 0001
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OPEN = "status = 'open'"
AWAITING_FIRST_RESPONSE = "status = 'open' AND first_response_at IS NULL AND sla_breached_at IS NULL"


def _partial(condition: str) -> dict[str, Any]:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def upgrade() -> None:
    op.add_column(
        "agents", sa.Column("open_tickets", sa.Integer(), nullable=False, server_default="0")
    )
    op.execute(
        "UPDATE agents SET open_tickets = (SELECT count(*) FROM tickets"
        " WHERE tickets.assignee_id = agents.agent_id AND tickets.status = 'open')"
    )
    op.drop_index("ix_tickets_work_order", table_name="tickets")
    op.drop_index("ix_tickets_status_customer", table_name="tickets")
    op.create_index("ix_tickets_customer_status", "tickets", ["customer_id", "status"])
    op.create_index(
        "ix_tickets_open_work_order",
        "tickets",
        ["priority", "response_due_at", "opened_at", "id"],
        **_partial(OPEN),
    )
    op.create_index(
        "ix_tickets_awaiting_first_response",
        "tickets",
        ["response_due_at", "id"],
        **_partial(AWAITING_FIRST_RESPONSE),
    )
    op.create_index("ix_tickets_open_assignee", "tickets", ["assignee_id"], **_partial(OPEN))


def downgrade() -> None:
    op.drop_index("ix_tickets_open_assignee", table_name="tickets")
    op.drop_index("ix_tickets_awaiting_first_response", table_name="tickets")
    op.drop_index("ix_tickets_open_work_order", table_name="tickets")
    op.drop_index("ix_tickets_customer_status", table_name="tickets")
    op.create_index("ix_tickets_status_customer", "tickets", ["status", "customer_id"])
    op.create_index(
        "ix_tickets_work_order", "tickets", ["status", "priority", "response_due_at"]
    )
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of `agents` would trip
    # the tickets' foreign key.
    op.drop_column("agents", "open_tickets")
