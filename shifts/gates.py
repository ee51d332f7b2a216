"""Gates for a staged traffic shift: is the candidate variant worse than the baseline over one
bake window? Pure (no Django, no AWS, no database): the numbers come from CloudWatch's
per-variant metrics, the verdict goes into the plan's report, so every value and threshold is
also given in words.

Each gate answers "pass", "fail" or "wait" (not enough evidence either way yet):

* traffic: the candidate must have served `min_invocations` requests before the plan may move
  on. Below that the verdict is "wait", with one exception: an error-rate gate that already
  shows the candidate worse with the required confidence fails it (100 % errors on 50
  requests is not something to keep serving while waiting for the 100th). Latency gates never
  fail below `min_invocations`: a p99 over a few dozen requests is just the slowest of them.

* error_rate (5XX) and error_rate_4xx: we bound the difference "candidate rate − baseline rate"
  with one-sided bounds at `confidence`, and fail only when even the lower bound is above the
  allowed margin, pass only when even the upper bound is within it, and wait otherwise. Each
  rate gets exact (Clopper-Pearson) binomial bounds, and the two are combined into bounds on
  the difference by Newcombe's hybrid method, so the baseline's own uncertainty counts too
  (it matters at the 50 % step). So a few errors at 5 % traffic neither pass nor fail by
  chance: with little data the bounds are wide and take in the margin. Exact rather than the
  usual normal approximations (Wald, Wilson), because those are too sure of themselves on
  small counts: with Wilson bounds, 1 error in 17 requests would count as proof of being more
  than 1 point worse than a baseline at 0.3 %, and a candidate right at the margin would be
  rolled back up to 20 % of the time instead of 5 %. The tests sum the binomial exactly: in
  the cases they cover, a candidate at the margin fails (or passes) at most 1 − confidence of
  the time. Beyond a billion requests (no bake window has that
  many) the Wilson bounds stand in, which by then agree with the exact ones.

* latency_p99 and latency_p50: CloudWatch gives percentiles, not samples, so there is no test
  to run: the candidate fails when its percentile is above `ratio` × the baseline's, and waits
  when either side has no data.

The overall outcome is "fail" if any gate fails, "pass" if every gate passes, else "wait".

Inputs, as CloudWatch gives them:

* Counts are Sums, which boto3 returns as floats: a whole float (2412.0) is taken as the int, a
  negative, NaN, infinite or fractional count is a ValueError (a bug upstream, not a verdict).
  Any size works (10^12 and far beyond) without overflow.
* More errors than invocations can happen when the metrics' data points arrive at different
  times; the rate is then taken as 100 % and the value says so.
* A baseline that served no requests (the 100 % step) is taken as having a 0 % error rate, so
  the candidate is held to the margin alone. That leans towards rolling back, the safe side;
  a caller that wants the candidate compared with the baseline's real rate passes the
  baseline's window from the step before.
* Latencies are in microseconds (ModelLatency's unit), None when there is no data point;
  negative or NaN is a ValueError. They are shown in milliseconds.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

from shifts.deployment_notes import duration

GateName = Literal[
    "error_rate",
    "error_rate_4xx",
    "latency_p99",
    "latency_p50",
    "traffic",
    "alarms",
    "model_monitor",
]
Word = Literal["pass", "fail", "wait"]

# Python refuses to print an int of 4300+ digits; counts above this are shown as a magnitude.
_PRINTABLE = 10**15

_LABELS: dict[str, str] = {
    "traffic": "traffic",
    "error_rate": "5XX rate",
    "error_rate_4xx": "4XX rate",
    "latency_p99": "p99 latency",
    "latency_p50": "p50 latency",
    "alarms": "alarms",
    "model_monitor": "Model Monitor",
}


# --- inputs -------------------------------------------------------------------------------


def _count(field: str, value: object) -> int:
    """A CloudWatch Sum as an int: whole floats accepted, anything that is not a count refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{field}: {value!r} is not a count of requests.")
    if isinstance(value, numbers.Integral):
        whole = int(value)
    else:
        number = float(value)
        if math.isnan(number):
            raise ValueError(f"{field} is NaN: CloudWatch gives no NaN, so this is a bug upstream.")
        if math.isinf(number) or not number.is_integer():
            raise ValueError(f"{field} is {number!r}: a count of requests is a whole number.")
        whole = int(number)
    if whole < 0:
        raise ValueError(f"{field} is {whole}: a count of requests cannot be negative.")
    return whole


