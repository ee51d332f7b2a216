"""CloudWatch's metric store as the sandbox keeps it: one-minute buckets that can give percentiles.

moto keeps every PutMetricData value as a separate object, scans all of them on every query and
cannot compute a percentile at all (GetMetricData with ``p99`` crashes it). CloudWatch keeps
one-minute aggregates; so does this store. Each bucket holds SampleCount, Sum, Minimum and
Maximum plus a histogram of the raw values (value -> count), which is what percentiles need.
A statistic set (StatisticValues) carries no raw values, so, as on AWS, it leaves percentiles
unavailable for its minute unless its SampleCount is 1 or its Minimum equals its Maximum.

Both the endpoint metrics publisher and clients' PutMetricData calls write here, and
GetMetricData, GetMetricStatistics, ListMetrics and the alarm evaluator read from here.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

Dimensions = tuple[tuple[str, str], ...]
MINUTE = 60
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d{1,10})?|100(?:\.0{1,10})?)$")
BASIC_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")


def dimensions_key(dimensions: Iterable[Mapping[str, str]] | Mapping[str, str]) -> Dimensions:
    """Dimensions in canonical order: CloudWatch treats them as an unordered set."""
    if isinstance(dimensions, Mapping):
        pairs = dimensions.items()
    else:
        pairs = ((str(d["Name"]), str(d["Value"])) for d in dimensions)
    return tuple(sorted((str(name), str(value)) for name, value in pairs))


@dataclass(frozen=True)
class SeriesKey:
    """One metric: CloudWatch identifies it by namespace, name and the full dimension set."""

    account_id: str
    region: str
    namespace: str
    metric_name: str
    dimensions: Dimensions


def is_statistic(name: str) -> bool:
    """A statistic the sandbox computes: the five basic ones or a percentile ``p0``..``p100``."""
    return name in BASIC_STATISTICS or _PERCENTILE.match(name) is not None


def percentile_of(name: str) -> float | None:
    """The percentile a statistic name asks for (``p99.9`` -> 99.9), or None for a basic one."""
    match = _PERCENTILE.match(name)
    return float(match.group(1)) if match else None


class Bucket:
    """Everything one series received in one minute (or, merged, in one query period)."""

    __slots__ = ("count", "total", "minimum", "maximum", "histogram", "exact")

    def __init__(self) -> None:
        self.count = 0.0
        self.total = 0.0
        self.minimum = math.inf
        self.maximum = -math.inf
        self.histogram: dict[float, float] = {}
        # False once a statistic set with spread-out values arrived: percentiles are unknown.
        self.exact = True

    @classmethod
    def of(cls, histogram: dict[float, float]) -> Bucket:
        """A bucket holding exactly this histogram of raw values (value -> count, counts > 0)."""
        bucket = cls()
        if histogram:
            bucket.histogram = histogram
            bucket.count = sum(histogram.values())
            bucket.total = sum(value * count for value, count in histogram.items())
            bucket.minimum = min(histogram)
            bucket.maximum = max(histogram)
        return bucket

    def add_values(self, values: Sequence[float], counts: Sequence[float] | None = None) -> None:
        for index, value in enumerate(values):
            count = float(counts[index]) if counts is not None else 1.0
            if count <= 0:
                continue
            self.count += count
            self.total += value * count
            self.minimum = min(self.minimum, value)
            self.maximum = max(self.maximum, value)
            self.histogram[value] = self.histogram.get(value, 0.0) + count

    def add_statistics(self, count: float, total: float, minimum: float, maximum: float) -> None:
        if count <= 0:
            return
        if count == 1 or minimum == maximum:
            # Every raw value is known, so percentiles stay exact (the AWS rule).
            self.count += count
            self.total += total
            self.minimum = min(self.minimum, minimum)
            self.maximum = max(self.maximum, maximum)
            self.histogram[minimum] = self.histogram.get(minimum, 0.0) + count
            return
        self.count += count
        self.total += total
        self.minimum = min(self.minimum, minimum)
        self.maximum = max(self.maximum, maximum)
        self.exact = False

    def merge(self, other: Bucket) -> None:
        if other.count <= 0:
            return
        self.count += other.count
        self.total += other.total
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        for value, count in other.histogram.items():
            self.histogram[value] = self.histogram.get(value, 0.0) + count
        self.exact = self.exact and other.exact

    def statistic(self, name: str) -> float | None:
        """The named statistic over this bucket; None when it cannot be known."""
        if self.count <= 0:
            return None
        if name == "SampleCount":
            return self.count
        if name == "Sum":
            return self.total
        if name == "Average":
            return self.total / self.count
        if name == "Minimum":
            return self.minimum
        if name == "Maximum":
            return self.maximum
        percentile = percentile_of(name)
        if percentile is None or not self.exact:
            return None
        return _nearest_rank(self.histogram, self.count, percentile)


def _nearest_rank(histogram: Mapping[float, float], total: float, percentile: float) -> float:
    """The smallest value with at least ``percentile``% of the samples at or below it."""
    values = sorted(histogram)
    if percentile <= 0:
        return values[0]
    wanted = percentile / 100.0 * total
    seen = 0.0
    for value in values:
        seen += histogram[value]
        if seen >= wanted - 1e-9:
            return value
    return values[-1]


@dataclass(frozen=True)
class MetricDatum:
    """One PutMetricData item with raw values: ``values[i]`` was observed ``counts[i]`` times."""

    metric_name: str
    dimensions: Dimensions
    values: Sequence[float]
    counts: Sequence[float] | None = None
    unit: str | None = None


@dataclass
class Series:
    """One metric's minute buckets, keyed by the minute's start in epoch seconds."""

    unit: str = "None"
    buckets: dict[int, Bucket] = field(default_factory=dict)
    last_put: float = 0.0


@dataclass(frozen=True)
class PeriodAggregate:
    """A query period's merged data: its start and the bucket holding everything in it."""

    start: int
    bucket: Bucket


