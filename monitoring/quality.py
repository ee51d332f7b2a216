"""Data quality the way SageMaker Model Monitor checks it, in pure Python.

Model Monitor is closed to new customers, but existing schedules keep writing
``statistics.json``, ``constraints.json`` and ``constraint_violations.json``. This module reads
those files, and can produce the same three documents itself from an endpoint's captured
traffic, so the portal (and the sandbox, which imports nothing from Django) can check data
where no schedule runs. The documents have Model Monitor's exact shape, so files written here
and files written by AWS are interchangeable.

Semantics (Model Monitor's documented defaults; where the documentation is silent the choice
is stated):

- A value is *missing* when it is ``None`` or the empty string; anything else, blanks
  included, is present.
- A present value is *Integral* if ``int()`` would read it, *Fractional* if ``float()`` reads it
  as a finite number, and text otherwise. Digit groups with underscores (``1_000``) and
  ``nan``/``inf`` count as text, because the CSV readers that feed models do not take them as
  numbers. A column's inferred type is ``Integral`` when every present value is Integral,
  ``Fractional`` when every present value is a number, ``String`` when any value is text and
  ``Unknown`` when no value is present (Deequ's rule, the library behind Model Monitor).
- ``completeness`` is present / rows. The completeness check fires when the current value is
  below the constraint, with no tolerance (Model Monitor flags completeness below the
  constraint): a baseline with completeness 1.0 flags a single missing value; lower the
  constraint to allow some.
- ``data_type_check``: the share of present values that do not fit the constraint's type
  (text, and for ``Integral`` also fractions) exceeds ``datatype_check_threshold``.
- ``categorical_values_check``: the share of present values outside the constraint's
  ``domains`` exceeds ``domain_content_threshold``.
- ``missing_column_check`` / ``extra_column_check``: a baseline feature no row of the
  current data reaches, or a current column the baseline does not name. Header-less data is
  named by position (``_c0``, ``_c1``... as Model Monitor names it), so this reduces to
  "fewer columns" and "more columns"; rows wider than the given names add ``_c<i>`` columns.
- ``baseline_drift_check`` (numeric): current values are counted into the baseline's 10
  buckets (``[lower, upper)``, the last one closed), with an extra cell below the baseline's
  minimum and one above its maximum. The distance is the largest gap between the two
  cumulative shares over those cells: the Kolmogorov-Smirnov statistic read at the
  baseline's bucket edges. It fires when the distance exceeds ``comparison_threshold``. The
  documentation describes ``comparison_method`` ``Robust`` (the default) as the variant for
  too few samples, based on the two-sample Kolmogorov-Smirnov test; here it means the
  distance must also exceed that test's critical value at 5% for the two sample sizes, so a
  handful of rows cannot raise drift by chance. ``Simple`` uses the threshold alone.
- ``baseline_drift_check`` (categorical): the largest gap between a value's share of the
  baseline and of the current data (L-infinity), against
  ``categorical_comparison_threshold``. ``ChiSquared`` is not implemented; such constraints
  are evaluated with L-infinity too.
- Every threshold comparison is ``>``: a share or distance exactly at the threshold passes.
  Shares and distances come from integer counts with a single division, so "exactly 0.1" is
  exactly 0.1.
- ``num_constraints.is_non_negative`` is suggested and kept, but Model Monitor's six check
  types have no check for it, so it is not evaluated.

Streaming: rows are read once, in chunks of ``CHUNK_ROWS``, and each feature keeps a summary
of fixed size: exact count, sum, mean and standard deviation (Chan/Welford), exact min and max,
a KLL sketch for the buckets (exact up to about 5,700 values, then within a fraction of a
percent) and value counts (see ``quality_sketch``). A text feature's counts are exact up to
``2 * CATEGORY_LIMIT`` distinct values; past that the ``CATEGORY_LIMIT`` most frequent are
kept (each count at most total / ``CATEGORY_LIMIT`` low) and ``distinct_count`` is a
HyperLogLog estimate. A feature that looks numeric stops counting values past
``DOMAIN_MAX_VALUES`` distinct ones (its statistics never list them); should text turn up
later, its value counts start there and its ``distinct_count`` is a lower bound. When
checking, the baseline's bucket edges, domain and listed values are known up front, so the
drift and domain counts for them are exact.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import math
import operator
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice, repeat
from typing import Any, cast

from monitoring.quality_sketch import FrequentValues, KllSketch, cut_counts

INTEGRAL = "Integral"
FRACTIONAL = "Fractional"
STRING = "String"
UNKNOWN = "Unknown"
NUMERIC_TYPES = frozenset({INTEGRAL, FRACTIONAL})

DATA_TYPE_CHECK = "data_type_check"
COMPLETENESS_CHECK = "completeness_check"
BASELINE_DRIFT_CHECK = "baseline_drift_check"
MISSING_COLUMN_CHECK = "missing_column_check"
EXTRA_COLUMN_CHECK = "extra_column_check"
CATEGORICAL_VALUES_CHECK = "categorical_values_check"
CHECK_TYPES = (
    DATA_TYPE_CHECK,
    COMPLETENESS_CHECK,
    BASELINE_DRIFT_CHECK,
    MISSING_COLUMN_CHECK,
    EXTRA_COLUMN_CHECK,
    CATEGORICAL_VALUES_CHECK,
)

# Model Monitor materialises every numeric distribution in 10 buckets (not configurable).
BUCKET_COUNT = 10
# Text values tracked per feature; beyond it counts are Misra-Gries lower bounds.
CATEGORY_LIMIT = 1000
# Deequ's categorical-range rule: suggest a domain only for a low-cardinality column (at
# most 120 distinct values) where at most 10% of the distinct values occur only once.
DOMAIN_MAX_VALUES = 120
DOMAIN_MAX_SINGLETON_SHARE = 0.1
# Rows handled together: large enough that per-chunk work runs at C speed, small enough
# that a chunk of wide rows stays a few megabytes.
CHUNK_ROWS = 512
KS_ALPHA = 0.05


def default_monitoring_config() -> dict[str, Any]:
    """constraints.json's ``monitoring_config`` with Model Monitor's defaults (a fresh copy)."""
    return {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
        "datatype_check_threshold": 0.1,
        "domain_content_threshold": 0.1,
        "distribution_constraints": {
            "perform_comparison": "Enabled",
            "comparison_threshold": 0.1,
            "comparison_method": "Robust",
            "categorical_comparison_threshold": 0.1,
            "categorical_drift_method": "LInfinity",
        },
    }


# ---------------------------------------------------------------------------------------------
# Documents as typed values


@dataclass(frozen=True)
class Violation:
    """One line of constraint_violations.json."""

    feature_name: str
    constraint_check_type: str
    description: str

    def as_dict(self) -> dict[str, str]:
        return {
            "feature_name": self.feature_name,
            "constraint_check_type": self.constraint_check_type,
            "description": self.description,
        }


@dataclass(frozen=True)
class CheckResult:
    """What ``check`` found: the current data's statistics.json, the violations and, per
    feature compared, the drift distance (what Model Monitor publishes as
    ``feature_baseline_drift_<feature>``)."""

    statistics: dict
    violations: list[Violation]
    drift: dict[str, float] = field(default_factory=dict)

    def violations_document(self) -> dict:
        """constraint_violations.json."""
        return {"violations": [violation.as_dict() for violation in self.violations]}


@dataclass(frozen=True)
class NumericBucket:
    lower_bound: float
    upper_bound: float
    count: float


@dataclass(frozen=True)
class CategoryCount:
    value: str
    count: float


@dataclass(frozen=True)
class FeatureStatistics:
    """One feature of statistics.json; numbers a document lacks are None."""

    name: str
    inferred_type: str
    num_present: float
    num_missing: float
    mean: float | None = None
    sum: float | None = None
    std_dev: float | None = None
    min: float | None = None
    max: float | None = None
    distinct_count: float | None = None
    buckets: tuple[NumericBucket, ...] = ()
    categories: tuple[CategoryCount, ...] = ()
    sketch: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def edges(self) -> tuple[float, ...]:
        """The bucket edges, lowest first (11 numbers for 10 buckets); () without buckets."""
        if not self.buckets:
            return ()
        return (*(bucket.lower_bound for bucket in self.buckets), self.buckets[-1].upper_bound)


@dataclass(frozen=True)
class DatasetStatistics:
    item_count: float | None
    features: tuple[FeatureStatistics, ...]

    def feature(self, name: str) -> FeatureStatistics | None:
        return next((feature for feature in self.features if feature.name == name), None)


@dataclass(frozen=True)
class MonitoringConfig:
    """constraints.json's ``monitoring_config``, with defaults for whatever it leaves out."""

    evaluate_constraints: bool = True
    emit_metrics: bool = True
    datatype_check_threshold: float = 0.1
    domain_content_threshold: float = 0.1
    perform_comparison: bool = True
    comparison_threshold: float = 0.1
    comparison_method: str = "Robust"
    categorical_comparison_threshold: float = 0.1
    categorical_drift_method: str = "LInfinity"


