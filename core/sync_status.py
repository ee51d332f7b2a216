"""Recording and reading how each sync of AWS data is doing (the SyncStatus table).

Every beat sync (inventory, alarms, Model Monitor, CloudTrail, batch jobs) ends with one
call here: `sync_succeeded` or `sync_failed`. Pages read it to say "synced 42 s ago", to
show the last good data marked stale, and for the one banner every page carries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from core.models import SyncKind, SyncStatus
from core.targets import Target, target_regions

MAX_ERROR = 2000


def sync_succeeded(
    *,
    kind: str,
    target: Target,
    region: str,
    at: datetime | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """A sync of `kind` in the target-region worked: it is fresh as of `at`."""
    at = at or timezone.now()
    values: dict[str, Any] = {
        "last_attempt_at": at,
        "last_success_at": at,
        "failing_since": None,
        "last_error_kind": "",
        "last_error": "",
    }
    if detail is not None:
        values["detail"] = detail
    SyncStatus.objects.update_or_create(
        kind=kind, target=target.name, region=region, defaults=values
    )


def sync_failed(
    *, kind: str, target: Target, region: str, error: Exception, at: datetime | None = None
) -> None:
    """A sync failed: record why, and since when it has been failing (the first failure of
    a run of failures, so the banner says how long the data has been stale)."""
    at = at or timezone.now()
    status, _ = SyncStatus.objects.get_or_create(kind=kind, target=target.name, region=region)
    status.last_attempt_at = at
    status.failing_since = status.failing_since or at
    status.last_error_kind = type(error).__name__
    status.last_error = str(error)[:MAX_ERROR]
    status.save()


def sync_status(*, kind: str, target: str, region: str) -> SyncStatus | None:
    """The stored status of one kind of sync in one target-region, if it ever ran."""
    return SyncStatus.objects.filter(kind=kind, target=target, region=region).first()


def sync_statuses(*, kind: str) -> list[SyncStatus]:
    """Every configured target-region's status for `kind`, in configuration order; a
    target-region never synced is an unsaved row with no times ("never synced")."""
    stored = {(s.target, s.region): s for s in SyncStatus.objects.filter(kind=kind)}
    return [
        stored.get((target.name, region))
        or SyncStatus(kind=kind, target=target.name, region=region)
        for target, region in target_regions()
    ]


def sync_outages() -> list[SyncStatus]:
    """Every sync of a configured target-region that is failing now, whatever its kind:
    the stale-data banner on every page (one indexed query)."""
    configured = {(target.name, region) for target, region in target_regions()}
    order = list(SyncKind.values)
    failing = [
        s
        for s in SyncStatus.objects.filter(failing_since__isnull=False)
        if (s.target, s.region) in configured
    ]
    return sorted(
        failing,
        key=lambda s: (s.target, s.region, order.index(s.kind) if s.kind in order else 99),
    )
