"""The versions of the rulebook: the one in force is the highest; each is stored once, never
changed. Version 1 is stored by the first migration with the defaults of DESIGN §4."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty.models import RulebookVersion
from services.loyalty.rules.errors import StaleRulebookVersion
from services.loyalty.rules.rulebook import Rulebook
from shared.transaction import Transaction


@dataclass
class RulebookInHand:
    """The rulebook in force as this transaction read it: every event of a run is handled
    under the same rulebook; None until read, and again once a new version is published."""

    rulebook: Rulebook | None = None


async def rulebook_version_in_force(session: AsyncSession) -> RulebookVersion:
    row = await session.scalar(
        select(RulebookVersion).order_by(RulebookVersion.version.desc()).limit(1)
    )
    if row is None:
        raise RuntimeError("no loyalty rulebook stored: the migrations seed version 1")
    return row


async def rulebook_version(session: AsyncSession, version: int) -> RulebookVersion | None:
    return await session.get(RulebookVersion, version)


async def read_rulebook(session: AsyncSession) -> Rulebook:
    """The rulebook in force, for a query."""
    return Rulebook.from_dict((await rulebook_version_in_force(session)).document)


async def rulebook_in_force(tx: Transaction) -> Rulebook:
    """The rulebook in force, read once per transaction: every event of a run the consumer
    applies in one transaction is handled under the same rulebook."""
    in_hand = tx.held(RulebookInHand)
    if in_hand.rulebook is None:
        in_hand.rulebook = await read_rulebook(tx.session)
    return in_hand.rulebook


async def store_rulebook(
    tx: Transaction, rulebook: Rulebook, *, published_by: str
) -> RulebookVersion:
    """Store `rulebook` as a new version, in force from now on (in this transaction too).
    Raises StaleRulebookVersion when another admin published that version first."""
    row = RulebookVersion(
        version=rulebook.version,
        document=rulebook.to_dict(),
        published_at=tx.now,
        published_by=published_by,
    )
    tx.session.add(row)
    try:
        await tx.session.flush()
    except IntegrityError as exc:
        raise StaleRulebookVersion(rulebook.version, rulebook.version) from exc
    tx.held(RulebookInHand).rulebook = None  # read the new version when next asked
    return row