@dataclass(frozen=True)
class FeatureConstraint:
    """One feature of constraints.json, with its ``monitoringConfigOverrides`` applied."""

    name: str
    inferred_type: str
    completeness: float | None = None
    is_non_negative: bool | None = None
    domains: tuple[str, ...] | None = None
    config: MonitoringConfig = MonitoringConfig()


@dataclass(frozen=True)
class Constraints:
    features: tuple[FeatureConstraint, ...]
    monitoring_config: MonitoringConfig

    def feature(self, name: str) -> FeatureConstraint | None:
        return next((feature for feature in self.features if feature.name == name), None)


@dataclass(frozen=True)
class DistributionBar:
    """One bar of a baseline-versus-current chart: shares of each data set (0..1)."""

    label: str
    baseline: float
    current: float


# ---------------------------------------------------------------------------------------------
# Parsing (real files: unknown keys ignored, missing parts defaulted)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _count(value: Any) -> float:
    """A non-negative count; whole numbers become ints so shares can be computed exactly."""
    number = _number(value)
    if number is None or number <= 0:
        return 0
    return int(number) if number.is_integer() else number


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    """A JSON value as the text a CSV cell would hold ("" for null)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, separators=(",", ":"))


def parse_statistics(document: Any) -> DatasetStatistics:
    """statistics.json as typed values; the KLL ``sketch`` is kept raw and otherwise ignored."""
    document = _mapping(document)
    item_count = _mapping(document.get("dataset")).get("item_count")
    features = []
    raw_features = document.get("features")
    for raw in raw_features if isinstance(raw_features, list) else []:
        raw = _mapping(raw)
        name = raw.get("name")
        if not isinstance(name, str):
            continue
        numeric = raw.get("numerical_statistics")
        text = raw.get("string_statistics")
        stats = _mapping(numeric if isinstance(numeric, Mapping) else text)
        inferred = raw.get("inferred_type")
        if not isinstance(inferred, str):
            inferred = FRACTIONAL if isinstance(numeric, Mapping) else STRING if text else UNKNOWN
        common = _mapping(stats.get("common"))
        distribution = _mapping(stats.get("distribution"))
        kll = _mapping(distribution.get("kll"))
        buckets = []
        raw_buckets = kll.get("buckets")
        for bucket in raw_buckets if isinstance(raw_buckets, list) else []:
            bucket = _mapping(bucket)
            lower, upper = _number(bucket.get("lower_bound")), _number(bucket.get("upper_bound"))
            if lower is not None and upper is not None:
                buckets.append(NumericBucket(lower, upper, _count(bucket.get("count"))))
        buckets.sort(key=lambda bucket: (bucket.lower_bound, bucket.upper_bound))
        categories = []
        raw_categories = _mapping(distribution.get("categorical")).get("buckets")
        for bucket in raw_categories if isinstance(raw_categories, list) else []:
            bucket = _mapping(bucket)
            if "value" in bucket:
                categories.append(
                    CategoryCount(_text(bucket["value"]), _count(bucket.get("count")))
                )
        sketch = kll.get("sketch")
        features.append(
            FeatureStatistics(
                name=name,
                inferred_type=inferred,
                num_present=_count(common.get("num_present")),
                num_missing=_count(common.get("num_missing")),
                mean=_number(stats.get("mean")),
                sum=_number(stats.get("sum")),
                std_dev=_number(stats.get("std_dev")),
                min=_number(stats.get("min")),
                max=_number(stats.get("max")),
                distinct_count=_number(stats.get("distinct_count")),
                buckets=tuple(buckets),
                categories=tuple(categories),
                sketch=sketch if isinstance(sketch, Mapping) else None,
            )
        )
    return DatasetStatistics(
        item_count=_count(item_count) if item_count is not None else None,
        features=tuple(features),
    )


def _enabled(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("enabled", "true")
    return default


def _config(base: MonitoringConfig, raw: Any) -> MonitoringConfig:
    """``base`` with the settings ``raw`` names; distribution settings may sit at either level."""
    raw = _mapping(raw)
    flat = {**raw, **_mapping(raw.get("distribution_constraints"))}
    changes: dict[str, Any] = {}
    for name in ("evaluate_constraints", "emit_metrics", "perform_comparison"):
        if name in flat:
            changes[name] = _enabled(flat[name], getattr(base, name))
    for name in (
        "datatype_check_threshold",
        "domain_content_threshold",
        "comparison_threshold",
        "categorical_comparison_threshold",
    ):
        number = _number(flat.get(name))
        if number is not None:
            changes[name] = number
    for name in ("comparison_method", "categorical_drift_method"):
        if isinstance(flat.get(name), str):
            changes[name] = flat[name]
    return replace(base, **changes)


def parse_constraints(document: Any) -> Constraints:
    """constraints.json as typed values; each feature carries its effective configuration."""
    document = _mapping(document)
    config = _config(MonitoringConfig(), document.get("monitoring_config"))
    features = []
    raw_features = document.get("features")
    for raw in raw_features if isinstance(raw_features, list) else []:
        raw = _mapping(raw)
        name = raw.get("name")
        if not isinstance(name, str):
            continue
        inferred = raw.get("inferred_type")
        non_negative = _mapping(raw.get("num_constraints")).get("is_non_negative")
        domains = _mapping(raw.get("string_constraints")).get("domains")
        features.append(
            FeatureConstraint(
                name=name,
                inferred_type=inferred if isinstance(inferred, str) else UNKNOWN,
                completeness=_number(raw.get("completeness")),
                is_non_negative=non_negative if isinstance(non_negative, bool) else None,
                domains=tuple(_text(value) for value in domains)
                if isinstance(domains, list)
                else None,
                config=_config(config, raw.get("monitoringConfigOverrides")),
            )
        )
    return Constraints(features=tuple(features), monitoring_config=config)


def parse_violations(document: Any) -> list[Violation]:
    """constraint_violations.json (either file spelling); no ``violations`` means none."""
    items = document.get("violations") if isinstance(document, Mapping) else document
    violations = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        violations.append(
            Violation(
                feature_name=_text(item.get("feature_name")),
                constraint_check_type=_text(item.get("constraint_check_type")),
                description=_text(item.get("description")),
            )
        )
    return violations


def feature_distribution(
    statistics: Any, name: str
) -> list[tuple[float, float, float]] | list[tuple[str, float]]:
    """A feature's distribution as stored: ``(lower, upper, count)`` buckets for a numeric
    feature, ``(value, count)`` for a text one; [] if the feature or distribution is absent."""
    feature = parse_statistics(statistics).feature(name)
    if feature is None:
        return []
    if feature.buckets:
        return [(b.lower_bound, b.upper_bound, b.count) for b in feature.buckets]
    return [(c.value, c.count) for c in feature.categories]


# ---------------------------------------------------------------------------------------------
# Values


def _parse_number(text: str) -> float | None:
    """The number a CSV cell holds, or None if it is text (see the module docstring)."""
    if "_" in text:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _looks_integral(text: str) -> bool:
    """For a cell that ``float()`` reads: whether ``int()`` would read it too."""
    return "." not in text and "e" not in text and "E" not in text


@dataclass(frozen=True)
class _Plan:
    """What ``check`` knows about a feature before reading: it makes those counts exact."""

    keep_text: bool = False
    cuts: tuple[float, ...] | None = None
    domain: frozenset[str] | None = None
    baseline_values: frozenset[str] | None = None


def _cuts(edges: Sequence[float]) -> tuple[float, ...]:
    """Cut points giving cells: below the minimum, each ``[lower, upper)`` bucket with the
    last one closed at the maximum, and above the maximum."""
    return (*edges[:-1], math.nextafter(edges[-1], math.inf))


class _Column:
    """Running summary of one feature; memory does not grow with the number of rows."""

    __slots__ = (
        "name",
        "plan",
        "present",
        "missing",
        "integral",
        "fractional",
        "text",
        "first_fractional",
        "first_text",
        "count",
        "total",
        "mean",
        "m2",
        "minimum",
        "maximum",
        "sketch",
        "values",
        "values_partial",
        "cells",
        "in_domain",
        "first_outside",
        "baseline_counts",
    )

    def __init__(self, name: str, *, plan: _Plan | None = None, missing: int = 0) -> None:
        self.name = name
        self.plan = plan
        self.present = 0
        self.missing = missing
        self.integral = 0
        self.fractional = 0
        self.text = 0
        self.first_fractional: str | None = None
        self.first_text: str | None = None
        self.count = 0
        self.total = 0.0
        self.mean = 0.0
        self.m2 = 0.0
        self.minimum = math.inf
        self.maximum = -math.inf
        self.sketch = KllSketch()
        self.values: FrequentValues | None = FrequentValues(limit=CATEGORY_LIMIT)
        self.values_partial = False
        self.cells: list[int] | None = None
        if plan is not None and plan.cuts is not None:
            self.cells = [0] * (len(plan.cuts) + 1)
        self.in_domain = 0
        self.first_outside: str | None = None
        self.baseline_counts: Counter[str] = Counter()

    @property
    def inferred_type(self) -> str:
        if not self.present:
            return UNKNOWN
        if self.text:
            return STRING
        return FRACTIONAL if self.fractional else INTEGRAL

    def add(self, values: Sequence[str | None]) -> None:
        """One chunk of this column's cells."""
        if None in values or "" in values:
            present: Sequence[str] = [value for value in values if value]
            self.missing += len(values) - len(present)
            if not present:
                return
        else:
            present = cast(Sequence[str], values)
        self.present += len(present)
        numbers, total = self._classify(present)
        if numbers:
            self._add_numbers(numbers, total)
        self._add_text(present)
        plan = self.plan
        if plan is not None and plan.domain is not None:
            inside = sum(map(plan.domain.__contains__, present))
            self.in_domain += inside
            if inside < len(present) and self.first_outside is None:
                self.first_outside = next(v for v in present if v not in plan.domain)
        if plan is not None and plan.baseline_values is not None:
            self.baseline_counts.update(filter(plan.baseline_values.__contains__, present))

    def _classify(self, present: Sequence[str]) -> tuple[list[float], float]:
        """The numbers among the cells (and their sum), counting each cell's type.

        The common case, a chunk of nothing but numbers, is recognised with a few C-level
        passes over the chunk; anything else is classified cell by cell.
        """
        try:
            numbers = list(map(float, present))
            joined = "\x1f".join(present)
            total = math.fsum(numbers)
        except (TypeError, ValueError, OverflowError):
            return self._classify_each(present)
        if "_" in joined or not math.isfinite(total):
            return self._classify_each(present)
        dots = joined.count(".")
        if "e" in joined or "E" in joined or 0 < dots < len(present):
            integral = sum(1 for value in present if _looks_integral(value))
        else:
            integral = 0 if dots else len(present)
        self.integral += integral
        self.fractional += len(present) - integral
        if integral < len(present) and self.first_fractional is None:
            self.first_fractional = next(v for v in present if not _looks_integral(v))
        return numbers, total

    def _classify_each(self, present: Sequence[str]) -> tuple[list[float], float]:
        numbers = []
        for value in present:
            text = value if isinstance(value, str) else _text(value)
            number = _parse_number(text)
            if number is None:
                self.text += 1
                if self.first_text is None:
                    self.first_text = text
                continue
            numbers.append(number)
            if _looks_integral(text):
                self.integral += 1
            else:
                self.fractional += 1
                if self.first_fractional is None:
                    self.first_fractional = text
        try:
            total = math.fsum(numbers)
        except OverflowError:
            total = sum(numbers)
        return numbers, total

    def _add_numbers(self, numbers: list[float], total: float) -> None:
        size = len(numbers)
        chunk_mean = total / size
        deviations = list(map(operator.sub, numbers, repeat(chunk_mean, size)))
        # Squares of deviations are all positive: a plain sum loses nothing that matters.
        chunk_m2 = sum(map(operator.mul, deviations, deviations))
        if self.count:
            combined = self.count + size
            delta = chunk_mean - self.mean
            self.mean += delta * size / combined
            self.m2 += chunk_m2 + delta * delta * self.count * size / combined
        else:
            self.mean, self.m2 = chunk_mean, chunk_m2
        self.count += size
        self.total += total
        self.minimum = min(self.minimum, min(numbers))
        self.maximum = max(self.maximum, max(numbers))
        self.sketch.extend(numbers)
        if self.cells is not None and self.plan is not None and self.plan.cuts is not None:
            for index, count in enumerate(cut_counts(sorted(numbers), self.plan.cuts)):
                self.cells[index] += count

    def _add_text(self, present: Sequence[str]) -> None:
        values = self.values
        if values is None:
            if not self.text:
                return
            # Text turned up after the column had looked numeric with too many distinct values
            # to bother counting: count from here on (distinct_count is then a lower bound).
            values = self.values = FrequentValues(limit=CATEGORY_LIMIT)
        values.update(present)
        keep = self.plan is not None and self.plan.keep_text
        if not self.text and not keep and len(values.counts) > DOMAIN_MAX_VALUES:
            # Numeric statistics never list values, and a column with this many distinct
            # numbers would get no domain even if text turned up later: stop counting them.
            self.values = None
            self.values_partial = True

    def document(self, *, include_sketch: bool) -> dict[str, Any]:
        """This feature's entry in statistics.json."""
        common = {"num_present": self.present, "num_missing": self.missing}
        kind = self.inferred_type
        if kind in NUMERIC_TYPES:
            low, high = self.minimum, self.maximum
            width = (high - low) / BUCKET_COUNT
            edges = [low + index * width for index in range(BUCKET_COUNT)] + [high]
            counts = self.sketch.cell_counts(edges[1:-1])
            kll: dict[str, Any] = {
                "buckets": [
                    {"lower_bound": edges[i], "upper_bound": edges[i + 1], "count": counts[i]}
                    for i in range(BUCKET_COUNT)
                ]
            }
            if include_sketch:
                kll["sketch"] = self.sketch.to_document()
            return {
                "name": self.name,
                "inferred_type": kind,
                "numerical_statistics": {
                    "common": common,
                    "mean": self.mean,
                    "sum": self.total,
                    "std_dev": math.sqrt(max(self.m2, 0.0) / self.count),
                    "min": low,
                    "max": high,
                    "distribution": {"kll": kll},
                },
            }
        values = self.values
        distinct = values.distinct_count() if values is not None else 0
        if self.values_partial:
            distinct = max(distinct, DOMAIN_MAX_VALUES + 1)
        buckets = [
            {"value": value, "count": count}
            for value, count in (values.most_common() if values is not None else [])
        ]
        return {
            "name": self.name,
            "inferred_type": kind,
            "string_statistics": {
                "common": common,
                "distinct_count": distinct,
                "distribution": {"categorical": {"buckets": buckets}},
            },
        }


