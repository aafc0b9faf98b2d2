"""The five services, their default ports and where their code lives: the one list of them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    port: int

    @property
    def package(self) -> str:
        return f"services.{self.name}"

    @property
    def handlers_module(self) -> str:
        """Where the service declares its subscriptions (a ``subscriptions`` object)."""
        return f"{self.package}.handlers"


SERVICES: tuple[ServiceEntry, ...] = (
    ServiceEntry("profile", 8001),
    ServiceEntry("segmentation", 8002),
    ServiceEntry("engagement", 8003),
    ServiceEntry("ticketing", 8004),
    ServiceEntry("loyalty", 8005),
)

SERVICE_NAMES: tuple[str, ...] = tuple(entry.name for entry in SERVICES)
SERVICE_PORTS: dict[str, int] = {entry.name: entry.port for entry in SERVICES}


def service(name: str) -> ServiceEntry:
    for entry in SERVICES:
        if entry.name == name:
            return entry
    raise KeyError(f"no service named {name!r}")
