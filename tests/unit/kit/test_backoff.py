"""Retry delays double up to their cap, however long the outage."""

from shared.backoff import Backoff


def test_delays_double_from_the_first_up_to_the_cap():
    backoff = Backoff(0.1, 5.0)
    assert [backoff.delay(n) for n in (1, 2, 3, 7, 8)] == [0.1, 0.2, 0.4, 5.0, 5.0]


def test_an_outage_of_any_length_keeps_the_cap():
    # After about a thousand failures the doubling once overflowed a float and the retry
    # loop itself failed.
    assert Backoff(0.1, 5.0).delay(5_000) == 5.0
