"""A chart's period grid, and series laid on it with a null where CloudWatch had no data.

GetMetricData leaves out the periods in which a metric had no datapoint. Drawn as they
come, a line joins the points either side of a silence (0 % at 06:06 to 17.9 % at 06:11
reads as a five-minute climb that never happened). So every series is laid on the full
grid of its range, and a period without data is a null (JSON null), which the charts
draw as a gap.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

# CloudWatch rounds a query's StartTime down by the data's age: to the minute within
# 15 days, to 5 minutes within 63 days, to the hour beyond; periods start there.
_ROUNDING = ((timedelta(days=63), 3600), (timedelta(days=15), 300))


def period_grid(*, start: datetime, end: datetime, period: int, now: datetime) -> list[datetime]:
    """The start of every period CloudWatch can answer for [start, end), oldest first."""
    step = next((seconds for age, seconds in _ROUNDING if now - start > age), 60)
    epoch = int(start.timestamp())
    origin = datetime.fromtimestamp(epoch - epoch % step, tz=UTC)
    count = max(0, int((end - origin).total_seconds() + period - 1) // period)
    return [origin + timedelta(seconds=period * k) for k in range(count)]


def on_grid(
    *,
    grid: Sequence[datetime],
    timestamps: Sequence[datetime],
    values: Sequence[float],
    scale: float = 1.0,
    shown: Collection[datetime] | None = None,
) -> tuple[list[str], list[float | None]]:
    """x (ISO times) and y for a chart: a value at each period that has one, null at every
    other. `shown`, when given, holds the periods where a value means something (a rate's
    periods with requests); the others are null too. A datapoint off the grid (CloudWatch
    aligning differently than expected) is kept at its own time rather than dropped."""
    points = {_utc(t): v for t, v in zip(timestamps, values, strict=True)}
    allowed = None if shown is None else {_utc(t) for t in shown}
    times = sorted({_utc(t) for t in grid} | set(points))
    y: list[float | None] = []
    for t in times:
        value = points.get(t)
        if value is None or (allowed is not None and t not in allowed):
            y.append(None)
        else:
            y.append(round(value * scale, 3))
    return [t.isoformat() for t in times], y


def with_requests(*, timestamps: Sequence[datetime], values: Sequence[float]) -> set[datetime]:
    """The periods of a count series that counted something (a rate's denominator)."""
    return {_utc(t) for t, v in zip(timestamps, values, strict=True) if v > 0}


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
