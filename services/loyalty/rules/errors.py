"""Errors the loyalty rules raise: commands answer them (409, 422), handlers dead-letter them."""


class LoyaltyError(Exception):
    """Base of every error the loyalty rules raise."""


class RefusedByRules(LoyaltyError, ValueError):
    """An argument breaks a rule's precondition (negative amount, naive datetime, ...)."""


class InvalidRulebook(LoyaltyError, ValueError):
    """A rulebook that cannot be put in force (unknown field, wrong type, bad value)."""


class StaleRulebookVersion(LoyaltyError):
    """A new rulebook that names a version other than the next one."""

    def __init__(self, next_version: int, asked: object) -> None:
        super().__init__(
            f"The next rulebook version is {next_version}; the document asks for {asked}."
        )
        self.next_version = next_version
        self.asked = asked


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
