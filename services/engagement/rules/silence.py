"""Marketing silence: a complaint silences marketing to its customer for 30 days from the
complaint's own business time; later complaints extend it, nothing shortens it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from services.engagement.rules.checks import require_aware, require_int

COMPLAINT: Final = "complaint"
"""The reason of a silence a complaint started (the only reason today)."""


def extend_silence(
    current_until: datetime | None, complaint_time: datetime, days: int = 30
) -> datetime:
    """The silence end after a complaint at `complaint_time` (its business time): a later
    complaint extends the silence, an older or repeated one never shortens it. The result
    may lie in the past for a backdated complaint; `is_silenced` then says no."""
    require_aware("complaint_time", complaint_time)
    require_int("days", days, minimum=1)
    until = complaint_time + timedelta(days=days)
    if current_until is None:
        return until
    require_aware("current_until", current_until)
    return max(current_until, until)


def is_silenced(until: datetime | None, now: datetime) -> bool:
    """Silenced up to, not including, `until`."""
    require_aware("now", now)
    if until is None:
        return False
    require_aware("until", until)
    return now < until


@dataclass(frozen=True)
class SilenceExtended:
    until: datetime
    in_force: bool
    """Whether the silence holds now; only then is `silence.started` announced (a complaint
    backdated beyond the silence starts nothing)."""


def silence_after_complaint(
    current_until: datetime | None, complaint_time: datetime, now: datetime, days: int
) -> SilenceExtended | None:
    """The new silence a complaint brings, None when it changes nothing (older, repeated)."""
    until = extend_silence(current_until, complaint_time, days)
    if until == current_until:
        return None
    return SilenceExtended(until, in_force=is_silenced(until, now))