def _latency(field: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{field}: {value!r} is not a latency in microseconds.")
    number = float(value)
    if math.isnan(number):
        raise ValueError(f"{field} is NaN: pass None when CloudWatch has no data point.")
    if number < 0:
        raise ValueError(f"{field} is {number!r}: a latency cannot be negative.")
    return number


def _finite(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{field}: {value!r} is not a number.")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{field} is {number!r}: it must be a finite number.")
    return number


@dataclass(frozen=True)
class VariantWindow:
    """One variant's numbers over the bake window, as CloudWatch reports them.

    Validated on construction so that a bad data point fails where it was read, not later
    inside a verdict: counts become ints, latencies floats (see the module docstring).
    """

    invocations: int  # Sum of Invocations
    errors_5xx: int  # Sum of Invocation5XXErrors
    errors_4xx: int  # Sum of Invocation4XXErrors
    latency_p99_us: float | None  # ModelLatency p99 in microseconds, None when no data
    latency_p50_us: float | None

    def __post_init__(self) -> None:
        for name in ("invocations", "errors_5xx", "errors_4xx"):
            object.__setattr__(self, name, _count(name, getattr(self, name)))
        for name in ("latency_p99_us", "latency_p50_us"):
            object.__setattr__(self, name, _latency(name, getattr(self, name)))


@dataclass(frozen=True)
class GateThresholds:
    """What "worse" means for one plan. The defaults suit a model served at steady latency.

    The error margins are absolute (0.01 is one percentage point), because a relative margin
    on a baseline at 0 % errors would forbid a single error. Refused on construction when a
    value cannot mean anything (NaN, a confidence outside [0.5, 1), a ratio ≤ 0).
    """

    error_rate_margin: float = 0.01  # candidate 5XX rate may exceed baseline's by this much
    error_4xx_margin: float | None = None  # the same for 4XX; None: not gated
    confidence: float = 0.95  # how sure the error-rate test must be before it passes or fails
    latency_p99_ratio: float = 1.5  # candidate p99 <= ratio x baseline p99
    latency_p50_ratio: float | None = 1.3  # the same for p50; None: not gated
    min_invocations: int = 100  # candidate invocations before the plan may move on
    # Opt-in: no Model Monitor run finished since the step went live may report constraint
    # violations. It judges the endpoint's captured data, not the candidate alone.
    model_monitor: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.model_monitor, bool):
            raise TypeError(f"model_monitor is {self.model_monitor!r}: it is true or false.")
        for name in ("error_rate_margin", "error_4xx_margin"):
            value = getattr(self, name)
            if value is None and name == "error_4xx_margin":
                continue
            margin = _finite(name, value)
            if not -1.0 <= margin <= 1.0:
                raise ValueError(
                    f"{name} is {margin!r}: it is a difference of rates, between -1 and 1 "
                    "(0.01 is one percentage point)."
                )
            object.__setattr__(self, name, margin)
        confidence = _finite("confidence", self.confidence)
        if not 0.5 <= confidence < 1.0:
            raise ValueError(
                f"confidence is {confidence!r}: it must be at least 0.5 and below 1 (0.95 is 95 %)."
            )
        object.__setattr__(self, "confidence", confidence)
        for name in ("latency_p99_ratio", "latency_p50_ratio"):
            value = getattr(self, name)
            if value is None and name == "latency_p50_ratio":
                continue
            ratio = _finite(name, value)
            if ratio <= 0:
                raise ValueError(f"{name} is {ratio!r}: it must be above 0 (1.5 allows +50 %).")
            object.__setattr__(self, name, ratio)
        object.__setattr__(self, "min_invocations", _count("min_invocations", self.min_invocations))


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict, with its numbers in words for the plan's report."""

    gate: GateName
    verdict: Word
    value: str  # e.g. "B 4.8 % (116 of 2,412)"
    threshold: str  # e.g. "≤ A 0.3 % + 1.0 point"
    reason: str  # one sentence a person reads in the plan report


