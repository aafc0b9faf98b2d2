from decimal import Decimal

import pytest

from services.loyalty.rules.errors import RefusedByRules
from services.loyalty.rules.ledger import EntryReason
from services.loyalty.rules.referral import accept_referrer, decide_referral_award
from services.loyalty.rules.rulebook import DEFAULT_RULEBOOK
from tests.support.builders import new_id
from tests.unit.loyalty.factories import new_account, origin_at, utc

PLACED_AT = utc(2024, 5, 1, 2)


def test_nobody_refers_themselves():
    assert accept_referrer("c-1", "c-1") is None
    assert accept_referrer("c-1", None) is None
    assert accept_referrer("c-1", "c-2") == "c-2"


def test_a_self_referral_never_pays():
    award = decide_referral_award(
        referee_id="c-1",
        referrer_id="c-1",
        is_first_order=True,
        already_rewarded=False,
        rulebook=DEFAULT_RULEBOOK,
    )

    assert award is None


def test_the_referees_first_order_pays_both_sides():
    referrer = new_account()
    referee = new_account()
    referee.remember_referrer(referrer.customer_id)

    outcome = referee.place_order(new_id("order"), Decimal("100"), origin_at(PLACED_AT))
    assert outcome.referral_award is not None
    referrer_entries = referrer.credit_referrer_bonus(outcome.referral_award, origin_at(PLACED_AT))

    bonus = [e for e in outcome.entries if e.reason is EntryReason.REFEREE_BONUS]
    assert [e.points for e in bonus] == [300]
    assert referee.balance == 200 + 300  # first order doubled, plus the bonus
    assert [e.points for e in referrer_entries] == [200]
    assert referrer_entries[0].reason is EntryReason.REFERRER_BONUS
    assert referrer.balance == 200


def test_the_referral_pays_once_per_referee():
    referrer = new_account()
    referee = new_account()
    referee.remember_referrer(referrer.customer_id)
    first = referee.place_order(new_id("order"), Decimal("100"), origin_at(PLACED_AT))
    assert first.referral_award is not None
    referrer.credit_referrer_bonus(first.referral_award, origin_at(PLACED_AT))

    second = referee.place_order(new_id("order"), Decimal("100"), origin_at(PLACED_AT))
    replay = referrer.credit_referrer_bonus(first.referral_award, origin_at(PLACED_AT))

    assert second.referral_award is None
    assert replay == ()
    assert referrer.balance == 200


def test_a_referrer_remembered_at_registration_is_not_replaced():
    referee = new_account()
    referee.remember_referrer("c-first")
    referee.remember_referrer("c-second")

    assert referee.referrer_id == "c-first"


def test_a_customer_registering_as_their_own_referrer_gets_no_bonus():
    referee = new_account()
    referee.remember_referrer(referee.customer_id)

    outcome = referee.place_order(new_id("order"), Decimal("100"), origin_at(PLACED_AT))

    assert referee.referrer_id is None
    assert outcome.referral_award is None
    assert referee.balance == 200


def test_an_award_is_credited_only_to_its_referrer():
    someone_else = new_account()
    award = decide_referral_award(
        referee_id="c-9",
        referrer_id="c-8",
        is_first_order=True,
        already_rewarded=False,
        rulebook=DEFAULT_RULEBOOK,
    )
    assert award is not None

    with pytest.raises(RefusedByRules):
        someone_else.credit_referrer_bonus(award, origin_at(PLACED_AT))
