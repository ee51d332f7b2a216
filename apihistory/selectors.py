"""Reads of the stored CloudTrail history: the filtered page, one event, an endpoint's
changes, and the links between CloudTrail events and what the portal itself did.

Pages are keyset-paginated on (event_time, id), newest first, so any page costs one
indexed query however deep it is; no page counts the whole match, because a count over a
million rows is what makes a search slow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet

from apihistory.models import IngestCursor, TrailEvent
from apihistory.search import matching_words, query_words
from core.models import SyncKind, SyncStatus
from core.paging import Keyset, Position
from core.sync_status import sync_statuses
from endpoints.models import Endpoint
from shifts.models import ShiftProposal
from transforms.models import TransformJob, TransformSource

PAGE_SIZE = 50
# A shift whose request id is unknown (the update timed out) is matched by endpoint and
# time instead: its UpdateEndpointWeightsAndCapacities is the one sent around update_sent_at.
SHIFT_MATCH_WINDOW = timedelta(minutes=2)
_SHIFT_EVENT = "UpdateEndpointWeightsAndCapacities"
_TRANSFORM_EVENTS = ("CreateTransformJob", "StopTransformJob")
_CHOICES_CACHE_SECONDS = 300


# Newest first by event time; calls in the same second keep the order they were stored in.
TRAIL_KEYSET = Keyset(time_field="event_time")


@dataclass(frozen=True)
class TrailFilters:
    start: datetime | None = None
    end: datetime | None = None
    event_names: tuple[str, ...] = ()
    principal: str = ""
    endpoint: str = ""
    errors_only: bool = False
    writes_only: bool = False
    text: str = ""

    @property
    def any(self) -> bool:
        return any(
            (
                self.start,
                self.end,
                self.event_names,
                self.principal,
                self.endpoint,
                self.errors_only,
                self.writes_only,
                self.text,
            )
        )


@dataclass(frozen=True)
class PortalLink:
    """What the portal did that produced a CloudTrail event."""

    kind: str  # "shift" or "transform"
    pk: object
    label: str


@dataclass
class TrailRow:
    event: TrailEvent
    portal: PortalLink | None = None

    @property
    def outside_portal(self) -> bool:
        """A write nobody made through the portal (the CLI, CI, autoscaling, the console)."""
        return not self.event.read_only and self.portal is None


@dataclass(frozen=True)
class TrailPage:
    rows: list[TrailRow]
    newer_than: str | None  # pass as ?after= to see the newer page, if any
    older_than: str | None  # pass as ?before= to see the older page, if any


def trail_events_filtered(*, filters: TrailFilters) -> QuerySet[TrailEvent]:
    qs = TrailEvent.objects.all()
    if filters.start:
        qs = qs.filter(event_time__gte=filters.start)
    if filters.end:
        qs = qs.filter(event_time__lt=filters.end)
    if filters.event_names:
        qs = qs.filter(event_name__in=filters.event_names)
    if filters.principal:
        qs = qs.filter(Q(principal_name=filters.principal) | Q(principal_arn=filters.principal))
    if filters.endpoint:
        qs = qs.filter(endpoint_name=filters.endpoint)
    if filters.errors_only:
        qs = qs.exclude(error_code="")
    if filters.writes_only:
        qs = qs.filter(read_only=False)
    return matching_words(qs, query_words(filters.text))


def trail_events_page(
    *,
    filters: TrailFilters,
    before: Position | None = None,
    after: Position | None = None,
    page_size: int = PAGE_SIZE,
) -> TrailPage:
    """One page, newest first. `before` pages towards older events, `after` towards newer."""
    page = TRAIL_KEYSET.page(
        trail_events_filtered(filters=filters), before=before, after=after, size=page_size
    )
    return TrailPage(
        rows=with_portal_links(events=page.items),
        newer_than=page.newer_than,
        older_than=page.older_than,
    )


def with_portal_links(*, events: list[TrailEvent]) -> list[TrailRow]:
    """Pair each event with the portal action behind it, in two queries for any page.

    A traffic shift is matched by the AWS request id the portal recorded when it sent the
    update, else by endpoint and time; a batch job by its name, which the portal derives
    from its own row.
    """
    rows = [TrailRow(event=event) for event in events]
    shift_rows = [r for r in rows if r.event.event_name == _SHIFT_EVENT and not r.event.failed]
    if shift_rows:
        _link_shifts(shift_rows)
    job_rows = [
        r for r in rows if r.event.event_name in _TRANSFORM_EVENTS and r.event.resource_name
    ]
    if job_rows:
        jobs = {
            (job.account_id, job.region, job.name): job
            for job in TransformJob.objects.filter(
                source=TransformSource.PORTAL,
                name__in={r.event.resource_name for r in job_rows},
            )
        }
        for row in job_rows:
            job = jobs.get((row.event.account_id, row.event.region, row.event.resource_name))
            if job is not None:
                row.portal = PortalLink("transform", job.pk, f"batch job {job.name}")
    return rows


def _link_shifts(rows: list[TrailRow]) -> None:
    request_ids = {r.event.request_id for r in rows if r.event.request_id}
    times = [r.event.event_time for r in rows]
    candidates = list(
        ShiftProposal.objects.filter(
            Q(aws_request_id__in=request_ids)
            | Q(
                update_sent_at__gte=min(times) - SHIFT_MATCH_WINDOW,
                update_sent_at__lte=max(times) + SHIFT_MATCH_WINDOW,
                endpoint__name__in={r.event.endpoint_name for r in rows},
            )
        ).select_related("endpoint")
    )
    by_request = {p.aws_request_id: p for p in candidates if p.aws_request_id}
    for row in rows:
        event = row.event
        proposal = by_request.get(event.request_id) if event.request_id else None
        if proposal is None:
            proposal = _nearest_shift(event, candidates)
        if proposal is not None:
            row.portal = PortalLink("shift", proposal.pk, f"traffic shift #{proposal.pk}")


def _nearest_shift(event: TrailEvent, candidates: list[ShiftProposal]) -> ShiftProposal | None:
    """The shift on the same endpoint whose update was sent closest to the event, if the
    portal did not learn the request id (an update that timed out but went through)."""
    close = [
        p
        for p in candidates
        if not p.aws_request_id
        and p.update_sent_at is not None
        and p.endpoint.name == event.endpoint_name
        and p.endpoint.account_id == event.account_id
        and p.endpoint.region == event.region
        and abs(p.update_sent_at - event.event_time) <= SHIFT_MATCH_WINDOW
    ]
    return min(close, key=lambda p: abs(p.update_sent_at - event.event_time), default=None)


@dataclass
class TrailEventView:
    row: TrailRow
    endpoint: Endpoint | None
    related: list[TrailEvent] = field(default_factory=list)


def trail_event_detail(*, pk: int) -> TrailEventView | None:
    event = TrailEvent.objects.filter(pk=pk).first()
    if event is None:
        return None
    endpoint = None
    if event.endpoint_name:
        endpoint = Endpoint.objects.filter(
            account_id=event.account_id, region=event.region, name=event.endpoint_name
        ).first()
    return TrailEventView(row=with_portal_links(events=[event])[0], endpoint=endpoint)


def trail_event_for_shift(*, proposal: ShiftProposal) -> TrailEvent | None:
    """The CloudTrail record of a shift's UpdateEndpointWeightsAndCapacities, once ingested."""
    events = TrailEvent.objects.filter(
        event_name=_SHIFT_EVENT,
        account_id=proposal.endpoint.account_id,
        region=proposal.endpoint.region,
        endpoint_name=proposal.endpoint.name,
    )
    if proposal.aws_request_id:
        return events.filter(request_id=proposal.aws_request_id).first()
    if proposal.update_sent_at is None:
        return None
    return (
        events.filter(
            error_code="",
            event_time__gte=proposal.update_sent_at - SHIFT_MATCH_WINDOW,
            event_time__lte=proposal.update_sent_at + SHIFT_MATCH_WINDOW,
        )
        .order_by("event_time")
        .first()
    )


