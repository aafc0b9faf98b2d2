"""The events a service consumes and publishes, declared where its handlers are written.

    subscriptions = Subscriptions[EngagementContext](
        "engagement", publishes=(SilenceStarted, MessageSent, MessageSuppressed)
    )

    @subscriptions.on(ComplaintOpened)
    async def on_complaint_opened(
        event: TypedEvent[ComplaintOpened], tx: Transaction, ctx: EngagementContext
    ) -> None: ...

    @subscriptions.on_batch(OrderPlaced)
    async def on_orders_placed(
        events: Sequence[TypedEvent[OrderPlaced]], tx: Transaction, ctx: LoyaltyContext
    ) -> None: ...

A handler runs inside the consumer's transaction after the inbox claim. A batch handler gets
a run's events of its type in partition order and applies them as a set; if the run fails it
is redone one event per transaction, so the retry and dead-letter rules stay per event. The
same declarations give the AsyncAPI document who consumes and who publishes each type.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from shared.events.catalogue import EventData, data_model_for, event_type_of
from shared.events.envelope import TypedEvent
from shared.transaction import Transaction

Ctx = TypeVar("Ctx")
Model = TypeVar("Model", bound=EventData)

EventHandler = Callable[[TypedEvent[Any], Transaction, Ctx], Awaitable[None]]
BatchHandler = Callable[[Sequence[TypedEvent[Any]], Transaction, Ctx], Awaitable[None]]
RunHandler = Callable[[Sequence[TypedEvent[Any]], Transaction], Awaitable[None]]
"""What the consumer calls: a run of one type's events in one transaction."""

F = TypeVar("F", bound=Callable[..., Awaitable[None]])


@dataclass(frozen=True)
class Subscription:
    event_type: str
    handler: Callable[..., Awaitable[None]]
    batch: bool
    urgent: bool = False
    model: type[EventData] | None = None
    """The data model the handler reads the type with (``catalogue.reading``), if not the
    catalogue's."""


class Subscriptions(Generic[Ctx]):
    def __init__(
        self,
        service: str,
        *,
        publishes: Iterable[type[EventData]] = (),
    ) -> None:
        self.service = service
        self.publishes: frozenset[str] = frozenset(event_type_of(m) for m in publishes)
        self._by_type: dict[str, Subscription] = {}

    def on(self, *models: type[EventData], urgent: bool = False) -> Callable[[F], F]:
        """Declare a handler of one event at a time for each of ``models``. ``urgent`` types
        are fetched by a consumer lane of their own that stays quick at rest (the complaint
        loop), so a quiet stack answers a complaint without polling everything fast."""
        return self._declare(models, batch=False, urgent=urgent)

    def on_batch(self, *models: type[EventData], urgent: bool = False) -> Callable[[F], F]:
        """Declare a handler of a run of events (in partition order) for each of ``models``."""
        return self._declare(models, batch=True, urgent=urgent)

    def _declare(
        self, models: Sequence[type[EventData]], *, batch: bool, urgent: bool
    ) -> Callable[[F], F]:
        def register(handler: F) -> F:
            for model in models:
                event_type = event_type_of(model)
                if event_type in self._by_type:
                    raise ValueError(f"{self.service} already handles {event_type}")
                own = model if model is not data_model_for(event_type) else None
                self._by_type[event_type] = Subscription(event_type, handler, batch, urgent, own)
            return handler

        return register

    @property
    def consumes(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_type))

    @property
    def urgent(self) -> tuple[str, ...]:
        return tuple(sorted(t for t, s in self._by_type.items() if s.urgent))

    @property
    def data_models(self) -> dict[str, type[EventData]]:
        """The types read with a model of their own (a tolerant reader), and that model."""
        return {t: s.model for t, s in self._by_type.items() if s.model is not None}

    def subscription(self, event_type: str) -> Subscription:
        return self._by_type[event_type]

    def bind(self, ctx: Ctx) -> dict[str, RunHandler]:
        """The handlers with their context, each taking a run of its events."""
        return {
            event_type: _bound(subscription, ctx)
            for event_type, subscription in self._by_type.items()
        }


def _bound(subscription: Subscription, ctx: Any) -> RunHandler:
    handler = subscription.handler
    if subscription.batch:

        async def run_batch(events: Sequence[TypedEvent[Any]], tx: Transaction) -> None:
            await handler(events, tx, ctx)

        return run_batch

    async def run_each(events: Sequence[TypedEvent[Any]], tx: Transaction) -> None:
        for event in events:
            await handler(event, tx, ctx)

    return run_each
