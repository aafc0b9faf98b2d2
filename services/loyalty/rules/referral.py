"""Referral: on the referee's first order, the referrer and the referee each earn a bonus."""

from __future__ import annotations

from dataclasses import dataclass

from services.loyalty.rules.rulebook import Rulebook

# Once-only keys, kept per account (the database makes them unique per customer).
REFEREE_REWARD_KEY = "referral:as_referee"


def referrer_reward_key(referee_id: str) -> str:
    return f"referral:referee:{referee_id}"


@dataclass(frozen=True, slots=True)
class ReferralAward:
    referrer_id: str
    referee_id: str
    referrer_points: int
    referee_points: int
    rule_version: int


def accept_referrer(customer_id: str, referrer_id: str | None) -> str | None:
    """The referrer to remember at registration; nobody refers themselves."""
    if not referrer_id or referrer_id == customer_id:
        return None
    return referrer_id


def referral_keys_to_look_up(referrer_id: str | None, orders_placed: int) -> list[str]:
    """The referee's bonus is only ever due on a referred customer's first order: only then
    is it worth looking up whether it was given."""
    return [REFEREE_REWARD_KEY] if referrer_id and orders_placed == 0 else []


def decide_referral_award(
    *,
    referee_id: str,
    referrer_id: str | None,
    is_first_order: bool,
    already_rewarded: bool,
    rulebook: Rulebook,
) -> ReferralAward | None:
    """The award due when the referee's order lands, or None (not first, none, or done)."""
    referrer = accept_referrer(referee_id, referrer_id)
    if referrer is None or not is_first_order or already_rewarded:
        return None
    return ReferralAward(
        referrer_id=referrer,
        referee_id=referee_id,
        referrer_points=rulebook.referrer_points,
        referee_points=rulebook.referee_points,
        rule_version=rulebook.version,
    )
