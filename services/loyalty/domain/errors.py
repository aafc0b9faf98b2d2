"""Errors the loyalty domain raises; handlers map them to HTTP answers (409, 422)."""


class LoyaltyError(Exception):
    """Base of every loyalty domain error."""


class InvalidInput(LoyaltyError, ValueError):
    """An argument breaks a domain precondition (negative amount, naive datetime, ...)."""


class InvalidRules(LoyaltyError, ValueError):
    """A rulebook that cannot be put in force (unknown field, wrong type, bad value)."""


class InsufficientPoints(LoyaltyError):
    """A redemption asked for more points than the account has available."""

    def __init__(self, available: int, requested: int) -> None:
        super().__init__(f"requested {requested} points but only {available} are available")
        self.available = available
        self.requested = requested


class UnknownHold(LoyaltyError, LookupError):
    """No pending hold with that id on this account."""

    def __init__(self, hold_id: str) -> None:
        super().__init__(f"no pending hold {hold_id!r}")
        self.hold_id = hold_id
