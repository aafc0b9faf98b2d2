"""Campaigns: create one, and dispatch it to the current members of its segment."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field

from services.engagement.commands.decisions import MessageRequest
from services.engagement.commands.delivery import Claimed, deliver_claimed, record_and_claim
from services.engagement.context import EngagementContext
from services.engagement.models import Campaign
from services.engagement.repository.campaigns import (
    campaign_dedupe_keys,
    find_campaign,
    segment_members,
)
from services.engagement.repository.messages import MessageRecord
from services.engagement.rules.channels import Channel, Purpose
from services.engagement.rules.decision import PENDING, Outcome
from services.engagement.schemas import CampaignCreate, CampaignPublic, DispatchResult
from shared.app import TransactionOpener
from shared.errors import NotFound


async def create_campaign(begin: TransactionOpener, body: CampaignCreate) -> CampaignPublic:
    async with begin() as tx:
        campaign = Campaign(
            campaign_id=str(uuid.uuid4()),
            name=body.name,
            segment=body.segment,
            channel=body.channel.value,
            purpose=body.purpose.value,
            template=body.template,
            params=body.params,
            created_at=tx.now,
            dispatches=0,
        )
        tx.session.add(campaign)
    return CampaignPublic.model_validate(campaign, from_attributes=True)


@dataclass
class DispatchCounts:
    campaign_id: str
    members: int = 0
    already_dispatched: int = 0
    sent: int = 0
    pending: int = 0
    suppressed: Counter[str] = field(default_factory=Counter)

    def count(self, message: MessageRecord) -> None:
        if message.outcome == Outcome.SENT.value:
            self.sent += 1
        elif message.outcome == PENDING:
            self.pending += 1
        else:
            self.suppressed[message.reason or "unknown"] += 1

    def result(self) -> DispatchResult:
        return DispatchResult(
            campaign_id=self.campaign_id,
            members=self.members,
            already_dispatched=self.already_dispatched,
            sent=self.sent,
            pending=self.pending,
            suppressed=dict(self.suppressed),
        )


async def dispatch_campaign(
    begin: TransactionOpener, ctx: EngagementContext, campaign_id: str
) -> DispatchResult:
    """Every current member of the segment gets one decision per campaign; a second dispatch
    reaches only members who joined since. The members are decided as one set."""
    counts = DispatchCounts(campaign_id)
    async with begin() as tx:
        campaign = await find_campaign(tx.session, campaign_id)
        if campaign is None:
            raise NotFound("campaign", campaign_id)
        members = await segment_members(tx.session, campaign.segment)
        decided = await campaign_dedupe_keys(tx.session, campaign_id)
        counts.members = len(members)
        requests: list[MessageRequest] = []
        for customer_id in members:
            key = f"campaign:{campaign_id}:{customer_id}"
            if key in decided:
                counts.already_dispatched += 1
                continue
            requests.append(
                MessageRequest(
                    customer_id=customer_id,
                    channel=Channel(campaign.channel),
                    purpose=Purpose(campaign.purpose),
                    template=campaign.template,
                    trigger="campaign",
                    params=campaign.params,
                    campaign_id=campaign_id,
                    dedupe_key=key,
                )
            )
        claimed: list[Claimed] = await record_and_claim(tx, ctx, requests) if requests else []
        campaign.last_dispatched_at = tx.now
        campaign.dispatches += 1
    for message, delivery in claimed:
        if delivery is None:
            counts.count(message)
    for settled in await deliver_claimed(begin, ctx, claimed):
        counts.count(settled)
    return counts.result()
