"""Model Monitor's JSON documents as typed values (``dataquality``).

statistics.json, constraints.json and constraint_violations.json, parsed the way real files
need (unknown keys ignored, missing parts defaulted), and the default ``monitoring_config``
that suggested constraints carry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from dataquality.types import FRACTIONAL, STRING, UNKNOWN, Violation, _text


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
