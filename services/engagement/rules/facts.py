"""What engagement keeps of a customer from events: each fact the newest one.

Customer events travel on several topics and may arrive out of order, so each fact (an
address, a consent, the tag set, the segment) remembers the business time that set it and an
older event never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any


def supersedes(at: datetime, set_at: datetime | None) -> bool:
    """Whether a fact from business time `at` replaces one set at `set_at` (the same time
    does: a redelivery changes nothing, and of two facts of one moment the later wins)."""
    return set_at is None or at >= set_at


def newer_facts(
    given: Mapping[str, Any], set_at: Mapping[str, str], at: datetime
) -> dict[str, Any]:
    """Of the given facts ("email", "phone", "consent.<channel>"), those no newer event set;
    `set_at` holds each fact's business time as ISO text, as stored."""
    return {
        name: value for name, value in given.items() if supersedes(at, _moment(set_at.get(name)))
    }


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
