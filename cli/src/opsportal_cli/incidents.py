"""``opsportal incidents``: the incident board."""

from __future__ import annotations

from typing import Any

import click

from opsportal_cli.context import json_option, list_options, listing, more_hint, show, when
from opsportal_cli.tables import Column, table

INCIDENT_COLUMNS: list[Column] = [
    ("id", lambda i: i.get("id")),
    ("state", lambda i: i.get("state")),
    ("endpoint", lambda i: i.get("endpoint_name")),
    ("owner", lambda i: i.get("owner")),
    ("opened", lambda i: when(i.get("opened_at"))),
    ("title", lambda i: i.get("title")),
]


def render_incidents(page: dict[str, Any]) -> str:
    items = page.get("items") or []
    return table(items, INCIDENT_COLUMNS) if items else "No incidents."


@click.group()
def incidents() -> None:
    """Incidents on the board."""


@incidents.command("list")
@click.option(
    "--state",
    default="",
    help="Only incidents in this state: open, acknowledged, mitigated or resolved.",
)
@click.option("--endpoint", default="", help="Only incidents on the endpoint of this name.")
@list_options
@json_option
def incidents_list(
    state: str, endpoint: str, limit: int, cursor: str, every: bool, as_json: bool
) -> None:
    """List incidents, newest first."""
    filters = {"state": state, "endpoint": endpoint}
    page = listing("incidents", filters, limit=limit, cursor=cursor, every=every)
    show(page, as_json, render_incidents)
    if not as_json:
        more_hint(page)
