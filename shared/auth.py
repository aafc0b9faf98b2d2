"""API keys with scopes: `Authorization: Bearer <key>`, kept only as SHA-256 digests in memory."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, params

from shared.errors import ApiError
from shared.settings import ApiKeyConfig

ALL_SCOPES = "*"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return ALL_SCOPES in self.scopes or "admin" in self.scopes or scope in self.scopes


class KeyRing:
    def __init__(self, keys: Iterable[ApiKeyConfig], dev_key: str | None = None) -> None:
        self._by_digest: dict[str, Principal] = {}
        for config in keys:
            key_digest = config.key_sha256 or (digest(config.key) if config.key else None)
            if not key_digest:
                raise ValueError(f"API key {config.name!r} has neither key nor key_sha256")
            self._by_digest[key_digest.lower()] = Principal(config.name, frozenset(config.scopes))
        if dev_key:
            self._by_digest[digest(dev_key)] = Principal("dev", frozenset({ALL_SCOPES}))

    def authenticate(self, presented: str) -> Principal | None:
        presented_digest = digest(presented)
        for known_digest, principal in self._by_digest.items():
            if hmac.compare_digest(known_digest, presented_digest):
                return principal
        return None


def require(scope: str, *alternatives: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency that admits a request whose key carries ``scope`` or one of the
    ``alternatives`` (or admin)."""
    scopes = (scope, *alternatives)

    async def dependency(request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401, "unauthenticated", "Send an API key as 'Authorization: Bearer <key>'."
            )
        keyring: KeyRing = request.app.state.keyring
        principal = keyring.authenticate(token.strip())
        if principal is None:
            raise ApiError(401, "unauthenticated", "The API key is not valid.")
        if not any(principal.allows(s) for s in scopes):
            raise ApiError(403, "forbidden", f"The API key lacks the scope {scope!r}.")
        return principal

    return dependency


def scope_dependencies(service: str) -> tuple[params.Depends, params.Depends]:
    """The read and write dependencies of a service's routes: ``READ, WRITE =
    scope_dependencies("ticketing")``, then ``dependencies=[READ]`` on a router or route."""
    return Depends(require(f"{service}:read")), Depends(require(f"{service}:write"))


AdminDep = Annotated[Principal, Depends(require("admin"))]
"""A route parameter admitting only an admin key (rulebook and policy changes)."""
