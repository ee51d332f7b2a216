"""CloudWatch Logs: FilterLogEvents, and a window's newest lines first.

FilterLogEvents answers the events of a time window (startTime and endTime both inclusive,
in milliseconds) oldest first, interleaved across the group's streams (all of them, those
named, or those whose name starts with a prefix), a page at a time. A page may hold fewer
events than asked for, even none, and still carry a nextToken: AWS scans a bounded amount per
call. The API has no "newest first".

A log viewer wants the newest lines, and older ones on request, so `newest_log_events` reads
the window backwards in slices: the last few minutes first (every page of that slice, oldest
first, then reversed), then the slice before it, each four times as long as the one before,
until it has enough lines, reaches the window's start or has made its allowance of calls. A
slice holding more than SLICE_EVENT_CAP events is read again narrower (capped, it would keep
the slice's oldest lines, not its newest), down to one second, which is read whole. The
first slice spans a 64th of the window, at least five minutes. The answer carries a cursor
for the older lines: the oldest time shown and how many lines of that very millisecond were
shown, so the next page neither repeats nor skips the lines that share it. A page that stopped
early (out of calls, or AWS failed after the first slices) says how far back it read, and its
cursor continues from there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.aws.clients import client
from core.aws.errors import AwsError, translated
from core.aws.types import LogEvent, LogEventsPage
from core.targets import Target

MAX_LIMIT = 10_000  # FilterLogEvents' limit
FIRST_SLICE_MS = 5 * 60_000
SLICE_GROWTH = 4
MIN_SLICE_MS = 1_000
SLICE_EVENT_CAP = 2_000
# CloudWatch has no escape for these inside a quoted phrase: they split the text into phrases.
_UNQUOTABLE = re.compile(r'["\\]')
_CURSOR = re.compile(r"([0-9]{1,15})\.([0-9]{1,6})")


def _logs(target: Target, region: str) -> Any:
    return client(target=target, region=region, service="logs")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def filter_pattern(text: str) -> str:
    """The filter pattern for lines containing `text` (CloudWatch compares case-sensitively):
    one quoted phrase, or, when the text holds a double quote or a backslash, which cannot be
    written inside one, a phrase per piece between them, every one of which must occur."""
    return " ".join(f'"{piece}"' for piece in _UNQUOTABLE.split(text) if piece.strip())


def _event(item: dict[str, Any]) -> LogEvent:
    timestamp = int(item.get("timestamp", 0))
    return LogEvent(
        time=datetime.fromtimestamp(timestamp / 1000, tz=UTC),
        timestamp_ms=timestamp,
        stream=str(item.get("logStreamName", "")),
        message=str(item.get("message", "")),
        event_id=str(item.get("eventId", "")),
    )


def _filter(
    *,
    target: Target,
    region: str,
    group: str,
    stream_prefix: str,
    stream_names: tuple[str, ...],
    start_ms: int,
    end_ms: int,
    pattern: str,
    limit: int,
    next_token: str | None,
) -> LogEventsPage:
    kwargs: dict[str, Any] = {
        "logGroupName": group,
        "startTime": start_ms,
        "endTime": end_ms,
        "limit": limit,
    }
    if stream_names:
        kwargs["logStreamNames"] = list(stream_names)
    elif stream_prefix:
        kwargs["logStreamNamePrefix"] = stream_prefix
    if pattern:
        kwargs["filterPattern"] = pattern
    if next_token:
        kwargs["nextToken"] = next_token
    logs = _logs(target, region)
    with translated("FilterLogEvents"):
        response = logs.filter_log_events(**kwargs)
    return LogEventsPage(
        events=tuple(_event(item) for item in response.get("events", [])),
        next_token=response.get("nextToken") or None,
    )


def filter_log_events(
    *,
    target: Target,
    region: str,
    group: str,
    stream_prefix: str = "",
    stream_names: tuple[str, ...] = (),
    start: datetime,
    end: datetime,
    text: str = "",
    limit: int = MAX_LIMIT,
    next_token: str | None = None,
) -> LogEventsPage:
    """One FilterLogEvents page: the events from `start` to `end` (both inclusive) in the
    streams named, or those starting with `stream_prefix`, or all, that contain `text`;
    oldest first. A missing group raises NotFound."""
    return _filter(
        target=target,
        region=region,
        group=group,
        stream_prefix=stream_prefix,
        stream_names=stream_names,
        start_ms=_ms(start),
        end_ms=_ms(end),
        pattern=filter_pattern(text),
        limit=limit,
        next_token=next_token,
    )


@dataclass(frozen=True)
class LogCursor:
    """Where older lines continue: at or before `before_ms`, past the first `skip` lines of
    that millisecond (which the page before showed)."""

    before_ms: int
    skip: int = 0

    def encode(self) -> str:
        return f"{self.before_ms}.{self.skip}"

    @classmethod
    def decode(cls, text: str) -> LogCursor | None:
        """The cursor `encode` wrote, or None for anything else."""
        match = _CURSOR.fullmatch(text)
        return cls(int(match.group(1)), int(match.group(2))) if match else None


@dataclass(frozen=True)
class NewestLogEvents:
    """A window's newest lines, newest first; `older` continues with the lines before them
    (None: there are none). `searched_from` is how far back the read went: every line from
    there to the window's end (or the cursor) is shown or lies past `older`. `stopped` says
    why a read ended before the window's start with fewer lines than asked for."""

    events: tuple[LogEvent, ...]
    older: LogCursor | None
    searched_from: datetime
    stopped: str = ""


