"""The versions of the rules: the one in force is the highest; each is stored once, never changed.

Version 1 is stored by the first migration with the defaults of DESIGN §4. A new version is
the version in force with the submitted fields changed, validated by `LoyaltyRules`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty.domain import DEFAULT_RULES, LoyaltyRules
from services.loyalty.models import RuleVersion
from services.loyalty.transaction_memo import transaction_memo
from shared.errors import Conflict


async def latest_rule_version(session: AsyncSession) -> RuleVersion | None:
    return await session.scalar(select(RuleVersion).order_by(RuleVersion.version.desc()).limit(1))


async def rule_version_in_force(session: AsyncSession) -> RuleVersion:
    row = await latest_rule_version(session)
    if row is None:
        raise RuntimeError("no loyalty rules stored: the migrations seed version 1")
    return row


async def rules_in_force(session: AsyncSession) -> LoyaltyRules:
    """The rules in force, read once per transaction: every event of a run the consumer
    applies in one transaction is handled under the same rules."""
    memo = await transaction_memo(session)
    if memo.rules is None:
        memo.rules = LoyaltyRules.from_dict((await rule_version_in_force(session)).document)
    return memo.rules


def initial_rule_version(now: datetime, rules: LoyaltyRules = DEFAULT_RULES) -> RuleVersion:
    """Version 1, as the first migration stores it (tests store it the same way)."""
    return RuleVersion(
        version=rules.version, document=rules.to_dict(), published_at=now, published_by="initial"
    )


async def rule_version(session: AsyncSession, version: int) -> RuleVersion | None:
    return await session.get(RuleVersion, version)


async def publish_rules(
    session: AsyncSession, changes: dict[str, Any], *, now: datetime, published_by: str
) -> RuleVersion:
    """Store the rules in force with `changes` applied as the next version.

    `changes` may name `version`: it must then be the next one, so two admins editing the
    same version cannot silently overwrite each other (409 `rules_version_conflict`).
    Raises InvalidRules for a document the rules refuse.
    """
    current = (await rule_version_in_force(session)).document
    next_version = int(current["version"]) + 1
    asked = changes.get("version", next_version)
    if asked != next_version:
        raise _version_conflict(next_version, asked)
    rules = LoyaltyRules.from_dict({**current, **changes, "version": next_version})
    row = RuleVersion(
        version=rules.version,
        document=rules.to_dict(),
        published_at=now,
        published_by=published_by,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:  # another admin published the same version first
        raise _version_conflict(next_version, asked) from exc
    (await transaction_memo(session)).rules = None  # read the new version when next asked
    return row


def _version_conflict(next_version: int, asked: object) -> Conflict:
    return Conflict(
        "rules_version_conflict",
        f"The next rules version is {next_version}; the document asks for {asked}.",
        next_version=next_version,
    )
