"""What loyalty keeps of a customer's profile: the birthday (for the birthday month) and the
referrer (for the referral bonus) — and nothing of either once the customer is erased."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from services.loyalty.rules.referral import accept_referrer


@dataclass(frozen=True, slots=True)
class CustomerDetails:
    customer_id: str
    birthday: date | None = None
    referrer_id: str | None = None
    erased_at: datetime | None = None


def details_after_update(
    details: CustomerDetails,
    *,
    birthday: date | None,
    birthday_given: bool,
    referrer_id: str | None,
) -> CustomerDetails | None:
    """The details after a registration or an update, or None when nothing changes: an erased
    customer's details never come back (a late copy of the registration included). The
    birthday changes only when the event gives one; the referrer is kept once, never oneself."""
    if details.erased_at is not None:
        return None
    if details.referrer_id is None:
        details = replace(details, referrer_id=accept_referrer(details.customer_id, referrer_id))
    return replace(details, birthday=birthday) if birthday_given else details


def details_after_erasure(details: CustomerDetails, erased_at: datetime) -> CustomerDetails:
    """Birthday and referrer forgotten; the first erasure's time is kept. The ledger holds no
    personal data and stays."""
    return CustomerDetails(details.customer_id, erased_at=details.erased_at or erased_at)
