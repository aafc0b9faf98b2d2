"""Consumers read the fields they use: a tier.changed without the fields profile and
ticketing never read is handled, one without the tier they do read is still rejected."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.events.catalogue import TierChanged, event_type_of, reading
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import service_harness

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def tier_changed_without(customer_id: str, *missing: str) -> dict[str, Any]:
    event = builders.tier_changed(customer_id, old_tier="silver", new_tier="gold", at=T0)
    for name in missing:
        del event["data"][name]
    return event


@pytest.mark.parametrize("service", ["profile", "ticketing"])
async def test_a_tier_change_without_fields_the_service_does_not_read_is_handled(
    tmp_path: Path, service: str
) -> None:
    customer_id = new_id("c")
    async with service_harness(service, tmp_path) as harness:
        outcomes = await harness.deliver(
            tier_changed_without(customer_id, "net_spend_12m", "reason", "old_tier")
        )
        assert outcomes == ["handled"]
        if service == "profile":
            customer = await harness.client.get(f"/v1/customers/{customer_id}")
            assert customer.json()["tier"] == "gold"


@pytest.mark.parametrize("service", ["profile", "ticketing"])
async def test_a_tier_change_without_the_tier_is_still_rejected(
    tmp_path: Path, service: str
) -> None:
    async with service_harness(service, tmp_path) as harness:
        outcomes = await harness.deliver(tier_changed_without(new_id("c"), "new_tier"))
        assert outcomes == ["rejected:invalid_data"]


def test_a_reader_travels_as_its_type_and_checks_what_it_is_given() -> None:
    reader = reading(TierChanged, "new_tier")
    assert reader is reading(TierChanged, "new_tier")
    assert event_type_of(reader) == "tier.changed"
    assert reader.model_validate({"customer_id": "c-1", "new_tier": "gold"}).reason is None
    with pytest.raises(ValueError, match="reason"):
        reader.model_validate({"customer_id": "c-1", "new_tier": "gold", "reason": "whim"})
    with pytest.raises(ValueError, match="no field"):
        reading(TierChanged, "tier")
