from services.loyalty.rules.ledger import (
    EntryKind,
    EntryReason,
    LedgerEntry,
    balance_from_entries,
    held_from_entries,
)
from services.loyalty.rules.rulebook import DEFAULT_RULEBOOK
from tests.unit.loyalty.factories import utc


def entry(kind: EntryKind, points: int) -> LedgerEntry:
    return LedgerEntry(
        customer_id="c-1",
        kind=kind,
        reason=EntryReason.ADMIN,
        points=points,
        source_id="s-1",
        rule_version=DEFAULT_RULEBOOK.version,
        business_time=utc(2024, 5, 1),
    )


def test_balance_is_every_entry_but_holds():
    entries = [
        entry(EntryKind.EARN, 500),
        entry(EntryKind.HOLD, 300),
        entry(EntryKind.RELEASE, 200),
        entry(EntryKind.REDEEM, -100),
        entry(EntryKind.EXPIRE, -50),
        entry(EntryKind.CLAWBACK, -20),
        entry(EntryKind.ADJUST, 5),
    ]

    assert balance_from_entries(entries) == 500 + 200 - 100 - 50 - 20 + 5


def test_held_is_holds_less_releases():
    entries = [
        entry(EntryKind.HOLD, 300),
        entry(EntryKind.HOLD, 40),
        entry(EntryKind.RELEASE, 200),
        entry(EntryKind.HOLD, -40),
        entry(EntryKind.EARN, 999),
    ]

    assert held_from_entries(entries) == 100