class _Crowded(Exception):
    """A slice holds more events than a slice may."""


class _OutOfCalls(Exception):
    """The read has made its allowance of calls."""


def _order(event: LogEvent) -> tuple[int, int, str, str]:
    """Time, then the event id: AWS's are numbers written out as digits, so the shorter
    one is the smaller. One order whatever the slice, which the cursor relies on."""
    return (event.timestamp_ms, len(event.event_id), event.event_id, event.stream)


def newest_log_events(
    *,
    target: Target,
    region: str,
    group: str,
    stream_prefix: str = "",
    start: datetime,
    end: datetime,
    text: str = "",
    count: int,
    cursor: LogCursor | None = None,
    max_calls: int = 8,
) -> NewestLogEvents:
    """The newest `count` lines in [start, end) containing `text`, newest first, read
    backwards in slices (see the module's docstring); older than `cursor` when given.

    Raises AwsError when the first slice cannot be read (NotFound for a missing group); a
    failure after that ends the read early instead, with what was found."""
    low = _ms(start)
    high = _ms(end) - 1
    skip = 0
    if cursor is not None and cursor.before_ms <= high:
        high, skip = cursor.before_ms, cursor.skip
    span = max(FIRST_SLICE_MS, (high - low + 1) // 64)
    pattern = filter_pattern(text)
    found: list[LogEvent] = []
    calls = 0
    slices = 0
    stopped = ""

    def read_slice(first: int, last: int, cap: int | None) -> list[LogEvent]:
        nonlocal calls
        events: list[LogEvent] = []
        token: str | None = None
        while True:
            if calls >= max_calls:
                raise _OutOfCalls
            calls += 1
            limit = MAX_LIMIT if cap is None else min(MAX_LIMIT, cap + 1 - len(events))
            page = _filter(
                target=target,
                region=region,
                group=group,
                stream_prefix=stream_prefix,
                stream_names=(),
                start_ms=first,
                end_ms=last,
                pattern=pattern,
                limit=limit,
                next_token=token,
            )
            events.extend(page.events)
            if cap is not None and len(events) > cap:
                raise _Crowded
            token = page.next_token
            if token is None:
                return events

    while len(found) <= count and high >= low:
        first = max(low, high - span + 1)
        try:
            # The narrowest slice is read whole, however many lines it holds.
            events = read_slice(first, high, SLICE_EVENT_CAP if span > MIN_SLICE_MS else None)
        except _Crowded:
            span = max(MIN_SLICE_MS, span // (SLICE_GROWTH * SLICE_GROWTH))
            continue
        except _OutOfCalls:
            stopped = f"read {calls} pages of CloudWatch Logs, the most one page may read"
            break
        except AwsError as error:
            if not slices:
                raise
            stopped = f"CloudWatch Logs failed: {error}"
            break
        slices += 1
        newest_first = sorted(events, key=_order, reverse=True)
        if skip:
            shared = 0
            while shared < min(skip, len(newest_first)) and (
                newest_first[shared].timestamp_ms == high
            ):
                shared += 1
            newest_first = newest_first[shared:]
            skip = 0
        found.extend(newest_first)
        high = first - 1
        span *= SLICE_GROWTH
    shown = found[:count]
    older: LogCursor | None = None
    if len(found) > count:
        oldest = shown[-1].timestamp_ms
        same = sum(1 for event in shown if event.timestamp_ms == oldest)
        if cursor is not None and oldest == cursor.before_ms:
            same += cursor.skip
        older = LogCursor(oldest, same)
    elif high >= low:
        older = LogCursor(high, skip)
    return NewestLogEvents(
        events=tuple(shown),
        older=older,
        searched_from=datetime.fromtimestamp((high + 1) / 1000, tz=UTC),
        stopped=stopped if len(found) < count else "",
    )
