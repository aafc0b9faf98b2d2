"""Work order of the ticket queue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol, TypeVar

from services.ticketing.rules.values import Priority


class Queueable(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def priority(self) -> Priority: ...
    @property
    def response_due_at(self) -> datetime: ...
    @property
    def opened_at(self) -> datetime: ...


_Ticket = TypeVar("_Ticket", bound=Queueable)


def queue_key(ticket: Queueable) -> tuple[int, datetime, datetime, str]:
    """Most urgent priority first, then earliest due, then oldest, then id for a stable order."""
    return (ticket.priority.rank, ticket.response_due_at, ticket.opened_at, ticket.id)


def in_work_order(tickets: Iterable[_Ticket]) -> list[_Ticket]:
    return sorted(tickets, key=queue_key)
