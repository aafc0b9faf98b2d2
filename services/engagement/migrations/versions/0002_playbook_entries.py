"""the entry into each segment that last ran its playbook

A customer's ``playbook_entries`` maps a segment to the business time of the entry that last
ran its playbook, so a customer flapping in and out of a segment is welcomed once per repeat
window. Existing customers start with none: their next entry runs the playbook.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(
            sa.Column("playbook_entries", sa.JSON(), nullable=False, server_default="{}")
        )
    with op.batch_alter_table("customers") as batch:
        batch.alter_column("playbook_entries", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("playbook_entries")
