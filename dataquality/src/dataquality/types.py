"""Names and cell values shared by the data-quality engine (``dataquality``).

The inferred-type and check-type names Model Monitor writes, the engine's fixed limits, how
a cell's text is read (number or text, Integral or Fractional) and the results ``check`` hands
back: ``Violation`` and ``CheckResult``. Nothing here imports Django.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

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


def _parse_number(text: str) -> float | None:
    """The number a CSV cell holds, or None if it is text (see ``dataquality``)."""
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
