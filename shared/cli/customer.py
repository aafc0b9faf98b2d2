"""``loopcrm customer ID``: one customer as each service sees them, side by side (each service
learns from events: a difference between them is a lag, or a lost event, in plain sight)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.table import Table

from shared.cli.addresses import Host, Urls, service_addresses
from shared.cli.output import console

Lines = Callable[[Any], list[str]]


def customer(
    customer_id: Annotated[str, typer.Argument(metavar="ID", help="The customer's id.")],
    key: Annotated[
        str | None,
        typer.Option(
            envvar=["LOOPCRM_API_KEY", "LOOPCRM_DEV_API_KEY"],
            help="An API key with the read scopes (default: LOOPCRM_API_KEY).",
        ),
    ] = None,
    host: Host = "127.0.0.1",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 5.0,
    url: Urls = None,
) -> None:
    """The customer as profile, segmentation, engagement, ticketing and loyalty see them;
    exit 1 when none of them knows the customer."""
    if not key:
        raise typer.BadParameter("an API key is needed: --key or LOOPCRM_API_KEY")
    addresses = service_addresses(host, url)
    quoted = urllib.parse.quote(customer_id, safe="")
    views: list[tuple[str, str, Lines]] = [
        ("profile", f"/v1/customers/{quoted}", _profile),
        ("segmentation", f"/v1/customers/{quoted}/segment", _segment),
        ("engagement", f"/v1/customers/{quoted}/silence", _silence),
        ("ticketing", f"/v1/tickets?customer_id={quoted}&limit=20", _tickets),
        ("loyalty", f"/v1/customers/{quoted}/points", _points),
    ]
    table = Table("service", "what it knows", show_lines=True)
    known = 0
    for name, path, lines in views:
        status, body = _get(f"{addresses[name]}{path}", key, timeout)
        if status == 200:
            shown = lines(body)
            # Engagement answers "not silenced" for anyone: it does not tell whether it knows.
            known += bool(shown) and name != "engagement"
            table.add_row(name, "\n".join(shown) or "nothing yet")
        elif status == 404:
            table.add_row(name, "never heard of this customer")
        else:
            table.add_row(name, f"no answer ({body})")
    console().print(table)
    if not known:
        raise typer.Exit(1)


def _get(url: str, key: str, timeout: float) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, f"HTTP {refused.code}"
    except OSError as exc:
        return 0, f"unreachable: {exc}"


def _profile(c: dict[str, Any]) -> list[str]:
    activity = c.get("activity") or {}
    silence = c.get("silence") or {}
    return [
        f"name {c.get('name')}, registered {c.get('registered_at')}",
        f"consents {', '.join(k for k, v in c.get('consents', {}).items() if v) or 'none'}",
        f"tags {', '.join(c.get('tags', [])) or 'none'}",
        f"tier {c.get('tier')}, segment {c.get('segment')}, open tickets {c.get('open_tickets')}",
        f"silenced {silence.get('silenced')} until {silence.get('until')}",
        f"activity {json.dumps(activity, default=str)[:200]}",
    ]


def _segment(s: dict[str, Any]) -> list[str]:
    return [
        f"segment {s['segment']} since {s['since']}",
        f"recency {s['recency_days']} days, frequency {s['frequency']}, monetary {s['monetary']}",
    ]


def _silence(s: dict[str, Any]) -> list[str]:
    if not s.get("silenced"):
        return ["not silenced"]
    return [f"silenced until {s['until']} ({s['reason']}, ticket {s['ticket_id']})"]


def _tickets(page: dict[str, Any]) -> list[str]:
    return [
        f"{t['id']} {t['kind']}/{t['category']} {t['status']} {t['priority']} "
        f"(tier {t['tier']}, due {t['response_due_at']})"
        for t in page.get("items", [])
    ]


def _points(p: dict[str, Any]) -> list[str]:
    return [
        f"balance {p['balance']}, available {p['available']}, held {p['held']}, debt {p['debt']}",
        f"tier {p['tier']}, expiring within {p['expiring_window_days']} days "
        f"{p['expiring_30d_total']}",
    ]
