"""CloudTrail ingestion: SageMaker management events into TrailEvent rows.

CloudTrail keeps 90 days and answers LookupEvents at 2 requests a second per account and
region, 50 events a call, newest first. The beat task therefore reads, per account-region,
only the window since the newest event already stored, less an overlap: events are
delivered minutes after they happen, so one can appear with a time older than the newest
already read. Rows are keyed by CloudTrail's event id, so overlaps and repeated imports
store nothing twice. Every call waits for a slot from the shared limiter
(`apihistory.rate_limit`); a ThrottlingException (someone else calling too) is waited out
and the same page asked again, so throttling delays ingestion but never loses events.

TrailEvent mirrors AWS data and is not audited row by row: bulk inserts are fine here.
Each page is stored as it arrives rather than in one transaction per run: a run lasts
minutes, and a long write transaction would hold SQLite's only writer slot all along.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from apihistory import rate_limit
from apihistory.models import IngestCursor
from apihistory.services.storage import event_times, store_records
from audit.services import Outcome, audit_record
from core.aws import cloudtrail as aws_cloudtrail
from core.aws.errors import AwsError, Throttled
from core.aws.types import TrailPage
from core.models import SyncKind
from core.sync_status import sync_failed, sync_succeeded
from core.targets import Target, target_regions

logger = logging.getLogger(__name__)

RETENTION = timedelta(days=90)  # LookupEvents sees no further back
# After a ThrottlingException: wait BASE, 2*BASE, ... (at most CAP, jittered) and ask again.
THROTTLE_RETRIES = 8
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
# The ingest lock outlives a run's budget by this much before Redis lets it go.
LOCK_SLACK_SECONDS = 300


@dataclass
class IngestResult:
    """What one ingest or backfill of one account-region did."""

    target: str
    region: str
    start: datetime | None = None
    end: datetime | None = None
    pages: int = 0
    read: int = 0
    stored: int = 0
    throttled: int = 0
    complete: bool = False
    skipped: bool = False
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def summary(self) -> str:
        where = f"{self.target}/{self.region}"
        if self.skipped:
            return f"{where}: skipped, another ingest of this account-region is running"
        counts = (
            f"{self.read} events read in {self.pages} LookupEvents calls, "
            f"{self.stored} new, {self.throttled} throttled"
        )
        if self.error:
            return f"{where}: FAILED {self.error} ({counts}; the cursor did not move)"
        rest = "" if self.complete else "; out of time, the rest is read by the next run"
        return f"{where}: {counts}{rest}"


@dataclass(frozen=True)
class _Window:
    complete: bool
    newest: datetime | None
    oldest: datetime | None


def _cursor(target: Target, region: str) -> IngestCursor:
    cursor, _ = IngestCursor.objects.get_or_create(
        account_id=target.account_id, region=region, defaults={"target": target.name}
    )
    if cursor.target != target.name:
        IngestCursor.objects.filter(pk=cursor.pk).update(target=target.name)
    return cursor


def _backoff(attempt: int) -> float:
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt) * random.uniform(0.5, 1)


def _fetch(
    *,
    target: Target,
    region: str,
    start: datetime,
    end: datetime,
    token: str | None,
    result: IngestResult,
) -> TrailPage:
    """One page through the shared limiter; throttling is waited out and the very same
    page (same query, same token) asked again, so nothing is skipped."""
    key = rate_limit.lookup_key(target.account_id, region)
    for attempt in range(THROTTLE_RETRIES + 1):
        try:
            page = aws_cloudtrail.lookup_events(
                target=target,
                region=region,
                start=start,
                end=end,
                next_token=token,
                pace=lambda: rate_limit.acquire(key),
            )
        except Throttled:
            result.throttled += 1
            if attempt == THROTTLE_RETRIES:
                raise
            time.sleep(_backoff(attempt))
            continue
        result.pages += 1
        return page
    raise AssertionError("unreachable")


def _read_window(
    *,
    target: Target,
    region: str,
    start: datetime,
    end: datetime,
    deadline: float,
    result: IngestResult,
) -> _Window:
    """Page [start, end] newest first, storing each page, until done or past the deadline
    (checked between pages, after at least one, so every run makes progress)."""
    token: str | None = None
    newest: datetime | None = None
    oldest: datetime | None = None
    while True:
        page = _fetch(
            target=target, region=region, start=start, end=end, token=token, result=result
        )
        result.read += len(page.records)
        # LookupEvents answers newest first; stored oldest first, ids follow CloudTrail's
        # order, which is the only order there is between calls in the same second.
        oldest_first = list(reversed(page.records))
        result.stored += store_records(target=target, records=oldest_first, region=region)[0]
        times = event_times(page.records)
        if times:
            newest = max(times) if newest is None else max(newest, *times)
            oldest = min(times) if oldest is None else min(oldest, *times)
        token = page.next_token
        if not token:
            return _Window(True, newest, oldest)
        if time.monotonic() >= deadline:
            return _Window(False, newest, oldest)


def _next_start(cursor: IngestCursor, end: datetime) -> datetime:
    """Where the next window begins: the newest stored event less the overlap, or (first
    run) INITIAL_DAYS back; never before CloudTrail's 90 days, never after `end`."""
    if cursor.newest_event_time is not None:
        start = cursor.newest_event_time - timedelta(
            seconds=settings.OPSPORTAL_CLOUDTRAIL_OVERLAP_SECONDS
        )
    else:
        start = end - timedelta(days=settings.OPSPORTAL_CLOUDTRAIL_INITIAL_DAYS)
    return min(max(start, end - RETENTION), end)


