"""Tables every service database carries: the transactional outbox and the inbox."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from shared.db import UtcDateTime, new_metadata

kit_metadata: MetaData = new_metadata()

# SQLite only auto-increments an INTEGER PRIMARY KEY; BigInteger elsewhere.
_Sequence = BigInteger().with_variant(Integer(), "sqlite")

outbox = Table(
    "outbox",
    kit_metadata,
    Column("seq", _Sequence, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("topic", String(200), nullable=False),
    Column("key", String(200), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

inbox = Table(
    "inbox",
    kit_metadata,
    Column("source", String(200), primary_key=True),
    Column("event_id", String(200), primary_key=True),
    Column("event_type", String(200), nullable=False),
    Column("processed_at", UtcDateTime(), nullable=False),
)
