"""Redemptions: points for a coupon, made safe to retry by an Idempotency-Key.

The first answer given to a key (201 with the redemption, or 409 insufficient_points) is
stored and replayed for every retry with the same body; the same key with another body is
refused (409 `idempotency_key_reused`). Keys are scoped to the customer. The account row is
locked before the key is looked up, so two concurrent retries give one redemption.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.loyalty.models import Redemption
from services.loyalty.repository.accounts import Wanted, load_accounts
from services.loyalty.repository.ledger import record_changes
from services.loyalty.repository.rows import new_public_id
from services.loyalty.repository.rulebook import rulebook_in_force
from services.loyalty.repository.saving import save_accounts
from services.loyalty.rules.book import Origin
from services.loyalty.rules.errors import InsufficientPoints, RefusedByRules
from services.loyalty.schemas import RedemptionPublic
from shared.errors import IdempotencyKeyReused, InvalidInput, NotFound
from shared.transaction import Transaction


@dataclass(frozen=True)
class RedemptionAnswer:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


async def redeem_points(
    tx: Transaction, customer_id: str, points: int, idempotency_key: str
) -> RedemptionAnswer:
    rulebook = await rulebook_in_force(tx)
    accounts = await load_accounts(tx, rulebook, {customer_id: Wanted()})
    loaded = accounts.stored(customer_id)
    if loaded is None:
        raise NotFound("loyalty account", customer_id)
    previous = await tx.session.get(Redemption, (customer_id, idempotency_key))
    if previous is not None:
        if previous.points != points:
            raise IdempotencyKeyReused()
        return RedemptionAnswer(previous.status_code, previous.response, replayed=True)
    redemption_id = new_public_id("rdm")
    account = loaded.account
    try:
        redemption = account.redeem(points, Origin(redemption_id, tx.now, rulebook))
    except RefusedByRules as exc:
        raise InvalidInput("points", str(exc)) from exc
    except InsufficientPoints as refused:
        answer = RedemptionAnswer(409, _insufficient(refused))
        _remember(tx, customer_id, idempotency_key, points, None, answer)
        return answer
    await record_changes(tx, accounts, loaded, redemption.entries)
    await save_accounts(tx, accounts)
    body = RedemptionPublic(
        redemption_id=redemption_id,
        customer_id=customer_id,
        points=points,
        coupon_value=rulebook.coupon_value(points),
        balance=account.balance,
        available=account.available_at(tx.now),
        redeemed_at=tx.now,
        rule_version=rulebook.version,
    ).model_dump(mode="json")
    answer = RedemptionAnswer(201, body)
    _remember(tx, customer_id, idempotency_key, points, redemption_id, answer)
    return answer


def _insufficient(refused: InsufficientPoints) -> dict[str, Any]:
    return {
        "error": {
            "code": "insufficient_points",
            "message": str(refused).capitalize() + ".",
            "details": {"available": refused.available, "requested": refused.requested},
        }
    }


def _remember(
    tx: Transaction,
    customer_id: str,
    idempotency_key: str,
    points: int,
    redemption_id: str | None,
    answer: RedemptionAnswer,
) -> None:
    tx.session.add(
        Redemption(
            customer_id=customer_id,
            idempotency_key=idempotency_key,
            redemption_id=redemption_id,
            points=points,
            status_code=answer.status_code,
            response=answer.body,
            created_at=tx.now,
        )
    )