class _Profiler:
    """One streaming pass over rows, feeding each column's summary chunk by chunk."""

    def __init__(self, columns: Sequence[str], plans: Mapping[str, _Plan] | None = None) -> None:
        self.plans = dict(plans or {})
        self.columns = [_Column(name, plan=self.plans.get(name)) for name in columns]
        self.item_count = 0
        self.widest = 0

    def consume(self, rows: Iterable[Sequence[str | None]]) -> None:
        iterator = iter(rows)
        while chunk := list(islice(iterator, CHUNK_ROWS)):
            self._add_chunk(chunk)

    def _add_chunk(self, chunk: list[Sequence[str | None]]) -> None:
        lengths = set(map(len, chunk))
        widest = max(lengths)
        self.widest = max(self.widest, widest)
        width = len(self.columns)
        for position in range(width, widest):
            # Wider rows than the names given: name the cells by position, as Model Monitor
            # names the columns of a CSV without a header. Earlier rows lacked them.
            name = f"_c{position}"
            self.columns.append(_Column(name, plan=self.plans.get(name), missing=self.item_count))
        width = max(width, widest)
        if lengths != {width}:
            chunk = [
                row if len(row) == width else [*row, *repeat(None, width - len(row))]
                for row in chunk
            ]
        self.item_count += len(chunk)
        for column, values in zip(self.columns, zip(*chunk, strict=True), strict=False):
            column.add(values)

    @property
    def present_names(self) -> list[str]:
        """The columns some row reached: trailing names no row reached are missing columns."""
        return [column.name for column in self.columns[: self.widest]]

    def statistics(self, *, include_sketch: bool = False) -> dict[str, Any]:
        return {
            "version": 0.0,
            "dataset": {"item_count": self.item_count},
            "features": [column.document(include_sketch=include_sketch) for column in self.columns],
        }


