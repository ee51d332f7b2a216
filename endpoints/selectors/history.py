"""Reads over endpoint snapshots: the state at a time, and the changes over a range.

A snapshot holds from its `observed_at` until the next one, so the state at a time is the
latest snapshot at or before it. What differs between two states is `endpoints.state_diff`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max, Min, Q

from endpoints.models import Endpoint, EndpointSnapshot
from endpoints.state_diff import StateDiff, state_diff

TIMELINE_LIMIT = 200


@dataclass(frozen=True)
class TimelineEntry:
    """A snapshot in a range and what it changed relative to the state before it."""

    snapshot: EndpointSnapshot
    diff: StateDiff


def endpoint_state_at(*, endpoint: Endpoint, when: datetime) -> EndpointSnapshot | None:
    """The state the portal knew at `when`: the latest snapshot at or before it."""
    return (
        EndpointSnapshot.objects.filter(endpoint=endpoint, observed_at__lte=when)
        .order_by("-observed_at", "-id")
        .first()
    )


def endpoint_history(
    *, endpoint: Endpoint, start: datetime, end: datetime, limit: int = TIMELINE_LIMIT
) -> list[EndpointSnapshot]:
    """Snapshots observed in (start, end], oldest first: the changes that turn the state
    at `start` into the state at `end`. At most `limit`, the newest kept."""
    newest = EndpointSnapshot.objects.filter(
        endpoint=endpoint, observed_at__gt=start, observed_at__lte=end
    ).order_by("-observed_at", "-id")[:limit]
    return list(reversed(list(newest)))


def endpoint_timeline(
    *, endpoint: Endpoint, start: datetime, end: datetime, limit: int = TIMELINE_LIMIT
) -> list[TimelineEntry]:
    """Each snapshot in (start, end] with its diff from the one before it (two queries)."""
    snapshots = endpoint_history(endpoint=endpoint, start=start, end=end, limit=limit)
    if not snapshots:
        return []
    first = snapshots[0]
    previous = (
        EndpointSnapshot.objects.filter(endpoint=endpoint)
        .filter(
            Q(observed_at__lt=first.observed_at) | Q(observed_at=first.observed_at, id__lt=first.pk)
        )
        .order_by("-observed_at", "-id")
        .first()
    )
    entries = []
    for snapshot in snapshots:
        entries.append(
            TimelineEntry(snapshot=snapshot, diff=state_diff(before=previous, after=snapshot))
        )
        previous = snapshot
    return entries


def endpoint_first_snapshot(*, endpoint: Endpoint) -> EndpointSnapshot | None:
    """The oldest recorded state: before it, the portal knows nothing of this endpoint."""
    return EndpointSnapshot.objects.filter(endpoint=endpoint).order_by("observed_at", "id").first()


@dataclass(frozen=True)
class ConfigUse:
    """One endpoint config an endpoint has run, as the inventory saw it."""

    config_name: str
    first_seen: datetime
    last_seen: datetime
    current: bool


def endpoint_configs(*, endpoint: Endpoint, limit: int = 20) -> list[ConfigUse]:
    """The configs the endpoint has run, most recently seen first (one query)."""
    rows = (
        EndpointSnapshot.objects.filter(endpoint=endpoint)
        .exclude(config_name="")
        .values("config_name")
        .annotate(first_seen=Min("observed_at"), last_seen=Max("observed_at"))
        .order_by("-last_seen")[:limit]
    )
    return [
        ConfigUse(
            config_name=row["config_name"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
            current=row["config_name"] == endpoint.config_name,
        )
        for row in rows
    ]


def previous_config(*, endpoint: Endpoint) -> str:
    """The config the endpoint ran before its current one ("" when the inventory never saw
    another): what a rollback returns to."""
    snapshot = (
        EndpointSnapshot.objects.filter(endpoint=endpoint)
        .exclude(config_name__in=["", endpoint.config_name])
        .order_by("-observed_at", "-id")
        .first()
    )
    return snapshot.config_name if snapshot is not None else ""


def deploy_states(
    *, endpoint: Endpoint, config_name: str, at: datetime, settle: timedelta
) -> tuple[EndpointSnapshot, EndpointSnapshot] | None:
    """The states either side of a deploy to `config_name` made at `at`: the first state
    on that config within `settle` after it, and the last state on another config before
    that one. None when the inventory did not see both.

    CloudTrail's times are whole seconds: the first state on the new config is looked for
    from the start of the call's second, and the state before it is the last one on
    another config (not "at the call's time", which a sync in that same second would miss).
    """
    snapshots = EndpointSnapshot.objects.filter(endpoint=endpoint)
    after = (
        snapshots.filter(config_name=config_name, observed_at__gte=at, observed_at__lte=at + settle)
        .order_by("observed_at", "id")
        .first()
    )
    if after is None:
        return None
    before = (
        snapshots.filter(observed_at__lt=after.observed_at)
        .exclude(config_name=config_name)
        .order_by("-observed_at", "-id")
        .first()
    )
    return None if before is None else (before, after)
