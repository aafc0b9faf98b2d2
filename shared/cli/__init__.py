"""``loopcrm``: run the platform locally and do the daily work against it.

Exit codes: 0 done, 1 the work failed (a service not ready, the broker unreachable), 2 the
command line or its input is wrong.
"""

from __future__ import annotations

import asyncio
from importlib.metadata import version as installed_version
from typing import Annotated

import typer

from shared.cli import customer, demo, dlq, emit, migrate, status
from shared.cli.addresses import Bootstrap, broker_address

app = typer.Typer(
    name="loopcrm",
    help="The closed-loop CRM: run it locally, send it events, see how it is doing.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"loopcrm {installed_version('loopcrm')}")
        raise typer.Exit()


@app.callback()
def loopcrm(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """The closed-loop CRM: run it locally, send it events, see how it is doing."""


@app.command(short_help="Run the broker and the five services locally.")
def up(
    var_dir: Annotated[str, typer.Option(help="Databases and logs.")] = "var",
    ready_timeout: Annotated[float, typer.Option(help="Seconds to wait for /readyz.")] = 60.0,
) -> None:
    """Start the embedded broker and the five services; Ctrl-C stops them all."""
    from shared.launcher import Launcher

    raise typer.Exit(Launcher(var_dir=var_dir, ready_timeout=ready_timeout).run())


@app.command(short_help="Create every topic and its dead-letter topic.")
def topics(
    bootstrap: Bootstrap = None,
    partitions: Annotated[int, typer.Option(min=1, help="Partitions of each new topic.")] = 3,
) -> None:
    """Create every catalogue topic and its .dlq (those that exist are left alone)."""
    from shared.messaging.topics import ensure_topics

    address = broker_address(bootstrap)
    created = asyncio.run(ensure_topics(address, partitions=partitions))
    typer.echo(f"{len(created)} topics created on {address}")


app.command(short_help="Fill the stack with a simulated storefront's life.")(demo.demo)
app.command(short_help="Publish one event, checked against the catalogue.")(emit.emit)
app.command(short_help="Readiness, lag and outbox backlog of each service.")(status.status)
app.command(short_help="One customer as each service sees them.")(customer.customer)
app.command(short_help="Bring each service's database to its latest schema.")(migrate.migrate)
app.add_typer(dlq.app, name="dlq", short_help="List dead letters and send them back.")


def main(argv: list[str] | None = None) -> int:
    """The console script: run a command, answer its exit code."""
    try:
        result = app(args=argv, prog_name="loopcrm", standalone_mode=False)
    except typer.Exit as done:
        return done.exit_code
    except Exception as failure:  # click's usage errors and aborts
        code = getattr(failure, "exit_code", 1)
        show = getattr(failure, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"loopcrm: {failure}", err=True)
        return int(code)
    return result if isinstance(result, int) else 0