# ---------------------------------------------------------------------------------------------
# Profiles and constraints


def profile(
    *,
    rows: Iterable[Sequence[str | None]],
    columns: Sequence[str],
    include_sketch: bool = False,
) -> dict:
    """statistics.json for the rows, in one streaming pass with bounded memory per feature.

    Cells are text (``None`` or "" for missing). ``include_sketch`` adds each numeric
    feature's KLL sketch (as Model Monitor does); it is off by default because it makes the
    document a few hundred kilobytes per feature.
    """
    profiler = _Profiler(columns)
    profiler.consume(rows)
    return profiler.statistics(include_sketch=include_sketch)


def _suggested_domain(feature: FeatureStatistics) -> list[str] | None:
    categories = feature.categories
    distinct = feature.distinct_count if feature.distinct_count is not None else len(categories)
    if not categories or distinct > DOMAIN_MAX_VALUES or len(categories) < distinct:
        return None
    singletons = sum(1 for category in categories if category.count == 1)
    if singletons / len(categories) > DOMAIN_MAX_SINGLETON_SHARE:
        return None
    return sorted(category.value for category in categories)


def suggest_constraints(*, statistics: dict) -> dict:
    """constraints.json for a baseline, as Model Monitor suggests it: each feature's type and
    completeness, ``is_non_negative`` for numbers, a domain for low-cardinality text (see
    ``DOMAIN_MAX_VALUES``) and the default monitoring configuration."""
    features = []
    for feature in parse_statistics(statistics).features:
        rows = feature.num_present + feature.num_missing
        entry: dict[str, Any] = {
            "name": feature.name,
            "inferred_type": feature.inferred_type,
            "completeness": feature.num_present / rows if rows else 0.0,
        }
        if feature.inferred_type in NUMERIC_TYPES and feature.min is not None:
            entry["num_constraints"] = {"is_non_negative": feature.min >= 0}
        elif feature.inferred_type == STRING:
            domain = _suggested_domain(feature)
            if domain is not None:
                entry["string_constraints"] = {"domains": domain}
        features.append(entry)
    return {"version": 0.0, "features": features, "monitoring_config": default_monitoring_config()}


