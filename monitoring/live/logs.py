"""The Logs tab's read: an endpoint's container logs from CloudWatch Logs, newest first.

SageMaker writes what an endpoint's containers print to the log group
``/aws/sagemaker/Endpoints/<EndpointName>``, one stream per variant and instance
(``<VariantName>/<instance-id>``), so one variant's lines are the streams its name prefixes.
A read is one `core.aws.logs.newest_log_events` (FilterLogEvents, the window read backwards
in slices), within the page's AWS budget and at most MAX_CALLS calls.

Answers are cached for FOLLOW_SECONDS, so every tab following the same endpoint (they poll
that often) shares one read; a preset window ends at the next multiple of FOLLOW_SECONDS for
the same reason. When CloudWatch Logs fails, the tab shows the last good answer for the same
question marked stale, or says that nothing could be read; it never fails the page. A group
that does not exist is no error: the endpoint's containers have written nothing yet.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.utils import timezone

from core.aws import logs as aws_logs
from core.aws.errors import AwsError, NotFound
from core.aws.logs import LogCursor
from core.targets import target_by_name

if TYPE_CHECKING:
    from endpoints.models import Endpoint

LOG_RANGES: dict[str, int] = {
    "15m": 15 * 60,
    "1h": 3600,
    "3h": 3 * 3600,
    "12h": 12 * 3600,
    "24h": 24 * 3600,
    "7d": 7 * 86400,
}
DEFAULT_RANGE = "1h"
PAGE_LINES = 100
FOLLOW_SECONDS = 5
MAX_FOLLOW_SECONDS = 300
MAX_CALLS = 8
LAST_GOOD_SECONDS = 86400


def follow_seconds(*, failures: int) -> int:
    """How often a followed tab asks again: every few seconds while CloudWatch Logs answers,
    twice as long after each failure in a row, up to five minutes, so open tabs do not
    keep knocking on a service that is already failing."""
    return min(FOLLOW_SECONDS * 2 ** min(failures, 10), MAX_FOLLOW_SECONDS)


def log_group(endpoint_name: str) -> str:
    """The log group SageMaker writes the endpoint's containers to."""
    return f"/aws/sagemaker/Endpoints/{endpoint_name}"


@dataclass(frozen=True)
class LogQuery:
    """What the tab asks: a window (a preset ending now, or custom), lines containing
    `text` (any, when empty), of one variant (all, when empty), older than `cursor`."""

    range_key: str
    start: datetime
    end: datetime
    text: str = ""
    variant: str = ""
    cursor: LogCursor | None = None

    @classmethod
    def preset(
        cls,
        key: str,
        *,
        text: str = "",
        variant: str = "",
        cursor: LogCursor | None = None,
        now: datetime | None = None,
    ) -> LogQuery:
        now = now or timezone.now()
        end = datetime.fromtimestamp(
            math.ceil(now.timestamp() / FOLLOW_SECONDS) * FOLLOW_SECONDS, tz=UTC
        )
        return cls(key, end - timedelta(seconds=LOG_RANGES[key]), end, text, variant, cursor=cursor)

    @property
    def is_live(self) -> bool:
        """A preset window's newest lines: what following the logs refreshes."""
        return self.range_key in LOG_RANGES and self.cursor is None


@dataclass(frozen=True)
class LogLine:
    """One line as the tab shows it: the stream split into variant and instance."""

    time: datetime
    variant: str
    instance: str
    message: str

    @property
    def clock(self) -> str:
        """The time to the millisecond: a burst of lines shares its second."""
        return f"{self.time:%Y-%m-%d %H:%M:%S}.{self.time.microsecond // 1000:03d}"


@dataclass
class LogsPanel:
    """What the tab's lines fragment renders."""

    query: LogQuery
    group: str
    lines: list[LogLine] = field(default_factory=list)
    older: LogCursor | None = None
    searched_from: datetime | None = None
    fetched_at: datetime | None = None
    stopped: str = ""
    group_missing: bool = False
    stale_since: datetime | None = None
    error: str = ""
    from_cache: bool = False


def _line(stream: str, time: datetime, message: str) -> LogLine:
    variant, _, instance = stream.partition("/")
    return LogLine(time=time, variant=variant, instance=instance, message=message)


def _cache_key(endpoint: Endpoint, query: LogQuery, *, last_good: bool) -> str:
    """A key per question; the last good answer of a preset outlives its moving window.
    Hashed: the text may be long and in any alphabet, which cache backends refuse in keys."""
    window: list[object] = [query.range_key]
    if not (last_good and query.range_key in LOG_RANGES):
        window += [query.start.timestamp(), query.end.timestamp()]
    cursor = query.cursor.encode() if query.cursor else ""
    question = json.dumps([window, query.text, query.variant, cursor])
    kind = "logs-last-good" if last_good else "logs"
    return f"{kind}:{endpoint.pk}:{hashlib.sha256(question.encode()).hexdigest()}"


def endpoint_logs(*, endpoint: Endpoint, query: LogQuery) -> LogsPanel:
    """The newest lines for the query, from the cache, CloudWatch Logs, or the last good
    answer marked stale."""
    key = _cache_key(endpoint, query, last_good=False)
    cached: LogsPanel | None = cache.get(key)
    if cached is not None:
        return replace(cached, from_cache=True)
    group = log_group(endpoint.name)
    panel = LogsPanel(query=query, group=group)
    try:
        found = aws_logs.newest_log_events(
            target=target_by_name(endpoint.target),
            region=endpoint.region,
            group=group,
            stream_prefix=f"{query.variant}/" if query.variant else "",
            start=query.start,
            end=query.end,
            text=query.text,
            count=PAGE_LINES,
            cursor=query.cursor,
            max_calls=MAX_CALLS,
        )
    except NotFound:
        panel.group_missing = True
        panel.fetched_at = timezone.now()
    except AwsError as exc:
        last_good: LogsPanel | None = cache.get(_cache_key(endpoint, query, last_good=True))
        if last_good is None:
            panel.error = str(exc)
            panel.stale_since = timezone.now()
            return panel
        return replace(
            last_good,
            error=str(exc),
            stale_since=last_good.stale_since or last_good.fetched_at,
        )
    else:
        panel.lines = [_line(e.stream, e.time, e.message) for e in found.events]
        panel.older = found.older
        panel.searched_from = found.searched_from
        panel.stopped = found.stopped
        panel.fetched_at = timezone.now()
    cache.set(key, panel, FOLLOW_SECONDS)
    cache.set(_cache_key(endpoint, query, last_good=True), panel, LAST_GOOD_SECONDS)
    return panel
