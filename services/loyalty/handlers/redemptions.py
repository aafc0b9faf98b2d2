"""Redemptions: points for a coupon, made safe to retry by an Idempotency-Key.

The first answer given to a key (201 with the redemption, or 409 insufficient_points) is
stored and replayed for every retry with the same body; the same key with another body is
refused (422 `idempotency_key_reused`). Keys are scoped to the customer. The account row is
locked before the key is looked up, so two concurrent retries give one redemption.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty.domain import InsufficientPoints, InvalidInput, Origin
from services.loyalty.handlers.common import commit_changes, invalid_input, known
from services.loyalty.models import Redemption
from services.loyalty.outgoing import coupon_value
from services.loyalty.rule_store import rules_in_force
from services.loyalty.schemas import RedemptionPublic
from services.loyalty.store import load_account, new_public_id
from shared.errors import ApiError


@dataclass(frozen=True)
class RedemptionAnswer:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


async def redeem_points(
    session: AsyncSession, customer_id: str, points: int, idempotency_key: str, *, now: datetime
) -> RedemptionAnswer:
    rules = await rules_in_force(session)
    loaded = known(await load_account(session, customer_id, at=now, rules=rules), customer_id)
    previous = await session.get(Redemption, (customer_id, idempotency_key))
    if previous is not None:
        if previous.points != points:
            raise ApiError(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was used for another request; use a new key.",
                details={"field": "Idempotency-Key", "points": previous.points},
            )
        return RedemptionAnswer(previous.status_code, previous.response, replayed=True)
    redemption_id = new_public_id("rdm")
    account = loaded.account
    try:
        redemption = account.redeem(points, Origin(redemption_id, now, rules))
    except InvalidInput as exc:
        raise invalid_input(str(exc), "points") from exc
    except InsufficientPoints as refused:
        answer = RedemptionAnswer(409, _insufficient(refused))
        _remember(session, customer_id, idempotency_key, points, None, answer, now)
        return answer
    await commit_changes(session, loaded, redemption.entries, rules, now=now)
    body = RedemptionPublic(
        redemption_id=redemption_id,
        customer_id=customer_id,
        points=points,
        coupon_value=coupon_value(points, rules),
        balance=account.balance,
        available=account.available_at(now),
        redeemed_at=now,
        rule_version=rules.version,
    ).model_dump(mode="json")
    answer = RedemptionAnswer(201, body)
    _remember(session, customer_id, idempotency_key, points, redemption_id, answer, now)
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
    session: AsyncSession,
    customer_id: str,
    idempotency_key: str,
    points: int,
    redemption_id: str | None,
    answer: RedemptionAnswer,
    now: datetime,
) -> None:
    session.add(
        Redemption(
            customer_id=customer_id,
            idempotency_key=idempotency_key,
            redemption_id=redemption_id,
            points=points,
            status_code=answer.status_code,
            response=answer.body,
            created_at=now,
        )
    )
