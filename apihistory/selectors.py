"""Reads of the stored CloudTrail history: the filtered page, one event, an endpoint's
changes, and the links between CloudTrail events and what the portal itself did.

Pages are keyset-paginated on (event_time, id), newest first, so any page costs one
indexed query however deep it is; no page counts the whole match, because a count over a
million rows is what makes a search slow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet

from apihistory.links import TrailRow, rows_with_links
from apihistory.models import IngestCursor, TrailEvent
from apihistory.own_calls import own_calls, portal_principals
from apihistory.search import matching_words, query_words
from core.models import SyncKind, SyncStatus
from core.paging import Keyset, Position
from core.sync_status import sync_statuses
from endpoints.selectors import endpoint_named

if TYPE_CHECKING:
    from endpoints.models import Endpoint

PAGE_SIZE = 50
# A call whose request id the portal never learnt (it timed out but went through) is
# matched by endpoint and time instead.
REQUEST_MATCH_WINDOW = timedelta(minutes=2)
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
    hide_portal: bool = False  # leave out the calls made as the portal's own principals
    text: str = ""
    account: str = ""  # an OPSPORTAL_TARGETS name

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
                self.hide_portal,
                self.text,
                self.account,
            )
        )


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
    if filters.account:
        qs = qs.filter(target=filters.account)
    if filters.errors_only:
        qs = qs.exclude(error_code="")
    if filters.writes_only:
        qs = qs.filter(read_only=False)
    if filters.hide_portal:
        qs = without_own_calls(qs)
    return matching_words(qs, query_words(filters.text))


def own_principal_labels() -> list[str]:
    """The portal's own principals as the filter that hides their calls names them."""
    return [principal.label for principal in portal_principals()]


def without_own_calls(qs: QuerySet[TrailEvent]) -> QuerySet[TrailEvent]:
    """The events not made as one of the portal's own principals (all, if none is known)."""
    own = own_calls()
    return qs if own is None else qs.exclude(own)


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
        rows=rows_with_links(page.items),
        newer_than=page.newer_than,
        older_than=page.older_than,
    )


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
        endpoint = endpoint_named(
            account_id=event.account_id, region=event.region, name=event.endpoint_name
        )
    return TrailEventView(row=rows_with_links([event])[0], endpoint=endpoint)


def trail_event_by_request(
    *,
    account_id: str,
    region: str,
    event_name: str,
    endpoint_name: str,
    request_id: str = "",
    sent_at: datetime | None = None,
) -> TrailEvent | None:
    """The CloudTrail record of one call the portal made, once ingested: the event with
    the AWS request id the portal recorded, or, when the call ended without one (it timed
    out but went through), the first successful call of that name on the endpoint within
    REQUEST_MATCH_WINDOW of when it was sent."""
    events = TrailEvent.objects.filter(
        event_name=event_name, account_id=account_id, region=region, endpoint_name=endpoint_name
    )
    if request_id:
        return events.filter(request_id=request_id).first()
    if sent_at is None:
        return None
    return (
        events.filter(
            error_code="",
            event_time__gte=sent_at - REQUEST_MATCH_WINDOW,
            event_time__lte=sent_at + REQUEST_MATCH_WINDOW,
        )
        .order_by("event_time")
        .first()
    )


def endpoint_calls(*, endpoint: Endpoint) -> QuerySet[TrailEvent]:
    """Every call, reads included, on an endpoint or any config it has used.

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
    return scope.filter(touched)


def endpoint_change_events(
    *,
    endpoint: Endpoint,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 100,
) -> list[TrailEvent]:
    """The write calls that touched an endpoint or any config it has used, newest first."""
    events = endpoint_calls(endpoint=endpoint).filter(read_only=False)
    if start is not None:
        events = events.filter(event_time__gte=start)
    if end is not None:
        events = events.filter(event_time__lt=end)
    return list(events.order_by("-event_time", "-id")[:limit])


def endpoint_changes(
    *, endpoint: Endpoint, writes_only: bool = True, hide_portal: bool = False, limit: int = 100
) -> list[TrailRow]:
    """The endpoint's API calls tab, newest first, each call with the portal action behind
    it: its writes unless reads are asked for too, the portal's own calls left out if asked."""
    events = endpoint_calls(endpoint=endpoint)
    if writes_only:
        events = events.filter(read_only=False)
    if hide_portal:
        events = without_own_calls(events)
    return rows_with_links(list(events.order_by("-event_time", "-id")[:limit]))


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
