"""The catalogue's personal fields are no longer than the columns that keep them: a longer
value is an invalid event on every database, never a failed write (whose error would carry
the row)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from sqlalchemy import Column

from services.engagement.models import Customer as EngagementCustomer
from services.profile.models import Customer as ProfileCustomer
from shared.events.catalogue import CustomerRegistered, CustomerUpdated


def _max_length(model: type[BaseModel], field: str) -> int | None:
    """The field's maxLength in the event's JSON schema (what the AsyncAPI document says)."""
    schema = model.model_json_schema()["properties"][field]
    lengths = [s["maxLength"] for s in schema.get("anyOf", [schema]) if "maxLength" in s]
    return lengths[0] if lengths else None


COLUMNS: list[tuple[str, Column]] = [
    ("name", ProfileCustomer.__table__.c.name),
    ("email", ProfileCustomer.__table__.c.email),
    ("phone", ProfileCustomer.__table__.c.phone),
    ("email", EngagementCustomer.__table__.c.email),
    ("phone", EngagementCustomer.__table__.c.phone),
]


@pytest.mark.parametrize("event", [CustomerRegistered, CustomerUpdated])
@pytest.mark.parametrize(
    ("field", "column"), COLUMNS, ids=[f"{c.table}.{c.name}" for _, c in COLUMNS]
)
def test_a_personal_field_is_as_long_as_its_columns(event, field, column):
    assert _max_length(event, field) == column.type.length
