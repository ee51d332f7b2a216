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
percent) and value counts (see ``sketch``). A text feature's counts are exact up to
``2 * CATEGORY_LIMIT`` distinct values; past that the ``CATEGORY_LIMIT`` most frequent are
kept (each count at most total / ``CATEGORY_LIMIT`` low) and ``distinct_count`` is a
HyperLogLog estimate. A feature that looks numeric stops counting values past
``DOMAIN_MAX_VALUES`` distinct ones (its statistics never list them); should text turn up
later, its value counts start there and its ``distinct_count`` is a lower bound. When
checking, the baseline's bucket edges, domain and listed values are known up front, so the
drift and domain counts for them are exact.

Layout: this module holds the entry points (``profile``, ``suggest_constraints``,
``baseline_from_csv`` and ``check``) and re-exports the rest of the public API from ``types``
(type and check names, limits, ``Violation``, ``CheckResult``), ``documents`` (the JSON
documents as typed values and their parsing), ``profiler`` (the streaming pass behind
statistics.json), ``distances`` (drift distances, ``drift_metrics``,
``compare_distribution``), ``checks`` (the six checks and their violations) and ``capture``
(rows from data-capture files); the bounded-memory summaries are in ``sketch``. Nothing here
imports Django or anything outside the standard library.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from dataquality.capture import CaptureCounts, rows_from_capture
from dataquality.checks import (
    _extra_column,
    _feature_violations,
    _missing_column,
    _plans,
)
from dataquality.distances import DistributionBar, compare_distribution, drift_metrics
from dataquality.documents import (
    CategoryCount,
    Constraints,
    DatasetStatistics,
    FeatureConstraint,
    FeatureStatistics,
    MonitoringConfig,
    NumericBucket,
    default_monitoring_config,
    feature_distribution,
    parse_constraints,
    parse_statistics,
    parse_violations,
)
from dataquality.profiler import _Profiler
from dataquality.sketch import FrequentValues, KllSketch, cut_counts
from dataquality.types import (
    BASELINE_DRIFT_CHECK,
    BUCKET_COUNT,
    CATEGORICAL_VALUES_CHECK,
    CATEGORY_LIMIT,
    CHECK_TYPES,
    CHUNK_ROWS,
    COMPLETENESS_CHECK,
    DATA_TYPE_CHECK,
    DOMAIN_MAX_SINGLETON_SHARE,
    DOMAIN_MAX_VALUES,
    EXTRA_COLUMN_CHECK,
    FRACTIONAL,
    INTEGRAL,
    KS_ALPHA,
    MISSING_COLUMN_CHECK,
    NUMERIC_TYPES,
    STRING,
    UNKNOWN,
    CheckResult,
    Violation,
)

__all__ = [
    "BASELINE_DRIFT_CHECK",
    "BUCKET_COUNT",
    "CATEGORICAL_VALUES_CHECK",
    "CATEGORY_LIMIT",
    "CHECK_TYPES",
    "CHUNK_ROWS",
    "COMPLETENESS_CHECK",
    "DATA_TYPE_CHECK",
    "DOMAIN_MAX_SINGLETON_SHARE",
    "DOMAIN_MAX_VALUES",
    "EXTRA_COLUMN_CHECK",
    "FRACTIONAL",
    "INTEGRAL",
    "KS_ALPHA",
    "MISSING_COLUMN_CHECK",
    "NUMERIC_TYPES",
    "STRING",
    "UNKNOWN",
    "CaptureCounts",
    "CategoryCount",
    "CheckResult",
    "Constraints",
    "DatasetStatistics",
    "DistributionBar",
    "FeatureConstraint",
    "FeatureStatistics",
    "FrequentValues",
    "KllSketch",
    "MonitoringConfig",
    "NumericBucket",
    "Violation",
    "baseline_from_csv",
    "check",
    "compare_distribution",
    "cut_counts",
    "default_monitoring_config",
    "drift_metrics",
    "feature_distribution",
    "parse_constraints",
    "parse_statistics",
    "parse_violations",
    "profile",
    "rows_from_capture",
    "suggest_constraints",
]


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
            violations.append(_missing_column(rule.name, expected, present))
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
            violations.append(_extra_column(name, expected, present))
    if not profiler.item_count or not rules.monitoring_config.evaluate_constraints:
        violations = []
    return CheckResult(statistics=statistics, violations=violations, drift=drift)
