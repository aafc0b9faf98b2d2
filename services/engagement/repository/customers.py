"""The customer read model as rows in hand: loaded for a whole run in one query, changed in
memory by the handlers, written back in one statement per run, only the columns a handler
owns (so handlers of different topics never overwrite each other's fields)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.engagement.models import Customer
from services.engagement.rules.channels import Channel, Contact, consented_channels
from services.engagement.rules.decision import CustomerState
from shared.bulk import upsert

customers = cast(Table, Customer.__table__)

CONTACT: Final = ("email", "phone", "consents", "field_times")
TAGS: Final = ("tags", "tags_at")
SEGMENT: Final = ("segment", "segment_at", "playbook_entries")
SILENCE: Final = ("silenced_until", "silence_reason", "silence_ticket_id")
ERASURE: Final = (*CONTACT, "tags", "segment", "erased_at")
"""The columns each handler writes."""

_NEW_ROW: Final[Mapping[str, Any]] = {
    "consents": {},
    "field_times": {},
    "tags": [],
    "playbook_entries": {},
}
"""What a row inserted for a customer never heard of holds besides the columns written."""

# PostgreSQL takes at most 32767 bound parameters in one statement.
CHUNK: Final = 5_000

_NAMES = tuple(customers.c.keys())
_BY_IDS = select(customers).where(customers.c.customer_id.in_(bindparam("ids", expanding=True)))


@dataclass
class CustomerRecord:
    """One row of `customers` in hand (see `models.Customer` for what each field holds)."""

    customer_id: str
    email: str | None = None
    phone: str | None = None
    consents: dict[str, bool] = field(default_factory=dict)
    field_times: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    tags_at: datetime | None = None
    segment: str | None = None
    segment_at: datetime | None = None
    playbook_entries: dict[str, str] = field(default_factory=dict)
    silenced_until: datetime | None = None
    silence_reason: str | None = None
    silence_ticket_id: str | None = None
    erased_at: datetime | None = None

    @property
    def erased(self) -> bool:
        return self.erased_at is not None


def chunks(values: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def load_customers(
    session: AsyncSession, customer_ids: Collection[str], *, lock: bool = False
) -> dict[str, CustomerRecord]:
    """The known customers among `customer_ids`, one query (per 5 000). `lock` takes their
    rows for the rest of the transaction (PostgreSQL; in key order, so two runs never
    deadlock), so two concurrent marketing decisions never both take the last place under
    the cap and an erasure never crosses a contact update."""
    ids = sorted(set(customer_ids))
    found: dict[str, CustomerRecord] = {}
    query = _BY_IDS.order_by(customers.c.customer_id).with_for_update() if lock else _BY_IDS
    for part in chunks(ids):
        for row in await session.execute(query, {"ids": list(part)}):
            record = CustomerRecord(**dict(zip(_NAMES, row, strict=True)))
            found[record.customer_id] = record
    return found


async def customers_or_new(
    session: AsyncSession, customer_ids: Collection[str], *, lock: bool = False
) -> dict[str, CustomerRecord]:
    """`load_customers`, with a new record for each customer never heard of (written by
    `save_customers`)."""
    found = await load_customers(session, customer_ids, lock=lock)
    for customer_id in customer_ids:
        if customer_id not in found:
            found[customer_id] = CustomerRecord(customer_id)
    return found


async def save_customers(
    session: AsyncSession, records: Iterable[CustomerRecord], columns: tuple[str, ...]
) -> None:
    """Write `columns` of each record in one upsert: a customer never heard of gets a row,
    a known one only has those columns set."""
    rows = [
        {"customer_id": r.customer_id, **_NEW_ROW, **{c: getattr(r, c) for c in columns}}
        for r in records
    ]
    await upsert(session, customers, rows, key=["customer_id"], update_columns=columns)


async def find_customer(session: AsyncSession, customer_id: str) -> CustomerRecord | None:
    """One primary-key read."""
    return (await load_customers(session, [customer_id])).get(customer_id)


def consents_of(customer: CustomerRecord | None) -> frozenset[Channel]:
    return frozenset() if customer is None else consented_channels(customer.consents)


def contact_of(customer: CustomerRecord | None) -> Contact:
    if customer is None:
        return Contact()
    return Contact(email=customer.email, phone=customer.phone)


def state_of(customer: CustomerRecord, marketing_in_window: int) -> CustomerState:
    """What the decision reads of a known customer, with the marketing counted in the cap
    window."""
    return CustomerState(
        consented_channels=consents_of(customer),
        tags=frozenset(customer.tags),
        silenced_until=customer.silenced_until,
        marketing_in_window=marketing_in_window,
    )


def set_facts(customer: CustomerRecord, facts: Mapping[str, Any], at: datetime) -> None:
    """Store facts ("email", "phone", "consent.<channel>") with the business time that set
    them (see `rules.facts.newer_facts` for which ones a late event still may set)."""
    times = dict(customer.field_times)
    consents = dict(customer.consents)
    for name, value in facts.items():
        times[name] = at.isoformat()
        if name.startswith("consent."):
            consents[name.removeprefix("consent.")] = bool(value)
        else:
            setattr(customer, name, value)
    customer.field_times = times
    customer.consents = consents


def forget_personal_data(customer: CustomerRecord, erased_at: datetime) -> None:
    """Contact data, consents, tags and segment go; the silence and the decisions stay."""
    customer.email = customer.phone = None
    customer.consents, customer.field_times, customer.tags = {}, {}, []
    customer.segment = None
    customer.erased_at = customer.erased_at or erased_at
