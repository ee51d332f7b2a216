"""Reads over endpoint snapshots: the state at a time, the timeline, and the times the
"What changed" page compares by default.

A snapshot holds from its `observed_at` until the next one, so the state at a time is the
latest snapshot at or before it. What differs between two states is `endpoints.state_diff`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Min, Q

from endpoints.models import Endpoint, EndpointSnapshot
from endpoints.state_diff import StateDiff, state_diff

TIMELINE_LIMIT = 200
INCIDENT_LEAD = timedelta(hours=1)
DEFAULT_LOOKBACK = timedelta(hours=24)


@dataclass(frozen=True)
class TimelineEntry:
    """A snapshot in a range and what it changed relative to the state before it."""

    snapshot: EndpointSnapshot
    diff: StateDiff


@dataclass(frozen=True)
class ComparisonWindow:
    """The two times a "What changed" page compares, and why those times."""

    start: datetime
    end: datetime
    basis: str  # "chosen", "incident" or "day": where `start` came from
    end_is_now: bool = True
    incident_at: datetime | None = None

    @property
    def basis_text(self) -> str:
        """Says which default was used, so nobody mistakes a guess for their choice."""
        to = "now" if self.end_is_now else "the chosen 'to' time"
        if self.basis == "incident" and self.incident_at is not None:
            return (
                f"Default: {to} compared with one hour before the first alarm of the current "
                f"incident (in ALARM since {self.incident_at:%Y-%m-%d %H:%M:%S} UTC)."
            )
        if self.basis == "day":
            reason = (
                "no alarm of this endpoint is in ALARM"
                if self.incident_at is None
                else "the current incident began after it"
            )
            return f"Default: {to} compared with 24 hours earlier ({reason})."
        if self.end_is_now:
            return "Comparing the 'from' time you chose with now."
        return "Comparing the times you chose."


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


def incident_started_at(*, endpoint: Endpoint) -> datetime | None:
    """When the current incident began: the earliest state change among this endpoint's
    alarms that are in ALARM now (None when none is)."""
    from monitoring.models import Alarm

    return Alarm.objects.filter(
        account_id=endpoint.account_id,
        region=endpoint.region,
        endpoint_name=endpoint.name,
        state="ALARM",
    ).aggregate(first=Min("state_updated_at"))["first"]


def comparison_window(
    *,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
    incident_at: datetime | None,
) -> ComparisonWindow:
    """Fill in the times not chosen: `end` is now; `start` is one hour before the first
    alarm of the current incident (the change that caused it usually came shortly before),
    else 24 hours before `end`."""
    end_is_now = end is None
    end = end or now
    if start is not None:
        return ComparisonWindow(start=start, end=end, basis="chosen", end_is_now=end_is_now)
    if incident_at is not None and incident_at - INCIDENT_LEAD < end:
        return ComparisonWindow(
            start=incident_at - INCIDENT_LEAD,
            end=end,
            basis="incident",
            end_is_now=end_is_now,
            incident_at=incident_at,
        )
    return ComparisonWindow(
        start=end - DEFAULT_LOOKBACK,
        end=end,
        basis="day",
        end_is_now=end_is_now,
        incident_at=incident_at,
    )
