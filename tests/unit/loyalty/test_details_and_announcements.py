"""The rules that moved out of the handlers: a customer's details, and what each entry and
tier change announces."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.loyalty.rules.announcements import announcements
from services.loyalty.rules.details import (
    CustomerDetails,
    details_after_erasure,
    details_after_update,
)
from services.loyalty.rules.ledger import Totals, totals_after_each
from services.loyalty.rules.rulebook import DEFAULT_RULEBOOK
from shared.events.catalogue import PointsEarned, PointsRedeemed, TierChanged
from tests.support.builders import new_id
from tests.unit.loyalty.factories import new_account, origin_at, utc

BIRTHDAY = date(1990, 3, 21)


def test_details_keep_the_first_referrer_and_change_the_birthday_only_when_given():
    details = CustomerDetails(new_id("c"))

    referred = details_after_update(
        details, birthday=BIRTHDAY, birthday_given=True, referrer_id="c-friend"
    )
    assert referred == CustomerDetails(details.customer_id, BIRTHDAY, "c-friend")
    again = details_after_update(
        referred, birthday=None, birthday_given=False, referrer_id="c-other"
    )
    assert again == referred
    cleared = details_after_update(referred, birthday=None, birthday_given=True, referrer_id=None)
    assert (cleared.birthday, cleared.referrer_id) == (None, "c-friend")
    myself = details_after_update(
        details, birthday=None, birthday_given=False, referrer_id=details.customer_id
    )
    assert myself.referrer_id is None


def test_an_erased_customers_details_never_come_back():
    details = CustomerDetails(new_id("c"), BIRTHDAY, "c-friend")

    erased = details_after_erasure(details, utc(2025, 3, 10))
    assert erased == CustomerDetails(details.customer_id, erased_at=utc(2025, 3, 10))
    assert details_after_erasure(erased, utc(2025, 4, 1)).erased_at == utc(2025, 3, 10)
    late = details_after_update(erased, birthday=BIRTHDAY, birthday_given=True, referrer_id="x")
    assert late is None


def test_an_order_announces_its_earn_and_tier_change_and_a_redemption_its_coupon():
    account = new_account()
    placed = account.place_order("o-1", Decimal("2000.00"), origin_at(utc(2025, 3, 10, 4)))
    redeemed = account.redeem(500, origin_at(utc(2025, 3, 10, 5)))
    entries = [*placed.entries, *redeemed.entries]

    found = announcements(
        entries,
        totals_after_each(entries, Totals(0, 0)),
        DEFAULT_RULEBOOK,
        placed.tier_change,
        customer_id=account.customer_id,
    )

    earned, redemption, tier = (announcement.data for announcement in found)
    assert isinstance(earned, PointsEarned) and (earned.points, earned.balance) == (4000, 4000)
    assert isinstance(redemption, PointsRedeemed)
    assert (redemption.points, redemption.coupon_value, redemption.balance) == (
        500,
        Decimal("5.00"),
        3500,
    )
    assert isinstance(tier, TierChanged) and (tier.new_tier, tier.reason) == ("silver", "upgrade")
    assert [announcement.time for announcement in found] == [
        utc(2025, 3, 10, 4),
        utc(2025, 3, 10, 5),
        utc(2025, 3, 10, 4),
    ]


def test_a_clawback_announces_nothing():
    account = new_account()
    account.place_order("o-1", Decimal("100.00"), origin_at(utc(2025, 3, 10, 4)))
    refund = account.refund_order("o-1", Decimal("50.00"), origin_at(utc(2025, 3, 11)))

    before = Totals(account.balance - sum(e.points for e in refund.entries), 0)
    totals = totals_after_each(refund.entries, before)
    assert announcements(refund.entries, totals, DEFAULT_RULEBOOK, customer_id="x") == []