def baseline_from_csv(
    *,
    lines: Iterable[str],
    header: bool = True,
    columns: Sequence[str] | None = None,
    include_sketch: bool = False,
) -> tuple[dict, dict]:
    """(statistics.json, constraints.json) for a CSV training set, read as a stream.

    With ``header`` the first line names the columns unless ``columns`` is given; without
    either, columns are ``_c0``, ``_c1``... like Model Monitor's. Blank lines are skipped.
    """
    records = (row for row in csv.reader(lines) if row)
    names: list[str] = list(columns) if columns is not None else []
    if header:
        first = next(records, None)
        if columns is None and first is not None:
            names = first
    statistics = profile(rows=records, columns=names, include_sketch=include_sketch)
    return statistics, suggest_constraints(statistics=statistics)


# ---------------------------------------------------------------------------------------------
# Distances


def _exact(value: float) -> float:
    return int(value) if float(value).is_integer() else value


@dataclass(frozen=True)
class _Gap:
    """The largest gap between two distributions, where it is and which way it points."""

    distance: float
    index: int
    baseline_share: float
    current_share: float


def _largest_gap(
    baseline: Sequence[float],
    current: Sequence[float],
    *,
    cumulative: bool,
    compared: int | None = None,
) -> _Gap:
    """L-infinity distance between two count vectors over the same cells, as shares.

    The gap at each cell is ``|b * N_c - c * N_b| / (N_b * N_c)``: with whole counts the
    numerator is an exact integer, so a distance that is exactly 0.1 comes out as 0.1. Only
    the first ``compared`` cells are compared (all by default); the rest count in the totals.
    """
    baseline = [_exact(count) for count in baseline]
    current = [_exact(count) for count in current]
    base_total, current_total = sum(baseline), sum(current)
    if not base_total or not current_total:
        return _Gap(0.0, 0, 0.0, 0.0)
    limit = len(baseline) if compared is None else compared
    best, best_index = 0, 0
    running_base = running_current = 0
    for index, (base, now) in enumerate(zip(baseline[:limit], current[:limit], strict=True)):
        if cumulative:
            running_base += base
            running_current += now
        else:
            running_base, running_current = base, now
        gap = running_base * current_total - running_current * base_total
        if abs(gap) > abs(best):
            best, best_index = gap, index
    if cumulative:
        running_base = sum(baseline[: best_index + 1])
        running_current = sum(current[: best_index + 1])
    else:
        running_base, running_current = baseline[best_index], current[best_index]
    return _Gap(
        distance=abs(best) / (base_total * current_total),
        index=best_index,
        baseline_share=running_base / base_total,
        current_share=running_current / current_total,
    )


def _ks_critical(base_count: float, current_count: float) -> float:
    """Two-sample Kolmogorov-Smirnov critical distance at ``KS_ALPHA`` (asymptotic form)."""
    if not base_count or not current_count:
        return math.inf
    coefficient = math.sqrt(-math.log(KS_ALPHA / 2) / 2)
    return coefficient * math.sqrt((base_count + current_count) / (base_count * current_count))


