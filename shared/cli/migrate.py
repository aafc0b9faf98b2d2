"""``loopcrm migrate [SERVICE]``: apply each service's migrations to its own database (the one
its settings name: ``LOOPCRM_DATABASE_URL``, else SQLite under ``LOOPCRM_VAR_DIR``)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from shared.registry import SERVICE_NAMES, service
from shared.settings import ServiceSettings


def migrate(
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="SERVICE", help=f"One of {', '.join(SERVICE_NAMES)} (default: all)."
        ),
    ] = None,
) -> None:
    """Bring each service's database to its latest schema (alembic upgrade head)."""
    from shared.migrations import upgrade

    if name is not None and name not in SERVICE_NAMES:
        raise typer.BadParameter(f"{name!r} is not a service: {', '.join(SERVICE_NAMES)}")
    for chosen in [name] if name else SERVICE_NAMES:
        settings, migrations = _settings_of(chosen)
        url = settings.resolved_database_url()
        try:
            upgrade(migrations, url)
        except Exception as exc:  # the database's errors, whatever their class
            typer.echo(f"{chosen}: could not migrate: {exc}", err=True)
            raise typer.Exit(1) from exc
        shown = make_url(url).render_as_string(hide_password=True)
        typer.echo(f"{chosen}: at the latest schema ({shown})")


def _settings_of(name: str) -> tuple[ServiceSettings, Path]:
    package = service(name).package
    module = importlib.import_module(f"{package}.settings")
    settings_cls = next(
        value
        for key, value in vars(module).items()
        if key.endswith("Settings") and key != "ServiceSettings" and isinstance(value, type)
    )
    root = Path(importlib.import_module(package).__file__ or "").parent
    return settings_cls(), root / "migrations"
