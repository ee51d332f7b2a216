"""The streaming pass that turns rows into statistics.json (``dataquality``).

Rows are read once, in chunks of ``CHUNK_ROWS``, and each feature keeps a summary of fixed size
(see "Streaming" in ``dataquality``'s docstring). ``check`` hands the profiler a
``_Plan`` per feature so that the counts its checks need are exact.
"""

from __future__ import annotations

import math
import operator
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice, repeat
from typing import Any, cast

from dataquality.sketch import FrequentValues, KllSketch, cut_counts
from dataquality.types import (
    BUCKET_COUNT,
    CATEGORY_LIMIT,
    CHUNK_ROWS,
    DOMAIN_MAX_VALUES,
    FRACTIONAL,
    INTEGRAL,
    NUMERIC_TYPES,
    STRING,
    UNKNOWN,
    _looks_integral,
    _parse_number,
    _text,
)


@dataclass(frozen=True)
class _Plan:
    """What ``check`` knows about a feature before reading: it makes those counts exact."""

    keep_text: bool = False
    cuts: tuple[float, ...] | None = None
    domain: frozenset[str] | None = None
    baseline_values: frozenset[str] | None = None


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
