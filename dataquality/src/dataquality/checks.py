"""The six checks of a Model Monitor execution and their violations (``dataquality``).

``check`` profiles the current rows with the plans built here, then judges each feature:
completeness, data type, domain and baseline drift per feature, and missing or extra columns
for the data set. Each violation's description says what was measured against what.
"""

from __future__ import annotations

from collections.abc import Sequence

from dataquality.distances import (
    _categorical_gap,
    _cuts,
    _ks_critical,
    _largest_gap,
)
from dataquality.documents import (
    Constraints,
    DatasetStatistics,
    FeatureConstraint,
    FeatureStatistics,
)
from dataquality.profiler import _Column, _Plan
from dataquality.types import (
    BASELINE_DRIFT_CHECK,
    CATEGORICAL_VALUES_CHECK,
    COMPLETENESS_CHECK,
    DATA_TYPE_CHECK,
    EXTRA_COLUMN_CHECK,
    INTEGRAL,
    MISSING_COLUMN_CHECK,
    NUMERIC_TYPES,
    STRING,
    Violation,
)


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


def _missing_column(name: str, expected: Sequence[str], present: Sequence[str]) -> Violation:
    return Violation(
        name,
        MISSING_COLUMN_CHECK,
        f"Feature '{name}' is in the baseline but not in the current data"
        f" (baseline has {len(expected)} columns, current data has {len(present)}).",
    )


def _extra_column(name: str, expected: Sequence[str], present: Sequence[str]) -> Violation:
    return Violation(
        name,
        EXTRA_COLUMN_CHECK,
        f"Column '{name}' is in the current data but not in the baseline"
        f" (baseline has {len(expected)} columns, current data has {len(present)}).",
    )
