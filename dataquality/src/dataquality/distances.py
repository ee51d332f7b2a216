"""Distances between a baseline distribution and the current one (``dataquality``).

The L-infinity gaps behind ``baseline_drift_check`` (cumulative over the baseline's bucket
cells for a number, per value for text), the Kolmogorov-Smirnov critical value the ``Robust``
method adds, and what two statistics.json documents alone can tell: ``drift_metrics`` and the
bars of a baseline-versus-current chart (``compare_distribution``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dataquality.documents import FeatureStatistics, NumericBucket, parse_statistics
from dataquality.sketch import KllSketch
from dataquality.types import KS_ALPHA


@dataclass(frozen=True)
class DistributionBar:
    """One bar of a baseline-versus-current chart: shares of each data set (0..1)."""

    label: str
    baseline: float
    current: float


def _cuts(edges: Sequence[float]) -> tuple[float, ...]:
    """Cut points giving cells: below the minimum, each ``[lower, upper)`` bucket with the
    last one closed at the maximum, and above the maximum."""
    return (*edges[:-1], math.nextafter(edges[-1], math.inf))


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
    base_total: float = sum(baseline)
    current_total: float = sum(current)
    if not base_total or not current_total:
        return _Gap(0.0, 0, 0.0, 0.0)
    limit = len(baseline) if compared is None else compared
    best: float = 0
    best_index = 0
    running_base: float = 0
    running_current: float = 0
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