@dataclass(frozen=True)
class Verdict:
    """The window's verdict: "fail" if any gate fails, "pass" if all pass, else "wait"."""

    outcome: Word
    results: tuple[GateResult, ...]
    summary: str  # e.g. "B 5XX 4.8 % vs A 0.3 % over 10 min, 2,412 invocations: worse on ..."


# --- statistics ---------------------------------------------------------------------------

# Up to this many requests on a side its bounds are exact (Clopper-Pearson); beyond, the Wilson
# score bounds, which by then agree with the exact ones to far less than any margin worth
# setting, while the incomplete beta function loses precision (and no endpoint serves a
# billion requests in one bake window).
EXACT_UP_TO = 10**9

_TINY = 1e-300  # keeps the continued fraction away from dividing by zero
_CONVERGED = 1e-15
_MAX_TERMS = 100_000  # about 100 suffice at a billion requests; a bound, not a budget


def z_for(confidence: float) -> float:
    """The one-sided normal quantile: 0.95 → 1.645 (each bound is exceeded 5 % of the time)."""
    return NormalDist().inv_cdf(confidence)


def _rate(errors: int, invocations: int) -> float:
    """errors / invocations, capped at 1 (see the module docstring); exact for any size."""
    return min(errors, invocations) / invocations


def _continued_fraction(a: float, b: float, x: float) -> float:
    """The incomplete beta function's continued fraction (modified Lentz), which converges
    quickly for x < (a + 1) / (a + b + 2)."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_TERMS + 1):
        for numerator in (
            m * (b - m) * x / ((a - 1.0 + 2 * m) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 1.0 + 2 * m)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            step = d * c
            h *= step
        if abs(step - 1.0) < _CONVERGED:
            break
    return h


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), here P(Binomial(a + b - 1, x) ≥ a)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _continued_fraction(a, b, x) / a
    return 1.0 - front * _continued_fraction(b, a, 1.0 - x) / b


def _exact_lower(errors: int, invocations: int, alpha: float) -> float:
    """The Clopper-Pearson lower bound: the smallest rate p for which `errors` or more out of
    `invocations` would still happen at least alpha of the time, P(X ≥ errors | p) = alpha.

    Found by Newton's method kept inside a bracket by bisection. The bracket's top is the
    observed rate, where that probability is at least a half (the binomial's median is its
    mean when the mean is whole), and alpha is at most a half.
    """
    if errors == 0:
        return 0.0
    if errors >= invocations:
        return float(alpha ** (1.0 / invocations))
    a, b = float(errors), float(invocations - errors + 1)
    low, high = 0.0, errors / invocations
    start = wilson_bounds(errors, invocations, z_for(1.0 - alpha))[0]
    p = start if 0.0 < start < high else high / 2
    log_beta = _log_beta(a, b)
    for _ in range(200):
        excess = _incomplete_beta(a, b, p) - alpha
        if excess > 0:
            high = p
        else:
            low = p
        density = math.exp((a - 1.0) * math.log(p) + (b - 1.0) * math.log1p(-p) - log_beta)
        newton = p - excess / density if density > 0 else math.nan
        following = newton if low < newton < high else (low + high) / 2
        if abs(following - p) <= _CONVERGED * p or excess == 0:
            break
        p = following
    return p


def exact_bounds(errors: int, invocations: int, alpha: float) -> tuple[float, float]:
    """Clopper-Pearson ("exact") bounds on a rate, each one-sided: the true rate is below the
    lower bound at most alpha of the time, and above the upper one at most alpha of the time.

    Conservative by construction, which is the point: unlike the normal approximations it
    does not claim a rate is above 1 % on 1 error in 17 requests.
    """
    if invocations == 0:
        return 0.0, 1.0
    errors = min(errors, invocations)
    lower = _exact_lower(errors, invocations, alpha)
    upper = 1.0 - _exact_lower(invocations - errors, invocations, alpha)
    rate = errors / invocations
    return max(0.0, min(rate, lower)), min(1.0, max(rate, upper))


def wilson_bounds(errors: int, invocations: int, z: float) -> tuple[float, float]:
    """Wilson score bounds for a rate, each one-sided at the confidence z stands for.

    (0, 1) when there were no invocations. Written with 1/n rather than n so that counts
    beyond a float's range (10^400) still work, and clamped around the observed rate so that
    rounding can never put a bound on the wrong side of it.
    """
    if invocations == 0:
        return 0.0, 1.0
    p = _rate(errors, invocations)
    inv_n = 1 / invocations
    k = z * z * inv_n
    centre = (p + k / 2) / (1 + k)
    half = z * math.sqrt(p * (1 - p) * inv_n + k * inv_n / 4) / (1 + k)
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def rate_bounds(errors: int, invocations: int, confidence: float) -> tuple[float, float]:
    """One-sided bounds on a rate at `confidence`: exact up to EXACT_UP_TO invocations,
    Wilson beyond."""
    if invocations <= EXACT_UP_TO:
        return exact_bounds(errors, invocations, 1.0 - confidence)
    return wilson_bounds(errors, invocations, z_for(confidence))


def combine_bounds(
    rate_1: float, bounds_1: tuple[float, float], rate_2: float, bounds_2: tuple[float, float]
) -> tuple[float, float]:
    """Bounds on rate_1 − rate_2 from each rate's own bounds, Newcombe's hybrid method.

    Newcombe (1998), "Interval estimation for the difference between independent
    proportions", Statistics in Medicine 17: each side's distance to its own bound, combined
    in quadrature (method 10 with Wilson bounds, 11 with continuity-corrected ones; here
    mostly exact ones).
    """
    (low_1, high_1), (low_2, high_2) = bounds_1, bounds_2
    difference = rate_1 - rate_2
    lower = difference - math.hypot(rate_1 - low_1, high_2 - rate_2)
    upper = difference + math.hypot(high_1 - rate_1, rate_2 - low_2)
    return lower, upper


def difference_bounds(
    *,
    candidate_errors: int,
    candidate_invocations: int,
    baseline_errors: int,
    baseline_invocations: int,
    confidence: float,
) -> tuple[float, float]:
    """One-sided bounds on (candidate rate − baseline rate) at `confidence`.

    The candidate must have invocations. A baseline without any counts as 0 % with no
    uncertainty (see the module docstring).
    """
    candidate = _rate(candidate_errors, candidate_invocations)
    candidate_bounds = rate_bounds(candidate_errors, candidate_invocations, confidence)
    if baseline_invocations == 0:
        return combine_bounds(candidate, candidate_bounds, 0.0, (0.0, 0.0))
    baseline = _rate(baseline_errors, baseline_invocations)
    baseline_bounds = rate_bounds(baseline_errors, baseline_invocations, confidence)
    return combine_bounds(candidate, candidate_bounds, baseline, baseline_bounds)


# --- words --------------------------------------------------------------------------------


def _number(n: int) -> str:
    """2412 → "2,412"; printable for any size."""
    if n < _PRINTABLE:
        return f"{n:,}"
    return f"about 10^{round(math.log10(n))}"  # math.log10 takes ints of any size


def _percent(rate: float) -> str:
    """One decimal, never rounding a nonzero rate to 0.0 % or a partial one to 100.0 %."""
    points = rate * 100
    if 0 < points < 0.05:
        return "< 0.1 %"
    if 99.95 <= points < 100:
        return "> 99.9 %"
    return f"{points:.1f} %"


def _points(difference: float) -> str:
    points = difference * 100
    text = f"{abs(points):.1f}"
    sign = "−" if points < 0 and text != "0.0" else ""
    return f"{sign}{text} {'point' if text == '1.0' else 'points'}"


def _margin(margin: float) -> str:
    """+ 1.0 point, − 0.5 points (a negative margin asks the candidate to be better)."""
    sign = "−" if margin < 0 else "+"
    return f"{sign} {_points(abs(margin))}"


def _confidence(confidence: float) -> str:
    return f"{round(confidence * 100, 4):g} %"


def _ms(microseconds: float) -> str:
    if math.isinf(microseconds):
        return "∞ ms"
    ms = microseconds / 1000
    if ms >= 1 or ms == 0:
        return f"{ms:,.1f} ms"
    return f"{ms:.2g} ms"


def _ratio(ratio: float) -> str:
    return f"{ratio:g} ×"


def _rate_text(errors: int, invocations: int) -> str:
    """ "4.8 % (116 of 2,412)", or the reason there is no rate."""
    if invocations == 0:
        return "no requests"
    rate = _percent(_rate(errors, invocations))
    if errors > invocations:
        return f"{rate} ({_number(errors)} errors reported for {_number(invocations)} requests)"
    return f"{rate} ({_number(errors)} of {_number(invocations)})"


def _short_rate(errors: int, invocations: int) -> str:
    return _percent(_rate(errors, invocations)) if invocations else "no requests"


# --- gates --------------------------------------------------------------------------------


def _traffic_gate(
    candidate: VariantWindow, thresholds: GateThresholds, name: str, confidence: str
) -> GateResult:
    served, needed = candidate.invocations, thresholds.min_invocations
    value = f"{name} {_number(served)} invocations"
    threshold = f"≥ {_number(needed)} invocations"
    if served >= needed:
        reason = f"{name} served {_number(served)} requests, enough to judge it."
        return GateResult("traffic", "pass", value, threshold, reason)
    reason = (
        f"{name} served {_number(served)} of the {_number(needed)} requests needed for a verdict; "
        f"until then only an error rate already worse with {confidence} confidence fails it."
    )
    return GateResult("traffic", "wait", value, threshold, reason)


def _error_gate(
    *,
    gate: GateName,
    kind: str,
    candidate_errors: int,
    candidate_invocations: int,
    baseline_errors: int,
    baseline_invocations: int,
    margin: float,
    thresholds: GateThresholds,
    candidate_name: str,
    baseline_name: str,
) -> GateResult:
    confidence = _confidence(thresholds.confidence)
    value = f"{candidate_name} {_rate_text(candidate_errors, candidate_invocations)}"
    if baseline_invocations == 0:
        threshold = f"≤ {_percent(0.0)} {_margin(margin)} ({baseline_name} served no requests)"
        against = f"0 % {_margin(margin)}"
        note = f" ({baseline_name} served no requests, so the margin alone counts)"
    else:
        base = _percent(_rate(baseline_errors, baseline_invocations))
        threshold = f"≤ {baseline_name} {base} {_margin(margin)}"
        against = f"{baseline_name}'s {base} {_margin(margin)}"
        note = ""
    if candidate_invocations == 0:
        reason = f"{candidate_name} served no requests in the window: no {kind} rate to judge yet."
        return GateResult(gate, "wait", value, threshold, reason)
    lower, upper = difference_bounds(
        candidate_errors=candidate_errors,
        candidate_invocations=candidate_invocations,
        baseline_errors=baseline_errors,
        baseline_invocations=baseline_invocations,
        confidence=thresholds.confidence,
    )
    if lower > margin:
        reason = (
            f"{candidate_name}'s {kind} rate is above {against} with {confidence} confidence "
            f"(the difference is at least {_points(lower)}){note}."
        )
        return GateResult(gate, "fail", value, threshold, reason)
    if upper <= margin:
        reason = (
            f"{candidate_name}'s {kind} rate is within {against} with {confidence} confidence "
            f"(the difference is at most {_points(upper)}){note}."
        )
        return GateResult(gate, "pass", value, threshold, reason)
    reason = (
        f"Not enough evidence either way yet: with {confidence} confidence the difference in "
        f"{kind} rate is between {_points(lower)} and {_points(upper)}, a range that holds the "
        f"allowed {_points(margin)}{note}."
    )
    return GateResult(gate, "wait", value, threshold, reason)


def _latency_gate(
    *,
    gate: GateName,
    label: str,
    candidate_us: float | None,
    baseline_us: float | None,
    ratio: float,
    enough_traffic: bool,
    thresholds: GateThresholds,
    candidate_name: str,
    baseline_name: str,
) -> GateResult:
    value = f"{candidate_name} {label} " + (
        "no data" if candidate_us is None else _ms(candidate_us)
    )
    if baseline_us is None:
        threshold = f"≤ {_ratio(ratio)} {baseline_name} {label} (no data)"
    else:
        limit = ratio * baseline_us  # may be inf for absurd input; the comparison still holds
        threshold = f"≤ {_ratio(ratio)} {baseline_name} {label} {_ms(baseline_us)} = {_ms(limit)}"
    if candidate_us is None:
        reason = f"{candidate_name} has no {label} latency in the window yet."
        return GateResult(gate, "wait", value, threshold, reason)
    if baseline_us is None:
        reason = f"{baseline_name} has no {label} latency in the window to compare against."
        return GateResult(gate, "wait", value, threshold, reason)
    if not enough_traffic:
        reason = (
            f"A {label} over fewer than {_number(thresholds.min_invocations)} requests is too "
            "noisy to judge."
        )
        return GateResult(gate, "wait", value, threshold, reason)
    shown = (
        f"{candidate_name}'s {label} {_ms(candidate_us)} against {baseline_name}'s "
        f"{_ms(baseline_us)}"
    )
    if candidate_us > ratio * baseline_us:
        reason = f"{shown} is above the allowed {_ratio(ratio)}."
        return GateResult(gate, "fail", value, threshold, reason)
    reason = f"{shown} is within the allowed {_ratio(ratio)}."
    return GateResult(gate, "pass", value, threshold, reason)


def _outcome(results: tuple[GateResult, ...]) -> Word:
    verdicts = {result.verdict for result in results}
    if "fail" in verdicts:
        return "fail"
    if verdicts == {"pass"}:
        return "pass"
    return "wait"


def judge(
    *,
    candidate: VariantWindow,
    baseline: VariantWindow,
    thresholds: GateThresholds,
    candidate_name: str,
    baseline_name: str,
    window_seconds: int,
) -> Verdict:
    """The verdict on one bake window: every gate's result and a one-line summary.

    Total for valid windows and thresholds (which refuse bad numbers when they are built);
    a negative or fractional `window_seconds` is a ValueError.
    """
    window = _count("window_seconds", window_seconds)
    confidence = _confidence(thresholds.confidence)
    traffic = _traffic_gate(candidate, thresholds, candidate_name, confidence)
    enough = traffic.verdict == "pass"
    results = [traffic]
    error_gates: tuple[tuple[GateName, str, int, int, float | None], ...] = (
        (
            "error_rate",
            "5XX",
            candidate.errors_5xx,
            baseline.errors_5xx,
            thresholds.error_rate_margin,
        ),
        (
            "error_rate_4xx",
            "4XX",
            candidate.errors_4xx,
            baseline.errors_4xx,
            thresholds.error_4xx_margin,
        ),
    )
    for gate, kind, candidate_errors, baseline_errors, margin in error_gates:
        if margin is None:
            continue  # not gated
        results.append(
            _error_gate(
                gate=gate,
                kind=kind,
                candidate_errors=candidate_errors,
                candidate_invocations=candidate.invocations,
                baseline_errors=baseline_errors,
                baseline_invocations=baseline.invocations,
                margin=margin,
                thresholds=thresholds,
                candidate_name=candidate_name,
                baseline_name=baseline_name,
            )
        )
    latency_gates: tuple[tuple[GateName, str, float | None, float | None, float | None], ...] = (
        (
            "latency_p99",
            "p99",
            candidate.latency_p99_us,
            baseline.latency_p99_us,
            thresholds.latency_p99_ratio,
        ),
        (
            "latency_p50",
            "p50",
            candidate.latency_p50_us,
            baseline.latency_p50_us,
            thresholds.latency_p50_ratio,
        ),
    )
    for gate, label, candidate_us, baseline_us, ratio in latency_gates:
        if ratio is None:
            continue  # not gated
        results.append(
            _latency_gate(
                gate=gate,
                label=label,
                candidate_us=candidate_us,
                baseline_us=baseline_us,
                ratio=ratio,
                enough_traffic=enough,
                thresholds=thresholds,
                candidate_name=candidate_name,
                baseline_name=baseline_name,
            )
        )
    gates = tuple(results)
    outcome = _outcome(gates)
    if outcome == "fail":
        words = "worse on " + ", ".join(_LABELS[r.gate] for r in gates if r.verdict == "fail")
    elif outcome == "pass":
        words = "no worse"
    else:
        words = "undecided, waiting on " + ", ".join(
            _LABELS[r.gate] for r in gates if r.verdict == "wait"
        )
    over = duration(window) if window < _PRINTABLE else f"{_number(window)} s"
    summary = (
        f"{candidate_name} 5XX {_short_rate(candidate.errors_5xx, candidate.invocations)} vs "
        f"{baseline_name} {_short_rate(baseline.errors_5xx, baseline.invocations)} over {over}, "
        f"{_number(candidate.invocations)} invocations: {words}"
    )
    return Verdict(outcome=outcome, results=gates, summary=summary)
