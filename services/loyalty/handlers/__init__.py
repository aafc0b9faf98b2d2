"""Loyalty's handlers, one function per command and per event: load the account, apply the
domain, save entries and derived state, add outbox events. Modules: `events` (the consumer's
handlers), `redemptions`, `task_claims`, `holds`, `rules` (commands), `queries` (reads)."""

from services.loyalty.handlers.events import event_handlers

__all__ = ["event_handlers"]
