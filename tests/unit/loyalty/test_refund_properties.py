from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.loyalty.rules.account import PointsAccount
from services.loyalty.rules.book import Origin
from services.loyalty.rules.rulebook import DEFAULT_RULEBOOK
from tests.unit.loyalty.factories import utc

START = utc(2024, 3, 1)


@settings(max_examples=200, deadline=None)
@given(
    amount=st.decimals(min_value=Decimal("0.01"), max_value=100_000, places=2),
    refunds=st.lists(st.decimals(min_value=0, max_value=30_000, places=2), max_size=8),
    earlier_spend=st.sampled_from(["0", "2000", "10000", "30000"]),
)
def test_partial_refunds_never_take_back_more_than_the_order_gave(
    amount: Decimal, refunds: list[Decimal], earlier_spend: str
) -> None:
    account = PointsAccount("c-under-test")
    if earlier_spend != "0":
        account.place_order(
            "earlier", Decimal(earlier_spend), Origin("s-0", START, DEFAULT_RULEBOOK)
        )
    placed = account.place_order("order", amount, Origin("s-1", START, DEFAULT_RULEBOOK))
    assert placed.earning is not None

    clawed = 0
    for n, refunded in enumerate(refunds):
        origin = Origin(f"refund-{n}", START + timedelta(days=n), DEFAULT_RULEBOOK)
        clawed += account.refund_order("order", refunded, origin).points_clawed_back

    assert clawed == account.orders["order"].points_clawed_back
    assert clawed <= placed.earning.points
    if sum(refunds) >= amount:
        assert clawed == placed.earning.points
