"""SLA policy as data: first-response time and priority per tier."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, TypeVar

from services.ticketing.rules.values import Priority, TicketKind, Tier, require_aware

MAX_FIRST_RESPONSE_HOURS = 24 * 365

_Value = TypeVar("_Value")


class PolicyError(ValueError):
    """An SLA policy that cannot be used; `field` names the offending field as a dotted path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _default_first_response_hours() -> Mapping[Tier, float]:
    return {tier: 4 if tier.is_vip else 24 for tier in Tier}


def _default_complaint_priority() -> Mapping[Tier, Priority]:
    return {tier: Priority.P1 if tier.is_vip else Priority.P2 for tier in Tier}


@dataclass(frozen=True)
class SlaPolicy:
    """Defaults: VIP (gold, platinum) get a first response within 4 h, others within 24 h;
    complaints are P1 for VIP and P2 for others; every other ticket is P3.

    The per-tier mappings must name every tier; keys and values may be given as enums or as
    their strings. Invalid policies raise `PolicyError` naming the field.
    """

    first_response_hours: Mapping[Tier, float] = field(
        default_factory=_default_first_response_hours
    )
    complaint_priority: Mapping[Tier, Priority] = field(default_factory=_default_complaint_priority)
    other_priority: Priority = Priority.P3

    def __post_init__(self) -> None:
        hours = _per_tier(self.first_response_hours, "first_response_hours", _hours)
        complaint = _per_tier(self.complaint_priority, "complaint_priority", _priority)
        other = _priority(self.other_priority, "other_priority")
        for tier, priority in complaint.items():
            # A complaint ranked below an ordinary inquiry would defeat the complaint loop.
            if other.is_more_urgent_than(priority):
                raise PolicyError(
                    f"complaint_priority.{tier}", f"must be at least as urgent as {other}"
                )
        # Read-only copies, so a policy cannot change under the tickets computed from it.
        object.__setattr__(self, "first_response_hours", MappingProxyType(hours))
        object.__setattr__(self, "complaint_priority", MappingProxyType(complaint))
        object.__setattr__(self, "other_priority", other)

    def first_response_time(self, tier: Tier) -> timedelta:
        return timedelta(hours=self.first_response_hours[tier])

    def to_dict(self) -> dict[str, Any]:
        return {
            "first_response_hours": {str(t): self.first_response_hours[t] for t in Tier},
            "complaint_priority": {str(t): str(self.complaint_priority[t]) for t in Tier},
            "other_priority": str(self.other_priority),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaPolicy:
        """Parse the JSON form written by `to_dict`. A missing top-level field takes its default
        (stored documents only ever grow); unknown fields are rejected."""
        if not isinstance(data, Mapping):
            raise PolicyError("policy", "must be an object")
        known = {"first_response_hours", "complaint_priority", "other_priority"}
        for key in data:
            if key not in known:
                raise PolicyError(str(key), "unknown field")
        return cls(**{key: data[key] for key in known if key in data})


def _per_tier(raw: object, name: str, parse: Callable[[object, str], _Value]) -> dict[Tier, _Value]:
    if not isinstance(raw, Mapping):
        raise PolicyError(name, "must be an object keyed by tier")
    parsed: dict[Tier, _Value] = {}
    for key, value in raw.items():
        try:
            tier = Tier(key)
        except ValueError:
            raise PolicyError(f"{name}.{key}", "unknown tier") from None
        parsed[tier] = parse(value, f"{name}.{tier}")
    for tier in Tier:
        if tier not in parsed:
            raise PolicyError(f"{name}.{tier}", "missing")
    return parsed


def _hours(raw: object, name: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise PolicyError(name, "must be a number of hours")
    if not math.isfinite(raw) or not 0 < raw <= MAX_FIRST_RESPONSE_HOURS:
        raise PolicyError(name, f"must be more than 0 and at most {MAX_FIRST_RESPONSE_HOURS}")
    return raw


def _priority(raw: object, name: str) -> Priority:
    if isinstance(raw, str) and raw in Priority.__members__.values():
        return Priority(raw)
    raise PolicyError(name, "must be one of " + ", ".join(Priority))


def initial_priority(kind: TicketKind, tier: Tier, policy: SlaPolicy) -> Priority:
    if kind.takes_complaint_priority:
        return policy.complaint_priority[tier]
    return policy.other_priority


def response_due_at(opened_at: datetime, tier: Tier, policy: SlaPolicy) -> datetime:
    require_aware("opened_at", opened_at)
    return opened_at + policy.first_response_time(tier)
