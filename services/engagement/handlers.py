"""Engagement's event handlers: keep the customer read model, silence on complaints, run the
triggers (complaint follow-up, segment playbooks, CSAT coupons), forget on erasure.

Each takes a run of its events (in partition order, duplicates already removed) inside the
consumer's transaction, after the inbox claim: the run's customers are read in one query,
the events applied in order in memory, and the changes written in one statement per table
(`repository/`). Messages it decides to send are recorded as pending and delivered by the
delivery task after the commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from services.engagement.commands.decisions import MessageRequest, record_all, settle
from services.engagement.context import EngagementContext
from services.engagement.repository import customers as rows
from services.engagement.repository.messages import (
    SETTLEMENT,
    forget_params,
    pending_of,
    update_messages,
)
from services.engagement.rules.channels import Channel, Purpose, first_reachable
from services.engagement.rules.decision import DeliveryReason, Outcome
from services.engagement.rules.facts import newer_facts, supersedes
from services.engagement.rules.silence import COMPLAINT, silence_after_complaint
from services.engagement.rules.triggers import (
    earns_csat_coupon,
    enters_segment,
    is_fresh,
    runs_playbook,
)
from shared.events.catalogue import (
    ComplaintOpened,
    CustomerErased,
    CustomerRegistered,
    CustomerUpdated,
    MessageSent,
    MessageSuppressed,
    ProfileTagged,
    SegmentChanged,
    SilenceStarted,
    TicketResolved,
)
from shared.events.envelope import TypedEvent
from shared.subscriptions import Subscriptions
from shared.transaction import Transaction

subscriptions = Subscriptions[EngagementContext](
    "engagement", publishes=(SilenceStarted, MessageSent, MessageSuppressed)
)

_CONTACT_FIELDS = ("email", "phone")

CustomerChanged = TypedEvent[CustomerRegistered] | TypedEvent[CustomerUpdated]


def _customer_ids(events: Sequence[TypedEvent[Any]]) -> list[str]:
    return list(dict.fromkeys(event.data.customer_id for event in events))


@subscriptions.on_batch(CustomerRegistered, CustomerUpdated)
async def on_customers_changed(
    events: Sequence[CustomerChanged], tx: Transaction, ctx: EngagementContext
) -> None:
    """Contact data and consents, each field newest wins. The rows are locked (PostgreSQL),
    so an erasure handled elsewhere meanwhile is seen, never overwritten."""
    known = await rows.customers_or_new(tx.session, _customer_ids(events), lock=True)
    changed: dict[str, rows.CustomerRecord] = {}
    for event in events:
        customer = known[event.data.customer_id]
        if customer.erased:
            continue  # contact data and consents of an erased customer are never kept again
        data = event.data
        given: dict[str, Any] = {
            f: getattr(data, f) for f in _CONTACT_FIELDS if f in data.model_fields_set
        }
        if data.consents is not None:
            for channel, granted in data.consents.model_dump(exclude_unset=True).items():
                given[f"consent.{channel}"] = granted
        rows.set_facts(customer, newer_facts(given, customer.field_times, event.time), event.time)
        changed[customer.customer_id] = customer
    await rows.save_customers(tx.session, changed.values(), rows.CONTACT)


@subscriptions.on_batch(ProfileTagged)
async def on_profiles_tagged(
    events: Sequence[TypedEvent[ProfileTagged]], tx: Transaction, ctx: EngagementContext
) -> None:
    """The full tag set, newest wins: one write per customer."""
    known = await rows.customers_or_new(tx.session, _customer_ids(events))
    changed: dict[str, rows.CustomerRecord] = {}
    for event in events:
        customer = known[event.data.customer_id]
        if supersedes(event.time, customer.tags_at):
            customer.tags = sorted(set(event.data.tags))
            customer.tags_at = event.time
        changed[customer.customer_id] = customer
    await rows.save_customers(tx.session, changed.values(), rows.TAGS)


@subscriptions.on_batch(ComplaintOpened, urgent=True)
async def on_complaints_opened(
    events: Sequence[TypedEvent[ComplaintOpened]], tx: Transaction, ctx: EngagementContext
) -> None:
    """Silence from the complaint's own business time (`opened_at`, which an imported,
    backdated complaint carries), then the one follow-up notice of each complaint. The
    latency-critical path: one read, one upsert, the follow-ups in one insert."""
    known = await rows.customers_or_new(tx.session, _customer_ids(events))
    follow_ups: list[MessageRequest] = []
    for event in events:
        complaint = event.data
        customer = known[complaint.customer_id]
        extended = silence_after_complaint(
            customer.silenced_until, complaint.opened_at, tx.now, ctx.policy.silence_days
        )
        if extended is not None:  # an older or repeated complaint never shortens the silence
            customer.silenced_until = extended.until
            customer.silence_reason = COMPLAINT
            customer.silence_ticket_id = complaint.ticket_id
            if extended.in_force:
                started = SilenceStarted(
                    customer_id=customer.customer_id,
                    until=extended.until,
                    reason=COMPLAINT,
                    ticket_id=complaint.ticket_id,
                )
                await tx.outbox.publish(started, time=complaint.opened_at)
        if customer.erased:
            continue
        follow_ups.append(
            MessageRequest(
                customer_id=customer.customer_id,
                channel=_first_reachable(customer, ctx.settings.follow_up_channels),
                purpose=Purpose.SERVICE,
                template=ctx.settings.follow_up_template,
                trigger="complaint_follow_up",
                params={"ticket_id": complaint.ticket_id, "category": complaint.category},
                dedupe_key=f"complaint_follow_up:{complaint.ticket_id}",
            )
        )
    await rows.save_customers(tx.session, known.values(), rows.SILENCE)
    await record_all(tx, ctx, follow_ups, known)


@subscriptions.on_batch(SegmentChanged)
async def on_segments_changed(
    events: Sequence[TypedEvent[SegmentChanged]], tx: Transaction, ctx: EngagementContext
) -> None:
    """The membership, newest wins (one write per customer); entering a segment runs its
    playbook while fresh and once per repeat window, each decision seeing the run's earlier
    ones against the cap."""
    playbooks = ctx.settings.playbooks
    may_market = any(
        playbooks.get(e.data.new_segment)
        and enters_segment(e.data.old_segment, e.data.new_segment)
        and is_fresh(e.time, tx.now, ctx.policy)
        for e in events
    )
    known = await rows.customers_or_new(tx.session, _customer_ids(events), lock=may_market)
    changed: dict[str, rows.CustomerRecord] = {}
    requests: list[MessageRequest] = []
    for event in events:
        data = event.data
        customer = known[data.customer_id]
        if not supersedes(event.time, customer.segment_at):
            continue  # an older change arriving late: the membership we hold is newer
        customer.segment = data.new_segment
        customer.segment_at = event.time
        changed[customer.customer_id] = customer
        steps = playbooks.get(data.new_segment, [])
        if (
            not steps
            or not enters_segment(data.old_segment, data.new_segment)
            or customer.erased
            or not is_fresh(event.time, tx.now, ctx.policy)
            or not runs_playbook(_last_run(customer, data.new_segment), event.time, ctx.policy)
        ):
            continue
        customer.playbook_entries = {
            **customer.playbook_entries,
            data.new_segment: event.time.isoformat(),
        }
        for index, step in enumerate(steps):
            requests.append(
                MessageRequest(
                    customer_id=data.customer_id,
                    channel=step.channel,
                    purpose=Purpose.MARKETING,
                    template=step.template,
                    trigger="playbook",
                    params={"segment": data.new_segment},
                    dedupe_key=_event_key("playbook", event, index),
                )
            )
    await rows.save_customers(tx.session, changed.values(), rows.SEGMENT)
    await record_all(tx, ctx, requests, known)


@subscriptions.on_batch(TicketResolved)
async def on_tickets_resolved(
    events: Sequence[TypedEvent[TicketResolved]], tx: Transaction, ctx: EngagementContext
) -> None:
    """A coupon for a satisfied customer, within 72 hours of the resolution."""
    earned = [
        e
        for e in events
        if earns_csat_coupon(e.data.csat, ctx.policy)
        and is_fresh(e.data.resolved_at, tx.now, ctx.policy)
    ]
    if not earned:
        return
    known = await rows.load_customers(tx.session, _customer_ids(earned), lock=True)
    requests: list[MessageRequest] = []
    for event in earned:
        data = event.data
        customer = known.get(data.customer_id)
        if customer is not None and customer.erased:
            continue
        requests.append(
            MessageRequest(
                customer_id=data.customer_id,
                channel=_first_reachable(customer, ctx.settings.coupon_channels),
                purpose=Purpose.MARKETING,
                template=ctx.settings.coupon_template,
                trigger="csat_coupon",
                params={"ticket_id": data.ticket_id, "category": data.category},
                dedupe_key=f"csat_coupon:{data.ticket_id}",
            )
        )
    await record_all(tx, ctx, requests, known)


@subscriptions.on_batch(CustomerErased)
async def on_customers_erased(
    events: Sequence[TypedEvent[CustomerErased]], tx: Transaction, ctx: EngagementContext
) -> None:
    """Contact data, consents, tags and message params go; decisions stay, without them.
    The pending messages are taken before the customer rows (the order the delivery task
    takes them in), so the two never wait on each other."""
    tx.erase()
    ids = _customer_ids(events)
    known = await rows.customers_or_new(tx.session, ids)
    pending = await pending_of(tx.session, ids)
    for event in events:
        rows.forget_personal_data(known[event.data.customer_id], event.data.erased_at)
    await forget_params(tx.session, ids)
    for customer_id in ids:
        for message in (m for m in pending if m.customer_id == customer_id):
            await settle(tx, message, Outcome.SUPPRESSED, DeliveryReason.CUSTOMER_ERASED.value)
        ctx.adapters.forget(customer_id)
    await update_messages(tx.session, pending, SETTLEMENT)
    await rows.save_customers(tx.session, known.values(), rows.ERASURE)


def _last_run(customer: rows.CustomerRecord, segment: str) -> datetime | None:
    at = customer.playbook_entries.get(segment)
    return None if at is None else datetime.fromisoformat(at)


def _first_reachable(customer: rows.CustomerRecord | None, channels: Iterable[Channel]) -> Channel:
    return first_reachable(rows.consents_of(customer), rows.contact_of(customer), channels)


def _event_key(kind: str, event: TypedEvent[Any], index: int) -> str:
    identity = f"{event.envelope.source}\x1f{event.envelope.id}\x1f{index}"
    return f"{kind}:{hashlib.sha256(identity.encode()).hexdigest()[:40]}"
