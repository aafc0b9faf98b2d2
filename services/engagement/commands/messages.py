"""`POST /messages`: a one-off message through the decision, delivered at once if it may go.

Two short transactions around the adapter call (decide and claim, then settle), so no
database transaction is held open while a gateway answers.
"""

from __future__ import annotations

import hashlib
import json

from services.engagement.commands.decisions import MessageRequest
from services.engagement.commands.delivery import deliver_claimed, record_and_claim
from services.engagement.context import EngagementContext
from services.engagement.repository.messages import MessageRecord, message_by_key
from services.engagement.schemas import MessageCreate, MessagePublic
from shared.app import TransactionOpener
from shared.errors import IdempotencyKeyReused


async def send_one_off(
    begin: TransactionOpener,
    ctx: EngagementContext,
    command: MessageCreate,
    idempotency_key: str | None,
) -> tuple[MessagePublic, bool]:
    """Decide, record and deliver one message; (message, created). The same Idempotency-Key
    answers with the first decision and sends nothing again; with a different message it is
    refused (409)."""
    fingerprint = hashlib.sha256(
        json.dumps(command.model_dump(mode="json"), sort_keys=True).encode()
    ).hexdigest()
    key = f"api:{idempotency_key}" if idempotency_key else None
    request = MessageRequest(
        customer_id=command.customer_id,
        channel=command.channel,
        purpose=command.purpose,
        template=command.template,
        trigger="api",
        params=command.params,
        dedupe_key=key,
        request_hash=fingerprint,
    )
    async with begin() as tx:
        earlier = None if key is None else await message_by_key(tx.session, key)
        if earlier is not None:
            return _replay(earlier, fingerprint), False
        claimed = await record_and_claim(tx, ctx, [request])
    if not claimed:  # only a concurrent request with the same key leaves nothing recorded
        async with begin() as tx:
            earlier = None if key is None else await message_by_key(tx.session, key)
        if earlier is None:
            raise RuntimeError("a message was neither recorded nor found by its key")
        return _replay(earlier, fingerprint), False
    settled = await deliver_claimed(begin, ctx, claimed)
    message = settled[0] if settled else claimed[0][0]
    return message_public(message), True


def _replay(message: MessageRecord, fingerprint: str) -> MessagePublic:
    if message.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    return message_public(message)


def message_public(message: MessageRecord) -> MessagePublic:
    return MessagePublic.model_validate(message, from_attributes=True)
