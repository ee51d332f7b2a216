"""What other apps add to the endpoint pages: tabs, panels in the header or on the
Configuration tab, and columns of the endpoint list.

The endpoint pages belong to this app, but most of what an endpoint shows comes from apps
above it (metrics, Model Monitor, shifts, CloudTrail, triage). Each of those registers its
tab or panel here from its AppConfig.ready(), as NetBox's `register_model_view` and
`ViewTab` do, so `endpoints` imports none of them and a new app adds a tab without
touching this one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.roles import Role, has_role


@dataclass(frozen=True)
class EndpointTab:
    """One tab of the endpoint pages. `key` is the `tab` a view puts in its context to be
    the current one; `url_name` is reversed with the endpoint's pk."""

    key: str
    label: str
    url_name: str
    order: int
    # Whether a user may open it (the owning app's policy); everyone who may read may.
    allowed: Callable[[Any], bool] = lambda user: has_role(user, Role.VIEWER)
    # Whether the endpoint has it at all (no real-time test invoke on an asynchronous one).
    shown: Callable[[Any], bool] = lambda endpoint: True


@dataclass(frozen=True)
class EndpointPanel:
    """A fragment another app renders on the endpoint pages. `slot` is "header" (above the
    tabs, on every tab) or "detail" (the Configuration tab); `context(endpoint, user)`
    returns the template's context, or None to show nothing."""

    key: str
    slot: str
    template: str
    context: Callable[[Any, Any], dict[str, Any] | None]
    order: int


@dataclass(frozen=True)
class EndpointListColumn:
    """A column of the endpoint list that another app fills after the page has loaded.

    The list itself never waits on AWS: each row gets an empty cell `<key>-<pk>`, and one
    request to `url_name` (reversed without arguments, given `?ids=` the page's endpoint
    pks) answers every cell of the page at once, as htmx out-of-band swaps."""

    key: str
    label: str
    url_name: str
    order: int


SLOTS = ("header", "detail")
_tabs: dict[str, EndpointTab] = {}
_panels: dict[str, EndpointPanel] = {}
_list_columns: dict[str, EndpointListColumn] = {}


def register_tab(tab: EndpointTab) -> None:
    """Add (or, registered again under the same key, replace) a tab."""
    _tabs[tab.key] = tab


def register_panel(panel: EndpointPanel) -> None:
    """Add (or replace) a panel."""
    if panel.slot not in SLOTS:
        raise ValueError(f"unknown endpoint panel slot {panel.slot!r}; use one of {SLOTS}")
    _panels[panel.key] = panel


def register_list_column(column: EndpointListColumn) -> None:
    """Add (or replace) a column of the endpoint list."""
    _list_columns[column.key] = column


def list_columns() -> list[EndpointListColumn]:
    return sorted(_list_columns.values(), key=lambda c: (c.order, c.key))


def tabs_for(user: Any, endpoint: Any = None) -> list[EndpointTab]:
    """The tabs `user` may open (of `endpoint`'s, when given), in order."""
    return sorted(
        (t for t in _tabs.values() if t.allowed(user) and (endpoint is None or t.shown(endpoint))),
        key=lambda t: (t.order, t.key),
    )


def panels_for(slot: str) -> list[EndpointPanel]:
    return sorted((p for p in _panels.values() if p.slot == slot), key=lambda p: (p.order, p.key))
