"""Publishing a new version of the rules; a refused document is a 422 naming its fields."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty.domain import InvalidRules
from services.loyalty.handlers.common import invalid_input
from services.loyalty.models import RuleVersion
from services.loyalty.rule_store import publish_rules
from services.loyalty.schemas import RULE_FIELDS


async def publish_rule_version(
    session: AsyncSession, changes: dict[str, Any], *, now: datetime, admin: str
) -> RuleVersion:
    try:
        return await publish_rules(session, changes, now=now, published_by=admin)
    except InvalidRules as exc:
        raise invalid_input(str(exc), *fields_named(str(exc), changes)) from exc


def fields_named(message: str, submitted: dict[str, Any]) -> list[str]:
    """The rule fields a refusal names, else those submitted (a rule across fields)."""
    named = [field for field in RULE_FIELDS if re.search(rf"\b{field}\b", message)]
    return named or sorted(submitted) or ["body"]