def _bucket_cdf(buckets: Sequence[NumericBucket], point: float, *, strict: bool) -> float:
    """Count below ``point`` (or at it too, unless ``strict``), spreading each bucket's count
    evenly over its range; a zero-width bucket is all at its one value."""
    total = 0.0
    for bucket in buckets:
        lower, upper = bucket.lower_bound, bucket.upper_bound
        if upper < point or (upper == point and (lower < upper or not strict)):
            total += bucket.count
        elif lower < point:
            total += bucket.count * (point - lower) / (upper - lower)
    return total


def _cells_on(baseline: FeatureStatistics, current: FeatureStatistics) -> list[float]:
    """Current counts in the baseline's cells (below, 10 buckets, above), from statistics alone.

    With the current KLL sketch in the document the counts come from it; otherwise each of the
    current buckets is assumed evenly filled.
    """
    cuts = _cuts(baseline.edges)
    if current.sketch is not None:
        sketch = KllSketch.from_document(current.sketch)
        if sketch is not None and sketch.count:
            return list(sketch.cell_counts(cuts))
    edges = baseline.edges
    below = [_bucket_cdf(current.buckets, edge, strict=True) for edge in edges[:-1]]
    below.append(_bucket_cdf(current.buckets, edges[-1], strict=False))
    total = sum(bucket.count for bucket in current.buckets)
    cells = [below[0]]
    cells.extend(max(0.0, high - low) for low, high in zip(below, below[1:], strict=False))
    cells.append(max(0.0, total - below[-1]))
    return cells


def _categorical_gap(
    baseline: FeatureStatistics, current: Mapping[str, float], current_present: float
) -> tuple[_Gap, list[str], list[float], list[float]]:
    """The largest gap between value shares, with the values and both count lists.

    Shares are of all present values: what the value lists leave out (a truncated list, or
    values past the tracked limit) is one more cell on each side, weighed in the totals but
    not compared.
    """
    base = {category.value: category.count for category in baseline.categories}
    values = list(dict.fromkeys([*base, *current]))
    base_counts = [_exact(base.get(value, 0)) for value in values]
    current_counts = [_exact(current.get(value, 0)) for value in values]
    base_rest = max(0, _exact(baseline.num_present) - sum(base_counts))
    current_rest = max(0, _exact(current_present) - sum(current_counts))
    gap = _largest_gap(
        [*base_counts, base_rest],
        [*current_counts, current_rest],
        cumulative=False,
        compared=len(values),
    )
    return gap, values, base_counts, current_counts


def drift_metrics(*, baseline_statistics: dict, current_statistics: dict) -> dict[str, float]:
    """Per feature in both documents, the drift distance (``feature_baseline_drift_<f>``).

    Numeric: the same cumulative L-infinity distance as ``check``, with the current counts
    read off the current statistics (its KLL sketch when present, else evenly filled buckets),
    so it can differ slightly from the exact figure ``check`` computes from rows.
    Categorical: L-infinity between the listed values' shares.
    """
    baseline = parse_statistics(baseline_statistics)
    current = parse_statistics(current_statistics)
    metrics: dict[str, float] = {}
    for feature in baseline.features:
        now = current.feature(feature.name)
        if now is None:
            continue
        if feature.buckets and now.buckets:
            base_cells = [0, *(bucket.count for bucket in feature.buckets), 0]
            cells = _cells_on(feature, now)
            metrics[feature.name] = _largest_gap(base_cells, cells, cumulative=True).distance
        elif feature.categories and now.categories:
            counts = {category.value: category.count for category in now.categories}
            gap, *_ = _categorical_gap(feature, counts, now.num_present)
            metrics[feature.name] = gap.distance
    return metrics


def compare_distribution(
    *, baseline_statistics: dict, current_statistics: dict, name: str
) -> list[DistributionBar]:
    """Bars for a baseline-versus-current chart of one feature, on the baseline's buckets.

    Numeric: one bar per baseline bucket, plus "below"/"above" bars when current values fall
    outside the baseline's range. Text: one bar per value seen in either data set.
    """
    baseline = parse_statistics(baseline_statistics).feature(name)
    current = parse_statistics(current_statistics).feature(name)
    if baseline is None:
        return []
    if baseline.buckets:
        base_total = sum(bucket.count for bucket in baseline.buckets) or 1
        cells = _cells_on(baseline, current) if current and current.buckets else []
        current_total = sum(cells) or 1
        bars = []
        if cells and cells[0]:
            bars.append(
                DistributionBar(f"< {baseline.edges[0]:.4g}", 0.0, cells[0] / current_total)
            )
        for index, bucket in enumerate(baseline.buckets):
            closing = "]" if index == len(baseline.buckets) - 1 else ")"
            bars.append(
                DistributionBar(
                    f"[{bucket.lower_bound:.4g}, {bucket.upper_bound:.4g}{closing}",
                    bucket.count / base_total,
                    cells[index + 1] / current_total if cells else 0.0,
                )
            )
        if cells and cells[-1]:
            label = f"> {baseline.edges[-1]:.4g}"
            bars.append(DistributionBar(label, 0.0, cells[-1] / current_total))
        return bars
    counts = {c.value: c.count for c in current.categories} if current else {}
    current_present = current.num_present if current else 0
    _, values, base_counts, current_counts = _categorical_gap(baseline, counts, current_present)
    base_total = max(baseline.num_present, sum(base_counts)) or 1
    current_total = max(current_present, sum(current_counts)) or 1
    return [
        DistributionBar(value, base / base_total, now / current_total)
        for value, base, now in zip(values, base_counts, current_counts, strict=True)
    ]


# ---------------------------------------------------------------------------------------------
# Checking


def _shown(value: float, limit: float, *, scale: float = 1.0, places: int = 0) -> str:
    """``value * scale`` with the fewest decimals (at least ``places``) that still show it on
    its side of ``limit``: never "90% is below 90%"."""
    target = float(f"{limit * scale:.6g}")
    for digits in range(places, 10):
        text = f"{value * scale:.{digits}f}"
        shown = float(text)
        if shown != target and (shown > target) == (value > limit):
            return text
    return f"{value * scale:.10g}"


