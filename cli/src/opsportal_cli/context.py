"""What every command needs: the portal's address and token, an API client made from them
on first use, and the ``--json``/table choice."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import click

from opsportal_cli.client import Api, Failure

URL_VARIABLE = "OPSPORTAL_URL"
TOKEN_VARIABLE = "OPSPORTAL_TOKEN"


@dataclass
class Portal:
    """The portal this invocation talks to, from ``--url``/``--token`` or the environment."""

    url: str
    token: str
    _api: Api | None = field(default=None, repr=False)

    def api(self) -> Api:
        """The API client, checked for what it needs before the first request (so a missing
        variable is said as such, not as a 401 or a bad URL)."""
        if self._api is None:
            if not self.url:
                raise Failure(
                    f"no portal address: set {URL_VARIABLE} (e.g. https://opsportal.example.com) "
                    "or pass --url"
                )
            if not self.url.startswith(("http://", "https://")):
                raise Failure(
                    f"the portal address {self.url!r} must begin with http:// or https:// "
                    f"({URL_VARIABLE} or --url)"
                )
            if not self.token:
                raise Failure(f"no API token: set {TOKEN_VARIABLE} (or pass --token)")
            self._api = Api(self.url, self.token)
        return self._api

    def absolute(self, url: str) -> str:
        """A root-relative page URL from the API, made clickable with the portal's address."""
        if url.startswith("/"):
            return self.url.rstrip("/") + url
        return url

    def close(self) -> None:
        if self._api is not None:
            self._api.close()


def portal() -> Portal:
    """The current invocation's portal (set up by the `opsportal` group)."""
    context = click.get_current_context(silent=True)
    found = context.find_object(Portal) if context else None
    return found or Portal("", "")


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the API's JSON as is, for scripts."
)


def show(data: Any, as_json: bool, render: Callable[[Any], str]) -> None:
    """The API's JSON for scripts, or the rendering for people, on stdout."""
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(render(data))


def when(value: Any) -> str:
    """An API timestamp as ``2026-12-04 16:07:55 UTC``, to the second; anything it cannot
    read as is."""
    if not isinstance(value, str) or not value:
        return "" if value is None else str(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def list_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--limit``, ``--cursor`` and ``--all`` for the API's cursor-paged lists."""
    function = click.option(
        "--all", "every", is_flag=True, help="Follow the pages to the end of the list."
    )(function)
    function = click.option(
        "--cursor", default="", metavar="CURSOR", help="Start at this page (from a previous one)."
    )(function)
    function = click.option(
        "--limit",
        type=click.IntRange(1, 200),
        default=50,
        show_default=True,
        help="Rows per page.",
    )(function)
    return function


def listing(
    path: str, filters: dict[str, Any], *, limit: int, cursor: str, every: bool
) -> dict[str, Any]:
    """One page of a list (or every page, joined, with ``--all``), in the API's shape."""
    api = portal().api()
    params = {**filters, "limit": limit, "cursor": cursor}
    if not every:
        page = api.get(path, params)
        return page if isinstance(page, dict) else {"items": [], "next_cursor": None}
    items: list[Any] = []
    for page in api.pages(path, params):
        items.extend(page.get("items") or [])
    return {"items": items, "next_cursor": None}


def more_hint(page: dict[str, Any]) -> None:
    """Tell a person, on stderr, that the list goes on and how to see the rest."""
    cursor = page.get("next_cursor")
    if cursor:
        click.echo(f"(more: add --cursor {cursor} for the next page, or --all)", err=True)
