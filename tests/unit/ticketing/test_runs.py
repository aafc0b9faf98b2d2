"""A run of events in one transaction does what the same events one per transaction do: the
same tickets, histories, tiers, refunds and published events. Through the harness, on two
throwaway SQLite databases seeded alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from services.ticketing.models import CustomerTier, PriorityChange, Refund, Ticket
from services.ticketing.repository.staff import move_loads
from services.ticketing.repository.tickets import new_ticket_row
from services.ticketing.rules.sla import SlaPolicy
from services.ticketing.rules.ticket import open_ticket
from services.ticketing.rules.values import TicketCategory, TicketKind, Tier
from services.ticketing.tasks import BREACH_SCAN
from shared.clock import FixedClock
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)

Event = dict[str, Any]


@asynccontextmanager
async def two_harnesses(tmp_path: Path, **settings: Any) -> AsyncIterator[tuple[Any, Any]]:
    """One harness to deliver runs to, one to deliver the same events one at a time."""
    (tmp_path / "runs").mkdir()
    (tmp_path / "each").mkdir()
    async with (
        service_harness("ticketing", tmp_path / "runs", clock=FixedClock(T0), **settings) as runs,
        service_harness("ticketing", tmp_path / "each", clock=FixedClock(T0), **settings) as each,
    ):
        yield runs, each


AGENTS = [
    {"agent_id": "a-1-junior", "name": "Junior", "skills": ["logistics", "quality"]},
    {"agent_id": "a-2-senior", "name": "Senior", "skills": ["logistics"], "senior": True},
    {"agent_id": "a-3-senior", "name": "Senior 2", "skills": ["logistics"], "senior": True},
]


async def seed(svc: ServiceHarness, tickets: list[tuple[str, str, str, str, str | None]]) -> None:
    """Agents, then tickets (id, customer, kind, category, assignee) opened at T0 - 1 h."""
    for agent in AGENTS:
        assert (await svc.client.post("/v1/agents", json=agent)).status_code == 201
    async with svc.transaction() as tx:
        for ticket_id, customer_id, kind, category, assignee in tickets:
            state = open_ticket(
                ticket_id,
                TicketKind(kind),
                TicketCategory(category),
                Tier.BRONZE,
                T0 - HOUR,
                SlaPolicy(),
            )
            tx.session.add(
                new_ticket_row(
                    state,
                    customer_id=customer_id,
                    subject="Help",
                    description=None,
                    assignee_id=assignee,
                    created_at=T0,
                )
            )
            if assignee is not None:
                await move_loads(tx.session, {assignee: 1})


def _ticket_key(ticket: Ticket) -> str:
    # Callbacks get fresh ids; the complaint they follow names them alike in both databases.
    return f"callback of {ticket.follow_up_of}" if ticket.follow_up_of else ticket.id


def _entry(h: PriorityChange) -> tuple[Any, ...]:
    return (h.reason, h.tier, h.old_priority, h.new_priority, h.new_response_due_at, h.changed_at)


async def state(svc: ServiceHarness) -> dict[str, Any]:
    async with svc.transaction() as tx:
        tickets = (await tx.session.scalars(select(Ticket))).all()
        tiers = (await tx.session.scalars(select(CustomerTier))).all()
        refunds = (await tx.session.scalars(select(Refund).order_by(Refund.seq))).all()
        return {
            "tickets": {
                _ticket_key(t): {
                    "customer": t.customer_id,
                    "kind": t.kind,
                    "status": t.status,
                    "tier": t.tier,
                    "priority": t.priority,
                    "due": t.response_due_at,
                    "assignee": t.assignee_id,
                    "breached": t.sla_breached_at,
                    "history": [_entry(h) for h in t.history],
                }
                for t in tickets
            },
            "tiers": {t.customer_id: (t.tier, t.changed_at) for t in tiers},
            "refunds": [(r.order_id, r.reason, r.amount_fen, r.refunded_at) for r in refunds],
        }


async def published(svc: ServiceHarness) -> list[tuple[str, str | None, dict[str, Any]]]:
    async with svc.transaction() as tx:
        callbacks = {
            t.id: _ticket_key(t)
            for t in (await tx.session.scalars(select(Ticket).where(Ticket.kind == "callback")))
        }
    return [
        (
            e.type,
            e.subject,
            {**e.data, "ticket_id": callbacks.get(e.data["ticket_id"], e.data["ticket_id"])},
        )
        for e in await svc.published()
    ]


async def assert_runs_match_one_at_a_time(
    runs: ServiceHarness, each: ServiceHarness, *batches: list[Event]
) -> None:
    for batch in batches:
        assert await runs.deliver(*batch) == await each.deliver_each(*batch)
    assert await state(runs) == await state(each)
    assert await published(runs) == await published(each)


def tier_changed(customer_id: str, new_tier: str, at: datetime) -> Event:
    return builders.tier_changed(customer_id, new_tier=new_tier, at=at)


def complaint(customer_id: str, ticket_id: str, at: datetime, category: str = "logistics") -> Event:
    return builders.complaint_opened(
        customer_id, ticket_id=ticket_id, category=category, at=at, source="helpdesk"
    )


async def test_a_run_of_tier_changes_gives_what_one_per_transaction_gives(tmp_path):
    c1, c2, c3, c4 = (new_id("c") for _ in range(4))
    tickets = [
        ("t-1", c1, "inquiry", "logistics", "a-1-junior"),
        ("t-2", c1, "complaint", "quality", None),
        ("t-3", c2, "return", "logistics", "a-1-junior"),
        ("t-4", c2, "repair", "quality", None),
        ("t-5", c3, "complaint", "logistics", "a-2-senior"),
    ]
    async with two_harnesses(tmp_path) as (runs, each):
        for svc in (runs, each):
            await seed(svc, tickets)
        upgrade_c1 = tier_changed(c1, "gold", T0 + HOUR)
        first = [
            upgrade_c1,
            tier_changed(c2, "silver", T0 + HOUR),
            upgrade_c1,  # the same event again in the run
            tier_changed(c1, "silver", T0),  # older than the kept gold: stale
            tier_changed(c2, "platinum", T0 + 2 * HOUR),  # supersedes silver
            tier_changed(c3, "platinum", T0 + 3 * HOUR),
            tier_changed(c4, "gold", T0),  # no tickets: the tier is still learned
        ]
        later = [
            tier_changed(c2, "bronze", T0 + 5 * HOUR),  # a downgrade relaxes nothing
            tier_changed(c1, "platinum", T0 + 2 * HOUR),
            upgrade_c1,  # seen in an earlier run
        ]
        await assert_runs_match_one_at_a_time(runs, each, first, later)

        after = await state(runs)
    assert after["tiers"] == {
        c1: ("platinum", T0 + 2 * HOUR),
        c2: ("bronze", T0 + 5 * HOUR),
        c3: ("platinum", T0 + 3 * HOUR),
        c4: ("gold", T0),
    }
    inquiry = after["tickets"]["t-1"]
    # Gold at T0 + 1 h: due 4 hours later; the least-loaded senior takes the now VIP ticket
    # from the junior; platinum, later, has the same SLA from later on: nothing to record.
    assert (inquiry["tier"], inquiry["priority"], inquiry["due"], inquiry["assignee"]) == (
        "gold",
        "P3",
        T0 + 5 * HOUR,
        "a-3-senior",
    )
    assert [h[0] for h in inquiry["history"]] == ["tier.changed"]
    assert after["tickets"]["t-2"]["priority"] == "P1"


async def test_the_outcomes_of_a_run_name_its_duplicates(tmp_path):
    customer_id = new_id("c")
    async with two_harnesses(tmp_path) as (runs, _each):
        await seed(runs, [("t-1", customer_id, "inquiry", "logistics", None)])
        upgrade = tier_changed(customer_id, "gold", T0)

        outcomes = await runs.deliver(upgrade, upgrade, upgrade)

        assert outcomes == ["handled", "duplicate", "duplicate"]
        prioritized = await runs.published("ticket.prioritized")
        assert [(e.data["ticket_id"], e.data["reason"]) for e in prioritized] == [
            ("t-1", "tier.changed")
        ]


async def test_a_run_of_complaints_gives_what_one_per_transaction_gives(tmp_path):
    c1, c2, c3 = (new_id("c") for _ in range(3))
    tickets = [
        ("t-1", c1, "inquiry", "logistics", None),
        ("t-2", c1, "repair", "quality", "a-1-junior"),
        ("t-3", c2, "inquiry", "quality", None),
    ]
    async with two_harnesses(tmp_path) as (runs, each):
        for svc in (runs, each):
            await seed(svc, tickets)
            await svc.deliver(tier_changed(c2, "gold", T0 - 2 * HOUR))
        reported = complaint(c1, "k-1", T0 + HOUR)
        first = [
            reported,
            complaint(c1, "k-1", T0 + HOUR),  # the same complaint reported again: no 2nd callback
            complaint(c2, "k-2", T0 + 2 * HOUR, "quality"),
            reported,  # a duplicate delivery
            complaint(c1, "k-3", T0 + 3 * HOUR),
            complaint(c3, "k-4", T0 + 4 * HOUR),  # no open tickets: only the callback
        ]
        later = [complaint(c2, "k-2", T0 + 5 * HOUR), complaint(c2, "k-5", T0 + 5 * HOUR)]
        await assert_runs_match_one_at_a_time(runs, each, first, later)

        after = await state(runs)
    callbacks = {key: t for key, t in after["tickets"].items() if t["kind"] == "callback"}
    assert sorted(callbacks) == [f"callback of k-{n}" for n in range(1, 6)]
    # Callbacks go to the least-loaded senior, counting those assigned earlier in the run.
    assert {t["assignee"] for t in callbacks.values()} == {"a-2-senior", "a-3-senior"}
    assert after["tickets"]["t-3"]["priority"] == "P1"  # gold: a complaint raises to P1


async def test_a_run_mixing_event_types_and_customers(tmp_path):
    c1, c2 = new_id("c"), new_id("c")
    tickets = [
        ("t-1", c1, "inquiry", "logistics", None),
        ("t-2", c2, "complaint", "logistics", "a-1-junior"),
    ]
    async with two_harnesses(tmp_path) as (runs, each):
        for svc in (runs, each):
            await seed(svc, tickets)
        mixed = [
            tier_changed(c1, "gold", T0),
            complaint(c1, "k-1", T0 + HOUR),
            tier_changed(c2, "platinum", T0 + HOUR),
            builders.order_refunded(c1, "o-1", amount="12.50", reason="quality_defect", at=T0),
            builders.order_refunded(c2, "o-2", amount="99.99", reason="size_mismatch", at=T0),
            complaint(c2, "k-2", T0 + 2 * HOUR),
            builders.customer_erased(c1, at=T0 + 3 * HOUR),
            tier_changed(c1, "platinum", T0 + 3 * HOUR),
        ]
        await assert_runs_match_one_at_a_time(runs, each, mixed)

        after = await state(runs)
    assert [r[:3] for r in after["refunds"]] == [
        ("o-1", "quality_defect", 1250),
        ("o-2", "size_mismatch", 9999),
    ]


async def test_the_statements_of_a_run_do_not_grow_with_its_size(tmp_path):
    """One query per table to read, one statement per table to write, whatever the run."""
    customers = [new_id("c") for _ in range(61)]
    tickets = [(f"t-{n}", c, "inquiry", "logistics", None) for n, c in enumerate(customers)]
    async with service_harness("ticketing", tmp_path, clock=FixedClock(T0)) as svc:
        await seed(svc, tickets)
        seen = []
        for group in (customers[:1], customers[1:]):
            with counting_statements(svc) as upgrades:
                await svc.deliver(*(tier_changed(c, "gold", T0) for c in group))
            with counting_statements(svc) as complaints:
                await svc.deliver(*(complaint(c, new_id("k"), T0 + HOUR) for c in group))
            seen.append((upgrades, complaints))

    assert seen[0] == seen[1]
    upgrades, complaints = seen[0]
    assert upgrades == [
        "INSERT INTO inbox",
        "SELECT customer_tiers.customer_id, customer_tiers.tier,",
        "SELECT tickets.id, tickets.customer_id,",
        "SELECT sla_policies.policy FROM",
        "SELECT agents.agent_id, agents.skills,",
        "INSERT INTO customer_tiers",
        "UPDATE tickets SET",
        "INSERT INTO priority_changes",
        "UPDATE agents SET",
        "INSERT INTO outbox",
    ]
    assert complaints == [
        "INSERT INTO inbox",
        "SELECT customer_tiers.customer_id, customer_tiers.tier,",
        "SELECT tickets.id, tickets.customer_id,",
        "SELECT tickets.follow_up_of FROM",
        "SELECT sla_policies.policy FROM",
        "SELECT agents.agent_id, agents.skills,",
        "INSERT INTO tickets",
        "UPDATE tickets SET",
        "INSERT INTO priority_changes",
        "UPDATE agents SET",
        "INSERT INTO outbox",
    ]


class counting_statements:
    """The SQL statements the service's engine runs inside the block (BEGIN/COMMIT aside)."""

    def __init__(self, svc: ServiceHarness) -> None:
        self._engine = svc.runtime.engine.sync_engine
        self.statements: list[str] = []

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            self.statements.append(" ".join(statement.split()[:3]))

    def __enter__(self) -> list[str]:
        event.listen(self._engine, "before_cursor_execute", self._seen)
        return self.statements

    def __exit__(self, *_exc: object) -> None:
        event.remove(self._engine, "before_cursor_execute", self._seen)