def _quote(value: str | None) -> str:
    if value is None:
        return ""
    short = value if len(value) <= 40 else value[:40] + "..."
    return f" (e.g. {short!r})"


def _number_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _numeric_drift(
    name: str,
    rule: FeatureConstraint,
    baseline: FeatureStatistics,
    column: _Column,
) -> tuple[float, Violation | None]:
    base_cells = [0, *(bucket.count for bucket in baseline.buckets), 0]
    cells = column.cells or []
    gap = _largest_gap(base_cells, cells, cumulative=True)
    config = rule.config
    base_count, current_count = sum(base_cells), sum(cells)
    if gap.distance <= config.comparison_threshold:
        return gap.distance, None
    if config.comparison_method.lower() == "robust" and gap.distance <= _ks_critical(
        base_count, current_count
    ):
        return gap.distance, None
    base_mean = baseline.mean
    current_mean = column.mean if column.count else None
    # Baseline share below the widest gap larger than current's: current mass moved up.
    upward = gap.baseline_share > gap.current_share
    spread = baseline.std_dev or 0.0
    if base_mean is not None and current_mean is not None:
        mean_up = current_mean > base_mean
        if abs(current_mean - base_mean) < 0.1 * spread or mean_up != upward:
            movement = "changed shape"
        else:
            movement = "moved above the baseline" if upward else "moved below the baseline"
    else:
        movement = "moved above the baseline" if upward else "moved below the baseline"
    description = (
        f"Baseline drift distance {_shown(gap.distance, config.comparison_threshold, places=2)}"
        f" exceeds threshold {config.comparison_threshold:g} for feature '{name}': the current"
        f" distribution {movement} (baseline mean {_number_text(base_mean)}, current mean"
        f" {_number_text(current_mean)})."
    )
    return gap.distance, Violation(name, BASELINE_DRIFT_CHECK, description)


def _categorical_drift(
    name: str,
    rule: FeatureConstraint,
    baseline: FeatureStatistics,
    column: _Column,
) -> tuple[float, Violation | None]:
    # Exact counts for the baseline's values; others from the bounded frequent-value summary.
    current: dict[str, float] = {}
    if column.values is not None:
        current.update(column.values.counts)
    current.update(column.baseline_counts)
    gap, values, _, _ = _categorical_gap(baseline, current, column.present)
    if not values:
        return 0.0, None
    threshold = rule.config.categorical_comparison_threshold
    if gap.distance <= threshold:
        return gap.distance, None
    description = (
        f"Baseline drift distance {_shown(gap.distance, threshold, places=2)} exceeds threshold"
        f" {threshold:g} for feature '{name}': {values[gap.index]!r} makes up"
        f" {gap.current_share * 100:.1f}% of current values against"
        f" {gap.baseline_share * 100:.1f}% in the baseline."
    )
    return gap.distance, Violation(name, BASELINE_DRIFT_CHECK, description)


def _plans(constraints: Constraints, baseline: DatasetStatistics) -> dict[str, _Plan]:
    plans = {}
    for rule in constraints.features:
        base = baseline.feature(rule.name)
        text = rule.inferred_type == STRING or (base is not None and base.inferred_type == STRING)
        plans[rule.name] = _Plan(
            keep_text=text,
            cuts=_cuts(base.edges) if base is not None and base.buckets else None,
            domain=frozenset(rule.domains) if rule.domains is not None else None,
            baseline_values=frozenset(c.value for c in base.categories)
            if base is not None and base.categories
            else None,
        )
    return plans


def _feature_violations(
    rule: FeatureConstraint, base: FeatureStatistics | None, column: _Column, rows: int
) -> tuple[list[Violation], float | None]:
    name, config = rule.name, rule.config
    found: list[Violation] = []
    if rule.completeness is not None and rows:
        completeness = column.present / rows
        if completeness < rule.completeness:
            found.append(
                Violation(
                    name,
                    COMPLETENESS_CHECK,
                    f"Completeness {_shown(completeness, rule.completeness, scale=100, places=1)}%"
                    f" is below the baseline's {rule.completeness * 100:g}% for feature"
                    f" '{name}': {column.missing} of {rows} values are missing.",
                )
            )
    if rule.inferred_type in NUMERIC_TYPES and column.present:
        wrong = column.text + (column.fractional if rule.inferred_type == INTEGRAL else 0)
        share = wrong / column.present
        threshold = config.datatype_check_threshold
        if share > threshold:
            example = column.first_text
            if rule.inferred_type == INTEGRAL and example is None:
                example = column.first_fractional
            found.append(
                Violation(
                    name,
                    DATA_TYPE_CHECK,
                    f"Data type match {_shown(1 - share, 1 - threshold, scale=100)}% is below"
                    f" {(1 - threshold) * 100:g}% for feature '{name}':"
                    f" {_shown(share, threshold, scale=100)}% of values are not"
                    f" {rule.inferred_type}{_quote(example)}.",
                )
            )
    if rule.domains is not None and column.present:
        share = (column.present - column.in_domain) / column.present
        threshold = config.domain_content_threshold
        if share > threshold:
            found.append(
                Violation(
                    name,
                    CATEGORICAL_VALUES_CHECK,
                    f"Domain match {_shown(1 - share, 1 - threshold, scale=100)}% is below"
                    f" {(1 - threshold) * 100:g}% for feature '{name}':"
                    f" {_shown(share, threshold, scale=100)}% of values are outside the"
                    f" baseline's {len(rule.domains)} values{_quote(column.first_outside)}.",
                )
            )
    distance: float | None = None
    if base is not None and base.buckets and column.count:
        distance, violation = _numeric_drift(name, rule, base, column)
    elif base is not None and base.categories and column.present:
        distance, violation = _categorical_drift(name, rule, base, column)
    else:
        violation = None
    if violation is not None and config.perform_comparison:
        found.append(violation)
    return (found if config.evaluate_constraints else []), distance


