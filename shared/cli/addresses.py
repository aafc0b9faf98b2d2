"""Where the broker answers (``--bootstrap``, else the services' setting) and each service
(its port on ``--host``: ``LOOPCRM_<SERVICE>_PORT`` as ``loopcrm up`` reads it, else the
default; or ``--url NAME=URL``)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from shared.registry import SERVICES

Bootstrap = Annotated[
    str | None, typer.Option(help="Broker address (default: LOOPCRM_KAFKA_BOOTSTRAP).")
]
Host = Annotated[str, typer.Option(help="Where the services listen.")]
Urls = Annotated[
    list[str] | None,
    typer.Option("--url", help="A service elsewhere than its default port: NAME=URL (repeatable)."),
]


def _port(name: str, default: int) -> str:
    return os.environ.get(f"LOOPCRM_{name.upper()}_PORT") or str(default)


def service_addresses(host: str, urls: list[str] | None) -> dict[str, str]:
    addresses = {entry.name: f"http://{host}:{_port(entry.name, entry.port)}" for entry in SERVICES}
    for given in urls or []:
        name, _, address = given.partition("=")
        if name not in addresses or not address:
            raise typer.BadParameter(f"{given!r}: NAME=URL, NAME one of {', '.join(addresses)}")
        addresses[name] = address.rstrip("/")
    return addresses


def broker_address(given: str | None) -> str:
    """``--bootstrap``, else the broker the services are configured with."""
    if given:
        return given
    from shared.settings import ServiceSettings

    return ServiceSettings().kafka_bootstrap
