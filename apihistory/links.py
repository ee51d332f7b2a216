"""Pairing CloudTrail events with what the portal did, without knowing what the portal does.

The API history pages mark each write call with the portal action behind it ("via portal:
traffic shift #12") or as made outside the portal. Those actions belong to apps above this
one (shifts, transforms), so the pairing is theirs to do: a *linker* takes a page of events
and returns a link for the ones it recognises. Linkers are registered from AppConfig.ready()
of the app that composes them (triage), and every page asks all of them, once per page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from apihistory.models import TrailEvent
from apihistory.parameters import Parameter, readable_parameters


@dataclass(frozen=True)
class PortalLink:
    """The portal action that made a CloudTrail event, and where its page is."""

    kind: str  # e.g. "shift", "transform"
    pk: object
    label: str
    url: str


@dataclass
class TrailRow:
    event: TrailEvent
    portal: PortalLink | None = None

    @property
    def outside_portal(self) -> bool:
        """A write nobody made through the portal (the CLI, CI, autoscaling, the console)."""
        return not self.event.read_only and self.portal is None

    @property
    def parameters(self) -> list[Parameter]:
        """The request as words, without the endpoint name every row on its tab shares."""
        return readable_parameters(self.event.request_parameters, leave_out=("endpointName",))


Linker = Callable[[Sequence[TrailEvent]], dict[int, PortalLink]]
_linkers: list[Linker] = []


def register_linker(linker: Linker) -> None:
    """Ask `linker` about every page of events from now on (once, however often called)."""
    if linker not in _linkers:
        _linkers.append(linker)


def rows_with_links(events: Sequence[TrailEvent]) -> list[TrailRow]:
    """Each event with the portal action behind it, if a linker knows one; the first linker
    to claim an event wins."""
    rows = [TrailRow(event=event) for event in events]
    for linker in _linkers:
        links = linker(events)
        for row in rows:
            if row.portal is None and row.event.pk in links:
                row.portal = links[row.event.pk]
    return rows