class MetricStore:
    """All metrics of every account and region, safe for the threaded server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._series: dict[SeriesKey, Series] = {}

    def put_values(
        self,
        key: SeriesKey,
        timestamp: float,
        values: Sequence[float],
        counts: Sequence[float] | None = None,
        unit: str | None = None,
    ) -> None:
        """Add raw values (each ``counts[i]`` times) to the minute holding ``timestamp``."""
        with self._lock:
            self._bucket(key, timestamp, unit).add_values(values, counts)

    def put_batch(
        self,
        account_id: str,
        region: str,
        namespace: str,
        timestamp: float,
        data: Iterable[MetricDatum],
    ) -> None:
        """One PutMetricData call's worth of values, written under a single lock."""
        with self._lock:
            for datum in data:
                key = SeriesKey(account_id, region, namespace, datum.metric_name, datum.dimensions)
                self._bucket(key, timestamp, datum.unit).add_values(datum.values, datum.counts)

    def put_statistics(
        self,
        key: SeriesKey,
        timestamp: float,
        *,
        count: float,
        total: float,
        minimum: float,
        maximum: float,
        unit: str | None = None,
    ) -> None:
        """Add a statistic set to the minute holding ``timestamp``."""
        with self._lock:
            self._bucket(key, timestamp, unit).add_statistics(count, total, minimum, maximum)

    def put_buckets(self, items: Iterable[tuple[SeriesKey, int, Bucket, str | None]]) -> int:
        """Store prepared minute buckets in bulk (the seed's history backfill); returns how many.

        A bucket for an empty minute is stored as given, not copied: the caller hands it over.
        """
        written = 0
        with self._lock:
            for key, minute, bucket, unit in items:
                series = self._series.get(key)
                if series is None:
                    series = self._series[key] = Series()
                if unit:
                    series.unit = unit
                series.last_put = max(series.last_put, float(minute))
                existing = series.buckets.get(minute)
                if existing is None:
                    series.buckets[minute] = bucket
                else:
                    existing.merge(bucket)
                written += 1
        return written

    def _bucket(self, key: SeriesKey, timestamp: float, unit: str | None) -> Bucket:
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = Series()
        if unit:
            series.unit = unit
        series.last_put = max(series.last_put, timestamp)
        minute = int(timestamp // MINUTE) * MINUTE
        bucket = series.buckets.get(minute)
        if bucket is None:
            bucket = series.buckets[minute] = Bucket()
        return bucket

    def aggregate(
        self, key: SeriesKey, start: int, end: float, period: int, unit: str | None = None
    ) -> list[PeriodAggregate]:
        """Merged buckets per period in [start, end), oldest first; empty periods left out.

        ``start`` is the grid's origin: period k covers [start + k*period, start + (k+1)*period).
        """
        slots: dict[int, Bucket] = {}
        with self._lock:
            series = self._series.get(key)
            if series is None or (unit is not None and unit != series.unit):
                return []
            span_minutes = (end - start) / MINUTE
            if span_minutes < len(series.buckets):
                minutes: Iterator[int] = iter(range(start, int(math.ceil(end)), MINUTE))
                found = ((m, series.buckets.get(m)) for m in minutes)
                items = [(m, b) for m, b in found if b is not None]
            else:
                items = [(m, b) for m, b in series.buckets.items() if start <= m < end]
            for minute, bucket in items:
                slot = start + (minute - start) // period * period
                merged = slots.get(slot)
                if merged is None:
                    merged = slots[slot] = Bucket()
                merged.merge(bucket)
        return [PeriodAggregate(slot, slots[slot]) for slot in sorted(slots)]

    def has_data(self, key: SeriesKey, start: int, end: float) -> bool:
        """Whether any minute in [start, end) received data for the series."""
        with self._lock:
            series = self._series.get(key)
            if series is None:
                return False
            return any(m in series.buckets for m in range(start, int(math.ceil(end)), MINUTE))

    def keys(self, account_id: str, region: str) -> list[tuple[SeriesKey, float]]:
        """Every series in a region with the time of its newest datapoint, for ListMetrics."""
        with self._lock:
            return [
                (key, series.last_put)
                for key, series in self._series.items()
                if key.account_id == account_id and key.region == region
            ]

    def unit_of(self, key: SeriesKey) -> str | None:
        with self._lock:
            series = self._series.get(key)
            return series.unit if series is not None else None

    def clear(self) -> None:
        with self._lock:
            self._series.clear()