def endpoint_change_events(
    *,
    endpoint: Endpoint,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 100,
) -> list[TrailEvent]:
    """The write calls that touched an endpoint or any config it has used, newest first.

    An endpoint's configs are its current one plus every config a CreateEndpoint or
    UpdateEndpoint on it named, so a config edited before it was deployed shows too.
    """
    scope = TrailEvent.objects.filter(account_id=endpoint.account_id, region=endpoint.region)
    configs = set(
        scope.filter(endpoint_name=endpoint.name)
        .exclude(endpoint_config_name="")
        .order_by()
        .values_list("endpoint_config_name", flat=True)
        .distinct()
    )
    if endpoint.config_name:
        configs.add(endpoint.config_name)
    touched = Q(endpoint_name=endpoint.name)
    if configs:
        touched |= Q(endpoint_config_name__in=configs)
    events = scope.filter(touched, read_only=False)
    if start is not None:
        events = events.filter(event_time__gte=start)
    if end is not None:
        events = events.filter(event_time__lt=end)
    return list(events.order_by("-event_time", "-id")[:limit])


def endpoint_changes(*, endpoint: Endpoint, limit: int = 100) -> list[TrailRow]:
    """The endpoint's Changes tab: its write calls, each with the portal action behind it."""
    return with_portal_links(events=endpoint_change_events(endpoint=endpoint, limit=limit))


