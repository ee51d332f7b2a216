"""Pure rules for variant weights: validation, traffic shares, "move X % from A to B".

No database, no Django and no AWS here, so the rules can be checked exhaustively (the hypothesis
property tests in tests/shifts/test_weights.py). SageMaker routes by weight / sum of
weights, so two weight sets that give the same shares route traffic the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from core.errors import Invalid

# Percentage points. Shares typed by hand (33.33 + 33.33 + 33.34) need some slack, and a
# change smaller than this does not move any traffic worth approving.
SUM_TOLERANCE = 0.01
SHARE_TOLERANCE = 0.01
# Relative tolerance for "the live weights are still the ones the proposal was made
# against": weights go through JSON and float columns, nothing else may differ.
WEIGHT_RTOL = 1e-6
# SageMaker keeps weights as 32-bit floats: a positive weight below this (say 1e-320) would
# arrive as 0, and one far above it loses all precision. Refused before any call is made.
MIN_POSITIVE_WEIGHT = 1e-6
MAX_WEIGHT = 1e12


def shares(weights: Mapping[str, float]) -> dict[str, float]:
    """Each variant's share of traffic in percent (all zero when every weight is zero).

    Scaled by the largest weight first so that huge weights cannot overflow the sum.
    """
    largest = max(weights.values(), default=0.0)
    if largest <= 0:
        return dict.fromkeys(weights, 0.0)
    scaled = {name: value / largest for name, value in weights.items()}
    total = math.fsum(scaled.values())
    return {name: 100.0 * value / total for name, value in scaled.items()}


def same_weights(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    """True when both name the same variants with the same weights (not just shares):
    an approval binds to the exact live state, and (1, 1) → (2, 2) is somebody's change."""
    if set(a) != set(b):
        return False
    return all(
        math.isclose(float(a[name]), float(b[name]), rel_tol=WEIGHT_RTOL, abs_tol=1e-12)
        for name in a
    )


def _number(name: str, value: object, errors: list[str]) -> float | None:
    if isinstance(value, bool):
        errors.append(f"{name}: {value!r} is not a number.")
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        errors.append(f"{name}: {value!r} is not a number.")
        return None
    if not math.isfinite(number):
        errors.append(f"{name}: the weight must be a finite number.")
        return None
    if number < 0:
        errors.append(f"{name}: the weight cannot be negative.")
        return None
    if 0 < number < MIN_POSITIVE_WEIGHT:
        smallest = f"{MIN_POSITIVE_WEIGHT:g}"
        errors.append(f"{name}: {number:g} is too small to route by; use 0 or at least {smallest}.")
        return None
    if number > MAX_WEIGHT:
        errors.append(f"{name}: {number:g} is above the largest weight, {MAX_WEIGHT:g}.")
        return None
    return number


def validate_weights(
    *, variants: list[str], current: Mapping[str, float], desired: Mapping[str, object]
) -> dict[str, float]:
    """The desired weights as floats, in the endpoint's variant order, or Invalid.

    Refused: no production variant; a variant of the endpoint without a weight; a weight
    for a variant the endpoint does not have; a weight that is not 0 or a finite number
    between MIN_POSITIVE_WEIGHT and MAX_WEIGHT;
    all weights zero (SageMaker would route nowhere); and a change that leaves every
    variant's share of traffic where it is now (within SHARE_TOLERANCE points).
    """
    if not variants:
        raise Invalid("The endpoint has no production variant to shift traffic between.")
    errors: list[str] = []
    missing = [name for name in variants if name not in desired]
    unknown = sorted(str(name) for name in desired if name not in variants)
    if missing:
        errors.append(f"Every variant needs a weight; missing: {', '.join(missing)}.")
    if unknown:
        errors.append(
            f"Unknown variant(s) {', '.join(unknown)}; this endpoint has {', '.join(variants)}."
        )
    if errors:
        raise Invalid(errors)
    cleaned: dict[str, float] = {}
    for name in variants:
        number = _number(name, desired[name], errors)
        if number is not None:
            cleaned[name] = number
    if errors:
        raise Invalid(errors)
    if not any(value > 0 for value in cleaned.values()):
        raise Invalid("At least one variant must receive traffic; every weight is 0.")
    before = shares({name: float(current.get(name, 0.0)) for name in variants})
    after = shares(cleaned)
    if set(current) == set(variants) and all(
        abs(after[name] - before[name]) <= SHARE_TOLERANCE for name in variants
    ):
        split = ", ".join(f"{name} {before[name]:.2f} %" for name in variants)
        raise Invalid(f"Nothing would change: the traffic is already split {split}.")
    return cleaned


def check_percentages(percentages: Mapping[str, float]) -> None:
    """The form's rule: percentages per variant must add up to 100 (± SUM_TOLERANCE)."""
    total = math.fsum(percentages.values())
    if not math.isfinite(total) or abs(total - 100.0) > SUM_TOLERANCE:
        raise Invalid(f"The shares add up to {total:g} %, not 100 %.")


def move_share(
    *, current: Mapping[str, float], source: str, destination: str, percent: float
) -> dict[str, float]:
    """New shares (percent) after moving `percent` points of traffic from one variant to
    another; the other variants keep their share."""
    if source not in current or destination not in current:
        unknown = ", ".join(n for n in (source, destination) if n not in current)
        raise Invalid(f"Unknown variant(s): {unknown}.")
    if source == destination:
        raise Invalid("Choose two different variants to move traffic between.")
    if not math.isfinite(percent) or percent <= 0:
        raise Invalid("The amount to move must be a number of percent above 0.")
    now = shares(current)
    if percent > now[source] + SUM_TOLERANCE:
        raise Invalid(
            f"{source} only receives {now[source]:.2f} % of the traffic; "
            f"cannot move {percent:g} % away from it."
        )
    moved = min(percent, now[source])
    result = dict(now)
    result[source] = max(0.0, now[source] - moved)
    result[destination] = now[destination] + moved
    return result