def _advance(cursor_id: int, newest: datetime | None) -> None:
    """Move newest_event_time forward only: a concurrent backfill may have moved it too."""
    if newest is None:
        return
    IngestCursor.objects.filter(pk=cursor_id).filter(
        Q(newest_event_time__isnull=True) | Q(newest_event_time__lt=newest)
    ).update(newest_event_time=newest)


def _record_failure(cursor_id: int, *, stored: int) -> None:
    """Count what a failed run still stored (each page is kept as it arrives)."""
    IngestCursor.objects.filter(pk=cursor_id).update(events_stored=F("events_stored") + stored)


def trail_ingest(
    *,
    target: Target,
    region: str,
    until: datetime | None = None,
    budget_seconds: float | None = None,
) -> IngestResult:
    """Read one account-region's new SageMaker events, from the cursor (less the overlap)
    to `until` (default now), and move the cursor once that window is read.

    Runs at most once at a time per account-region (a second run returns `skipped`). Stops
    between pages after `budget_seconds` (default OPSPORTAL_CLOUDTRAIL_RUN_SECONDS, below
    the task time limit) and leaves the unread older part of the window as the cursor's
    backlog, so a backlog larger than one run still drains instead of restarting forever.
    An AWS failure is recorded on the cursor (pages show stale data with the error), the
    cursor stays where it was, and nothing is raised.
    """
    result = IngestResult(target=target.name, region=region)
    budget = settings.OPSPORTAL_CLOUDTRAIL_RUN_SECONDS if budget_seconds is None else budget_seconds
    key = rate_limit.lookup_key(target.account_id, region)
    started = timezone.now()
    cursor = _cursor(target, region)
    try:
        with rate_limit.exclusive(key, timeout=int(budget) + LOCK_SLACK_SECONDS) as held:
            if not held:
                result.skipped = True
                return result
            _ingest_locked(
                target=target,
                region=region,
                end=until or started,
                deadline=time.monotonic() + budget,
                result=result,
            )
    except (AwsError, rate_limit.LimiterUnavailable) as exc:
        result.error = str(exc)
        _record_failure(cursor.pk, stored=result.stored)
        sync_failed(kind=SyncKind.CLOUDTRAIL, target=target, region=region, error=exc, at=started)
        logger.warning("CloudTrail ingest %s/%s failed: %s", target.name, region, exc)
    return result


def _ingest_locked(
    *, target: Target, region: str, end: datetime, deadline: float, result: IngestResult
) -> None:
    cursor = _cursor(target, region)  # re-read under the lock: the previous run's cursor
    started = timezone.now()
    IngestCursor.objects.filter(pk=cursor.pk).update(last_run_at=started)
    start = _next_start(cursor, end)
    result.start, result.end = start, end
    fresh = _read_window(
        target=target, region=region, start=start, end=end, deadline=deadline, result=result
    )
    backlog: tuple[datetime, datetime] | None = None
    if cursor.backlog_start is not None and cursor.backlog_end is not None:
        backlog = (cursor.backlog_start, cursor.backlog_end)
    if not fresh.complete:
        unread_end = fresh.oldest or end
        backlog = (
            (min(start, backlog[0]), max(unread_end, backlog[1]))
            if backlog
            else (start, unread_end)
        )
    elif backlog is not None:
        older = _read_window(
            target=target,
            region=region,
            start=backlog[0],
            end=backlog[1],
            deadline=deadline,
            result=result,
        )
        backlog = None if older.complete else (backlog[0], older.oldest or backlog[1])
    result.complete = backlog is None
    sync_succeeded(kind=SyncKind.CLOUDTRAIL, target=target, region=region)
    IngestCursor.objects.filter(pk=cursor.pk).update(
        events_stored=F("events_stored") + result.stored,
        backlog_start=backlog[0] if backlog else None,
        backlog_end=backlog[1] if backlog else None,
    )
    _advance(cursor.pk, fresh.newest)


def trail_ingest_configured() -> list[IngestResult]:
    """Ingest every configured target-region in turn (the command's default job)."""
    return [trail_ingest(target=target, region=region) for target, region in target_regions()]


def trail_backfill(
    *, target: Target, region: str, since: datetime, until: datetime | None = None
) -> IngestResult:
    """Read [since, until or now] whole, for history older than the cursor (a new install,
    a long outage). It shares the limiter with the beat task but not its lock, so both
    can run; rows are de-duplicated by event id either way.

    When the window covers where the next regular run would start, the cursor moves to its
    newest event, and a backlog it covers is cleared, so that work is not done twice.
    """
    end = until or timezone.now()
    start = min(max(since, end - RETENTION), end)
    result = IngestResult(target=target.name, region=region, start=start, end=end)
    try:
        window = _read_window(
            target=target,
            region=region,
            start=start,
            end=end,
            deadline=float("inf"),
            result=result,
        )
    except (AwsError, rate_limit.LimiterUnavailable) as exc:
        result.error = str(exc)
    else:
        result.complete = True
        cursor = _cursor(target, region)
        IngestCursor.objects.filter(pk=cursor.pk).update(
            events_stored=F("events_stored") + result.stored
        )
        if start <= _next_start(cursor, end):
            _advance(cursor.pk, window.newest)
        IngestCursor.objects.filter(
            pk=cursor.pk, backlog_start__gte=start, backlog_end__lte=end
        ).update(backlog_start=None, backlog_end=None)
    audit_record(
        actor=None,
        action="cloudtrail.backfill",
        target=f"{target.name}/{target.account_id}/{region}",
        after={
            "since": start.isoformat(),
            "until": end.isoformat(),
            "read": result.read,
            "stored": result.stored,
        },
        outcome=Outcome.FAILED if result.error else Outcome.OK,
        error=result.error,
    )
    return result
