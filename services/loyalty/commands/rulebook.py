"""Publishing a new version of the rulebook; a refused document is a 422 naming its fields."""

from __future__ import annotations

import re
from typing import Any

from services.loyalty.repository.rulebook import rulebook_version_in_force, store_rulebook
from services.loyalty.rules.errors import InvalidRulebook, StaleRulebookVersion
from services.loyalty.rules.rulebook import next_rulebook
from services.loyalty.schemas import RULEBOOK_FIELDS, RulebookPublic
from shared.errors import Conflict, InvalidInput
from shared.transaction import Transaction


async def publish_rulebook(
    tx: Transaction, changes: dict[str, Any], *, admin: str
) -> RulebookPublic:
    """The rulebook in force with `changes` applied, stored as the next version; entries
    already made keep the version that made them. 409 `rules_version_conflict` when `changes`
    names a version other than the next (or another admin published it first)."""
    in_force = await rulebook_version_in_force(tx.session)
    try:
        rulebook = next_rulebook(in_force.document, changes)
        row = await store_rulebook(tx, rulebook, published_by=admin)
    except InvalidRulebook as exc:
        raise InvalidInput(fields_named(str(exc), changes), str(exc)) from exc
    except StaleRulebookVersion as exc:
        raise Conflict("rules_version_conflict", str(exc), next_version=exc.next_version) from exc
    return RulebookPublic(
        version=row.version,
        published_at=row.published_at,
        published_by=row.published_by,
        rules=row.document,
    )


def fields_named(message: str, submitted: dict[str, Any]) -> list[str]:
    """The rulebook fields a refusal names, else those submitted (a rule across fields)."""
    named = [field for field in RULEBOOK_FIELDS if re.search(rf"\b{field}\b", message)]
    return named or sorted(submitted) or ["body"]