def _distinct(column: str, limit: int) -> list[str]:
    """Distinct non-empty values of an indexed column, in order.

    On PostgreSQL a recursive "next value after" walk of the column's index: a few dozen
    index probes instead of reading a million rows, which is what DISTINCT does.
    """
    if column not in ("event_name", "principal_name"):
        raise ValueError(f"no distinct walk for {column}")
    if connection.vendor != "postgresql":
        return list(
            TrailEvent.objects.exclude(**{column: ""})
            .order_by(column)
            .values_list(column, flat=True)
            .distinct()[:limit]
        )
    table = TrailEvent._meta.db_table
    sql = f"""
        WITH RECURSIVE walk(value, n) AS (
            SELECT (SELECT min({column}) FROM {table} WHERE {column} > ''), 1
            UNION ALL
            SELECT (SELECT min({column}) FROM {table} WHERE {column} > walk.value), n + 1
            FROM walk WHERE walk.value IS NOT NULL AND n < %s
        )
        SELECT value FROM walk WHERE value IS NOT NULL
    """  # noqa: S608 - the column comes from the fixed list above
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [row[0] for row in cursor.fetchall()]


def known_event_names() -> list[str]:
    """Event names stored so far, for the filter's choices (cached for a few minutes)."""
    names = cache.get("apihistory:event-names")
    if names is None:
        names = _distinct("event_name", 500)
        cache.set("apihistory:event-names", names, _CHOICES_CACHE_SECONDS)
    return list(names)


def known_principals() -> list[str]:
    """Principal names stored so far, offered as the principal filter's suggestions."""
    names = cache.get("apihistory:principals")
    if names is None:
        names = _distinct("principal_name", 500)
        cache.set("apihistory:principals", names, _CHOICES_CACHE_SECONDS)
    return list(names)


@dataclass(frozen=True)
class IngestState:
    """How fresh the stored history of one account-region is, for the page's banner."""

    target: str
    region: str
    newest_event_time: datetime | None
    status: SyncStatus | None

    @property
    def failing_since(self) -> datetime | None:
        return self.status.failing_since if self.status else None

    @property
    def last_error(self) -> str:
        return self.status.last_error if self.status else ""


def ingest_states() -> list[IngestState]:
    """Per account-region ingested so far: CloudTrail delivers minutes late, and an ingest
    that keeps failing must not look like a quiet day (two queries)."""
    statuses = {(s.target, s.region): s for s in sync_statuses(kind=SyncKind.CLOUDTRAIL)}
    return [
        IngestState(
            target=cursor.target,
            region=cursor.region,
            newest_event_time=cursor.newest_event_time,
            status=statuses.get((cursor.target, cursor.region)),
        )
        for cursor in IngestCursor.objects.order_by("target", "region")
    ]