async def test_the_breach_scan_works_in_sets_until_nothing_is_due(tmp_path):
    customers = [new_id("c") for _ in range(5)]
    tickets = [(f"t-{n}", c, "inquiry", "logistics", None) for n, c in enumerate(customers)]
    clock = FixedClock(T0)
    async with service_harness("ticketing", tmp_path, clock=clock, breach_scan_batch_size=2) as svc:
        await seed(svc, tickets)
        clock.advance(30 * HOUR)
        with counting_statements(svc) as statements:
            await svc.run_task(BREACH_SCAN)

        after = await state(svc)
        registry = svc.runtime.metrics.registry
        assert registry.get_sample_value("loopcrm_sla_breaches_total", {"tier": "bronze"}) == 5
        assert len(await svc.published("sla.breached")) == 5
    assert {t["breached"] for t in after["tickets"].values()} == {T0 + 30 * HOUR}
    # Each goes to the least-loaded senior, counting those escalated before it.
    assert sorted(t["assignee"] for t in after["tickets"].values()) == [
        "a-2-senior",
        "a-2-senior",
        "a-2-senior",
        "a-3-senior",
        "a-3-senior",
    ]
    # Sets of at most two, back to back: the third, short, ends the scan.
    assert statements.count("SELECT tickets.id, tickets.customer_id,") == 3
