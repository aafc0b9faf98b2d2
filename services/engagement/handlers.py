"""Engagement's event handlers: keep the customer read model, silence on complaints, run the
triggers (complaint follow-up, segment playbooks, CSAT coupons), forget on erasure.

Each runs inside the consumer's transaction, after the inbox claim; messages it decides to
send are recorded as pending and delivered by the delivery task after the commit.
"""

from __future__ import annotations

import hashlib
from typing import Any

from services.engagement import repository
from services.engagement.commands.decisions import MessageRequest, record_once, settle
from services.engagement.context import EngagementContext
from services.engagement.rules.channels import Purpose, first_reachable
from services.engagement.rules.decision import PENDING, DeliveryReason, Outcome
from services.engagement.rules.facts import newer_facts, supersedes
from services.engagement.rules.silence import COMPLAINT, silence_after_complaint
from services.engagement.rules.triggers import earns_csat_coupon, enters_segment, is_fresh
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


@subscriptions.on(CustomerRegistered, CustomerUpdated)
async def on_customer_changed(
    event: TypedEvent[CustomerRegistered] | TypedEvent[CustomerUpdated],
    tx: Transaction,
    ctx: EngagementContext,
) -> None:
    """Contact data and consents, each field newest wins."""
    customer = await repository.customer_or_new(tx.session, event.data.customer_id)
    if customer.erased_at is not None:
        return  # contact data and consents of an erased customer are never kept again
    data = event.data
    given: dict[str, Any] = {
        f: getattr(data, f) for f in _CONTACT_FIELDS if f in data.model_fields_set
    }
    if data.consents is not None:
        for channel, granted in data.consents.model_dump(exclude_unset=True).items():
            given[f"consent.{channel}"] = granted
    facts = newer_facts(given, customer.field_times, event.time)
    repository.set_facts(customer, facts, event.time)


@subscriptions.on(ProfileTagged)
async def on_profile_tagged(
    event: TypedEvent[ProfileTagged], tx: Transaction, ctx: EngagementContext
) -> None:
    """The full tag set, newest wins."""
    customer = await repository.customer_or_new(tx.session, event.data.customer_id)
    if supersedes(event.time, customer.tags_at):
        customer.tags = sorted(set(event.data.tags))
        customer.tags_at = event.time


@subscriptions.on(ComplaintOpened)
async def on_complaint_opened(
    event: TypedEvent[ComplaintOpened], tx: Transaction, ctx: EngagementContext
) -> None:
    """Silence from the complaint's own business time (`opened_at`, which an imported,
    backdated complaint carries), then the one follow-up notice of this complaint."""
    complaint = event.data
    customer = await repository.customer_or_new(tx.session, complaint.customer_id)
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
    if customer.erased_at is not None:
        return
    follow_up = MessageRequest(
        customer_id=customer.customer_id,
        channel=first_reachable(
            repository.consents_of(customer),
            repository.contact_of(customer),
            ctx.settings.follow_up_channels,
        ),
        purpose=Purpose.SERVICE,
        template=ctx.settings.follow_up_template,
        trigger="complaint_follow_up",
        params={"ticket_id": complaint.ticket_id, "category": complaint.category},
        dedupe_key=f"complaint_follow_up:{complaint.ticket_id}",
    )
    await record_once(tx, ctx, follow_up)


@subscriptions.on(SegmentChanged)
async def on_segment_changed(
    event: TypedEvent[SegmentChanged], tx: Transaction, ctx: EngagementContext
) -> None:
    """The membership, newest wins; entering a segment runs its playbook while fresh."""
    data = event.data
    customer = await repository.customer_or_new(tx.session, data.customer_id)
    if not supersedes(event.time, customer.segment_at):
        return  # an older change arriving late: the membership we hold is newer
    customer.segment = data.new_segment
    customer.segment_at = event.time
    if (
        not enters_segment(data.old_segment, data.new_segment)
        or customer.erased_at is not None
        or not is_fresh(event.time, tx.now, ctx.policy)
    ):
        return
    for index, step in enumerate(ctx.settings.playbooks.get(data.new_segment, [])):
        request = MessageRequest(
            customer_id=data.customer_id,
            channel=step.channel,
            purpose=Purpose.MARKETING,
            template=step.template,
            trigger="playbook",
            params={"segment": data.new_segment},
            dedupe_key=_event_key("playbook", event, index),
        )
        await record_once(tx, ctx, request)


@subscriptions.on(TicketResolved)
async def on_ticket_resolved(
    event: TypedEvent[TicketResolved], tx: Transaction, ctx: EngagementContext
) -> None:
    """A coupon for a satisfied customer, within 72 hours of the resolution."""
    data = event.data
    if not earns_csat_coupon(data.csat, ctx.policy) or not is_fresh(
        data.resolved_at, tx.now, ctx.policy
    ):
        return
    customer = await repository.find_customer(tx.session, data.customer_id)
    if customer is not None and customer.erased_at is not None:
        return
    request = MessageRequest(
        customer_id=data.customer_id,
        channel=first_reachable(
            repository.consents_of(customer),
            repository.contact_of(customer),
            ctx.settings.coupon_channels,
        ),
        purpose=Purpose.MARKETING,
        template=ctx.settings.coupon_template,
        trigger="csat_coupon",
        params={"ticket_id": data.ticket_id, "category": data.category},
        dedupe_key=f"csat_coupon:{data.ticket_id}",
    )
    await record_once(tx, ctx, request)


@subscriptions.on(CustomerErased)
async def on_customer_erased(
    event: TypedEvent[CustomerErased], tx: Transaction, ctx: EngagementContext
) -> None:
    """Contact data, consents, tags and message params go; decisions stay, without them."""
    customer = await repository.customer_or_new(tx.session, event.data.customer_id)
    repository.forget_personal_data(customer, event.data.erased_at)
    for message in await repository.messages_of(tx.session, customer.customer_id):
        message.params = None
        if message.outcome == PENDING:
            await settle(tx, message, Outcome.SUPPRESSED, DeliveryReason.CUSTOMER_ERASED.value)
    ctx.adapters.forget(customer.customer_id)


def _event_key(kind: str, event: TypedEvent[Any], index: int) -> str:
    identity = f"{event.envelope.source}\x1f{event.envelope.id}\x1f{index}"
    return f"{kind}:{hashlib.sha256(identity.encode()).hexdigest()[:40]}"
