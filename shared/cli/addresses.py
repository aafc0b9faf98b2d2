"""Where each service answers: its default port on ``--host``, or ``--url NAME=URL``."""

from __future__ import annotations

from typing import Annotated

import typer

from shared.registry import SERVICES

Host = Annotated[str, typer.Option(help="Where the services listen.")]
Urls = Annotated[
    list[str] | None,
    typer.Option("--url", help="A service elsewhere than its default port: NAME=URL (repeatable)."),
]


def service_addresses(host: str, urls: list[str] | None) -> dict[str, str]:
    addresses = {entry.name: f"http://{host}:{entry.port}" for entry in SERVICES}
    for given in urls or []:
        name, _, address = given.partition("=")
        if name not in addresses or not address:
            raise typer.BadParameter(f"{given!r}: NAME=URL, NAME one of {', '.join(addresses)}")
        addresses[name] = address.rstrip("/")
    return addresses