def check(
    *,
    rows: Iterable[Sequence[str | None]],
    columns: Sequence[str],
    baseline_statistics: dict,
    constraints: dict,
) -> CheckResult:
    """Check rows against a baseline in one streaming pass, as a Model Monitor execution does.

    ``columns`` names the cells of each row (for header-less capture, the baseline's names).
    Returns the current statistics.json, the violations in constraint_violations.json order
    (feature by feature, then extra columns) and each compared feature's drift distance. No
    rows at all means nothing to judge: no violations. With ``evaluate_constraints`` disabled
    only statistics and distances are produced.
    """
    baseline = parse_statistics(baseline_statistics)
    rules = parse_constraints(constraints)
    if not rules.features:
        # Statistics alone still say which features exist and how they were distributed.
        rules = replace(
            rules,
            features=tuple(
                FeatureConstraint(f.name, f.inferred_type, config=rules.monitoring_config)
                for f in baseline.features
            ),
        )
    profiler = _Profiler(columns, _plans(rules, baseline))
    profiler.consume(rows)
    statistics = profiler.statistics()
    by_name = {column.name: column for column in profiler.columns}
    present = profiler.present_names
    present_set = set(present)
    expected = [rule.name for rule in rules.features]
    violations: list[Violation] = []
    drift: dict[str, float] = {}
    for rule in rules.features:
        if rule.name not in present_set:
            violations.append(
                Violation(
                    rule.name,
                    MISSING_COLUMN_CHECK,
                    f"Feature '{rule.name}' is in the baseline but not in the current data"
                    f" (baseline has {len(expected)} columns, current data has {len(present)}).",
                )
            )
            continue
        found, distance = _feature_violations(
            rule, baseline.feature(rule.name), by_name[rule.name], profiler.item_count
        )
        violations.extend(found)
        if distance is not None:
            drift[rule.name] = distance
    expected_set = set(expected)
    for name in present:
        if name not in expected_set:
            violations.append(
                Violation(
                    name,
                    EXTRA_COLUMN_CHECK,
                    f"Column '{name}' is in the current data but not in the baseline"
                    f" (baseline has {len(expected)} columns, current data has {len(present)}).",
                )
            )
    if not profiler.item_count or not rules.monitoring_config.evaluate_constraints:
        violations = []
    return CheckResult(statistics=statistics, violations=violations, drift=drift)


# ---------------------------------------------------------------------------------------------
# Data capture


@dataclass
class CaptureCounts:
    """What ``rows_from_capture`` read; final once its rows have all been consumed."""

    events: int = 0
    rows: int = 0
    malformed: int = 0
    without_input: int = 0


class _Malformed(Exception):
    pass


def _csv_rows(text: str) -> list[list[str]]:
    if '"' in text:
        return [
            row
            for row in csv.reader(io.StringIO(text))
            if row and not (len(row) == 1 and not row[0].strip())
        ]
    return [line.split(",") for line in text.splitlines() if line.strip()]


def _json_row(values: Any) -> list[str]:
    cells = values if isinstance(values, list) else [values]
    return [value if value.__class__ is str else _text(value) for value in cells]


def _json_loads(text: str) -> Any:
    """JSON with numbers kept as written: "1.0" stays Fractional and "1" Integral, exactly as
    the model received them, and no float round trip is paid per cell."""
    return json.loads(text, parse_float=str, parse_int=str, parse_constant=str)


def _json_rows(document: Any) -> list[list[str]]:
    """Rows of a JSON request: ``[..]``, ``[[..], ..]``, ``{"instances": [..]}`` (rows or
    ``{"features": [..]}`` objects) or ``{"features": [..]}``."""
    if isinstance(document, Mapping):
        if "instances" in document:
            items = document["instances"]
        elif "features" in document:
            return [_json_row(document["features"])]
        else:
            raise _Malformed
        if not isinstance(items, list):
            raise _Malformed
    elif isinstance(document, list):
        items = document
    else:
        raise _Malformed
    if not any(isinstance(item, list | Mapping) for item in items):
        return [_json_row(items)] if items else []
    rows = []
    for item in items:
        if isinstance(item, list):
            rows.append(_json_row(item))
        elif isinstance(item, Mapping) and "features" in item:
            rows.append(_json_row(item["features"]))
        else:
            raise _Malformed
    return rows


def _json_text_rows(text: str) -> list[list[str]]:
    try:
        return _json_rows(_json_loads(text))
    except ValueError:
        pass
    # JSON Lines: one document per line.
    rows = []
    for line in text.splitlines():
        if line.strip():
            try:
                rows.extend(_json_rows(_json_loads(line)))
            except ValueError:
                raise _Malformed from None
    return rows


def _payload_rows(payload: Mapping[str, Any]) -> list[list[str]]:
    data = payload.get("data")
    if not isinstance(data, str):
        raise _Malformed
    encoding = str(payload.get("encoding", "")).upper()
    if encoding == "CSV":
        return _csv_rows(data)
    if encoding == "JSON":
        return _json_text_rows(data)
    if encoding != "BASE64":
        raise _Malformed
    try:
        text = base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise _Malformed from None
    media = str(payload.get("observedContentType", "")).split(";")[0].strip().lower()
    return _json_text_rows(text) if "json" in media else _csv_rows(text)


def rows_from_capture(
    *, lines: Iterable[str | bytes], counts: CaptureCounts | None = None
) -> Iterator[list[str]]:
    """The request rows of data-capture JSON lines, lazily, one list of cells per row.

    Reads ``captureData.endpointInput``: CSV text (a request may carry several lines), JSON
    (see ``_json_rows``; null becomes the empty, missing cell) or BASE64 of either, told apart
    by ``observedContentType``. A line that is not a capture event, or whose payload cannot be
    decoded, is skipped and counted in ``counts.malformed``; an event captured without its
    input (CaptureMode Output) is counted in ``counts.without_input``. Blank lines are ignored.
    """
    tally = counts if counts is not None else CaptureCounts()
    for line in lines:
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            tally.malformed += 1
            continue
        capture = event.get("captureData") if isinstance(event, Mapping) else None
        if not isinstance(capture, Mapping):
            tally.malformed += 1
            continue
        payload = capture.get("endpointInput")
        if payload is None:
            tally.without_input += 1
            continue
        try:
            if not isinstance(payload, Mapping):
                raise _Malformed
            rows = _payload_rows(payload)
        except _Malformed:
            tally.malformed += 1
            continue
        tally.events += 1
        tally.rows += len(rows)
        yield from rows
