"""The traffic-shift gates: worked verdicts, the statistics against published values and exact
binomial sums, and properties over generated windows (hypothesis). No database, no AWS."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shifts.gates import (
    EXACT_UP_TO,
    GateResult,
    GateThresholds,
    VariantWindow,
    Verdict,
    combine_bounds,
    difference_bounds,
    exact_bounds,
    judge,
    rate_bounds,
    wilson_bounds,
    z_for,
)

MS = 1000.0  # microseconds per millisecond: CloudWatch's ModelLatency unit is microseconds
RANK = {"fail": 0, "wait": 1, "pass": 2}


def window(
    invocations: int,
    errors_5xx: int = 0,
    *,
    errors_4xx: int = 0,
    p99_ms: float | None = 200.0,
    p50_ms: float | None = 80.0,
) -> VariantWindow:
    return VariantWindow(
        invocations=invocations,
        errors_5xx=errors_5xx,
        errors_4xx=errors_4xx,
        latency_p99_us=None if p99_ms is None else p99_ms * MS,
        latency_p50_us=None if p50_ms is None else p50_ms * MS,
    )


BASELINE = window(40_000, 120)  # 0.3 %, the steady 95 % side of a 5 % step


def verdict(
    candidate: VariantWindow,
    baseline: VariantWindow = BASELINE,
    thresholds: GateThresholds | None = None,
    window_seconds: int = 600,
) -> Verdict:
    return judge(
        candidate=candidate,
        baseline=baseline,
        thresholds=thresholds or GateThresholds(),
        candidate_name="B",
        baseline_name="A",
        window_seconds=window_seconds,
    )


def gate(result: Verdict, name: str) -> GateResult:
    (found,) = [r for r in result.results if r.gate == name]
    return found


# --- worked verdicts ----------------------------------------------------------------------


def test_a_clearly_bad_candidate_fails_and_the_report_names_both_variants():
    result = verdict(window(2_412, 116))
    assert result.outcome == "fail"
    assert result.summary == (
        "B 5XX 4.8 % vs A 0.3 % over 10 min, 2,412 invocations: worse on 5XX rate"
    )
    errors = gate(result, "error_rate")
    assert errors.verdict == "fail"
    assert errors.value == "B 4.8 % (116 of 2,412)"
    assert errors.threshold == "≤ A 0.3 % + 1.0 point"
    assert "95 % confidence" in errors.reason and "at least 3.8 points" in errors.reason
    assert [r.gate for r in result.results] == [
        "traffic",
        "error_rate",
        "latency_p99",
        "latency_p50",
    ]


def test_a_clearly_good_candidate_passes_every_gate():
    result = verdict(window(2_412, 3, p99_ms=210.0, p50_ms=82.0))
    assert result.outcome == "pass"
    assert {r.verdict for r in result.results} == {"pass"}
    assert result.summary == "B 5XX 0.1 % vs A 0.3 % over 10 min, 2,412 invocations: no worse"


def test_one_error_in_40_requests_at_5_percent_neither_fails_nor_passes():
    candidate = window(40, 1)
    baseline = window(760, 2)  # the other 95 % of the same window
    result = verdict(candidate, baseline)
    assert result.outcome == "wait"
    # And not only because of the traffic gate: the error test itself cannot tell yet.
    alone = verdict(candidate, baseline, GateThresholds(min_invocations=1))
    assert gate(alone, "error_rate").verdict == "wait"
    assert "Not enough evidence either way" in gate(alone, "error_rate").reason
    # Nor with no error at all: 0 of 40 is not proof of a rate below 1.3 %.
    assert gate(verdict(window(40), baseline), "error_rate").verdict == "wait"


def test_below_min_invocations_the_shift_waits_even_when_everything_looks_fine():
    thresholds = GateThresholds(min_invocations=1_000)
    result = verdict(window(999), thresholds=thresholds)
    assert result.outcome == "wait"
    traffic = gate(result, "traffic")
    assert (traffic.verdict, traffic.value, traffic.threshold) == (
        "wait",
        "B 999 invocations",
        "≥ 1,000 invocations",
    )
    assert gate(result, "error_rate").verdict == "pass"  # the test itself is valid at any size
    assert gate(result, "latency_p99").verdict == "wait"  # a p99 over a few requests is noise
    assert "waiting on traffic, p99 latency, p50 latency" in result.summary
    assert verdict(window(1_000), thresholds=thresholds).outcome == "pass"


def test_a_hard_failure_fails_before_min_invocations():
    result = verdict(window(50, 50, p99_ms=9_000.0))
    assert result.outcome == "fail"
    assert gate(result, "traffic").verdict == "wait"
    assert gate(result, "error_rate").verdict == "fail"
    assert gate(result, "error_rate").value == "B 100.0 % (50 of 50)"
    # The slow p99 does not fail on 50 requests; only the statistical test may fail that early.
    assert gate(result, "latency_p99").verdict == "wait"
    assert result.summary.endswith("50 invocations: worse on 5XX rate")


def test_zero_errors_on_enough_traffic_passes_but_not_on_too_little():
    # 0 errors in n: the exact one-sided 95 % bound is 1 − 0.05^(1/n), about 3/n; from 230
    # requests on it fits, with A's own uncertainty, under A's 0.3 % + 1 point.
    assert gate(verdict(window(229)), "error_rate").verdict == "wait"
    assert gate(verdict(window(230)), "error_rate").verdict == "pass"


def test_latency_gates_pass_at_the_ratio_and_fail_above_it():
    at_limit = verdict(window(5_000, p99_ms=300.0, p50_ms=104.0))  # 1.5 × 200, 1.3 × 80
    assert at_limit.outcome == "pass"
    p99 = gate(at_limit, "latency_p99")
    assert p99.value == "B p99 300.0 ms"
    assert p99.threshold == "≤ 1.5 × A p99 200.0 ms = 300.0 ms"

    slow = verdict(window(5_000, p99_ms=300.5, p50_ms=90.0))
    assert slow.outcome == "fail"
    assert gate(slow, "latency_p99").verdict == "fail"
    assert gate(slow, "latency_p50").verdict == "pass"
    assert slow.summary.endswith("worse on p99 latency")
    assert "above the allowed 1.5 ×" in gate(slow, "latency_p99").reason


def test_latency_without_data_on_either_side_waits_with_a_reason():
    no_candidate = gate(verdict(window(5_000, p99_ms=None)), "latency_p99")
    assert no_candidate.verdict == "wait" and no_candidate.value == "B p99 no data"
    assert "B has no p99 latency" in no_candidate.reason
    no_baseline = gate(verdict(window(5_000), window(40_000, p99_ms=None)), "latency_p99")
    assert no_baseline.verdict == "wait" and no_baseline.threshold.endswith("(no data)")
    assert "A has no p99 latency" in no_baseline.reason


def test_ungated_checks_are_left_out_and_4xx_is_gated_when_asked():
    thresholds = GateThresholds(latency_p50_ratio=None, error_4xx_margin=0.02)
    result = verdict(window(5_000, errors_4xx=900), window(40_000, errors_4xx=400), thresholds)
    assert [r.gate for r in result.results] == [
        "traffic",
        "error_rate",
        "error_rate_4xx",
        "latency_p99",
    ]
    four = gate(result, "error_rate_4xx")
    assert four.verdict == "fail" and four.threshold == "≤ A 1.0 % + 2.0 points"
    assert result.summary.endswith("worse on 4XX rate")


def test_no_traffic_on_either_side():
    nothing = verdict(window(0, p99_ms=None, p50_ms=None), window(0, p99_ms=None, p50_ms=None))
    assert nothing.outcome == "wait"
    assert nothing.summary.startswith("B 5XX no requests vs A no requests over 10 min, 0 ")
    assert gate(nothing, "error_rate").value == "B no requests"


def test_a_baseline_without_requests_holds_the_candidate_to_the_margin_alone():
    # The 100 % step: A serves nothing, so B's own bounds are compared with 0 % + 1 point.
    empty = window(0, p99_ms=None, p50_ms=None)
    healthy = gate(verdict(window(5_000, 5), empty), "error_rate")
    assert healthy.verdict == "pass"
    assert healthy.threshold == "≤ 0.0 % + 1.0 point (A served no requests)"
    assert healthy.reason.startswith("B's 5XX rate is within 0 % + 1.0 point with 95 % confidence")
    assert healthy.reason.endswith("(A served no requests, so the margin alone counts).")
    assert gate(verdict(window(5_000, 150), empty), "error_rate").verdict == "fail"


def test_more_errors_than_invocations_count_as_every_request_failing():
    result = verdict(window(2_412, 3_000))
    assert result.outcome == "fail"
    assert (
        gate(result, "error_rate").value == "B 100.0 % (3,000 errors reported for 2,412 requests)"
    )


def test_huge_counts_neither_overflow_nor_lose_the_verdict():
    trillion = 10**12
    bad = verdict(window(trillion, trillion // 50), window(19 * trillion, 19 * trillion // 1000))
    assert bad.outcome == "fail"
    assert "1,000,000,000,000 invocations" in bad.summary
    # Beyond a float's range (and Python's int printing limit) it still judges and prints.
    absurd = 10**5000
    beyond = verdict(window(absurd, absurd // 10), window(absurd, 0), window_seconds=absurd)
    assert beyond.outcome == "fail"
    assert "about 10^5000 invocations" in beyond.summary


def test_rates_are_written_for_people():
    tiny = gate(verdict(window(40_000, 1)), "error_rate")
    assert tiny.value == "B < 0.1 % (1 of 40,000)"  # not "0.0 %" when there was an error
    almost = gate(verdict(window(40_000, 39_999)), "error_rate")
    assert almost.value == "B > 99.9 % (39,999 of 40,000)"
    hour = verdict(window(2_412, 116), window_seconds=5_400)
    assert " over 1 h 30 min, " in hour.summary
    sub_ms = verdict(window(5_000, p99_ms=0.25), window(40_000, p99_ms=0.2))
    assert gate(sub_ms, "latency_p99").value == "B p99 0.25 ms"


# --- inputs -------------------------------------------------------------------------------


def test_cloudwatch_float_sums_are_taken_as_counts():
    w = VariantWindow(
        invocations=2412.0,  # type: ignore[arg-type]
        errors_5xx=116.0,  # type: ignore[arg-type]
        errors_4xx=0,
        latency_p99_us=250_000,
        latency_p50_us=None,
    )
    assert (w.invocations, w.errors_5xx) == (2412, 116)
    assert type(w.invocations) is int and type(w.latency_p99_us) is float


@pytest.mark.parametrize(
    ("field", "bad", "error", "words"),
    [
        ("invocations", -1, ValueError, "cannot be negative"),
        ("errors_5xx", -3, ValueError, "cannot be negative"),
        ("errors_4xx", math.nan, ValueError, "NaN"),
        ("invocations", 2.5, ValueError, "whole number"),
        ("invocations", math.inf, ValueError, "whole number"),
        ("latency_p99_us", -0.5, ValueError, "cannot be negative"),
        ("latency_p50_us", math.nan, ValueError, "pass None"),
        ("invocations", "12", TypeError, "not a count"),
        ("errors_5xx", True, TypeError, "not a count"),
    ],
)
def test_bad_data_points_are_refused_with_a_message(field, bad, error, words):
    fields = {
        "invocations": 10,
        "errors_5xx": 0,
        "errors_4xx": 0,
        "latency_p99_us": 1.0,
        "latency_p50_us": 1.0,
    }
    with pytest.raises(error, match=words) as caught:
        VariantWindow(**{**fields, field: bad})
    assert field in str(caught.value)


@pytest.mark.parametrize(
    "changes",
    [
        {"confidence": 1.0},
        {"confidence": 0.3},
        {"confidence": math.nan},
        {"error_rate_margin": math.nan},
        {"error_rate_margin": 2.0},
        {"error_4xx_margin": math.inf},
        {"latency_p99_ratio": 0.0},
        {"latency_p50_ratio": math.nan},
        {"min_invocations": -1},
    ],
)
def test_thresholds_that_cannot_mean_anything_are_refused(changes):
    (name,) = changes
    with pytest.raises(ValueError, match=name):
        GateThresholds(**changes)


def test_a_negative_window_is_refused():
    with pytest.raises(ValueError, match="window_seconds"):
        verdict(window(10), window_seconds=-1)


# --- the statistics -----------------------------------------------------------------------


def test_z_is_the_one_sided_normal_quantile():
    assert z_for(0.95) == pytest.approx(1.6448536, abs=1e-6)
    assert z_for(0.975) == pytest.approx(1.9599640, abs=1e-6)
    assert z_for(0.5) == 0.0


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "lower", "upper"),
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10 (95 %):
        # checks the way two rates' bounds are combined, with the Wilson bounds he used.
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (0, 10, 0, 10, -0.2775, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
        (10, 10, 0, 10, 0.6075, 1.0000),
    ],
)
def test_the_hybrid_difference_matches_newcombes_published_intervals(x1, n1, x2, n2, lower, upper):
    z = z_for(0.975)  # a two-sided 95 % interval is two one-sided 97.5 % bounds
    bounds = combine_bounds(x1 / n1, wilson_bounds(x1, n1, z), x2 / n2, wilson_bounds(x2, n2, z))
    assert bounds == pytest.approx((lower, upper), abs=6e-5)


@pytest.mark.parametrize("n", [1, 40, 2_412, 10**12])
def test_wilson_bounds_at_the_extremes_have_closed_forms(n):
    z = z_for(0.95)
    assert wilson_bounds(0, n, z) == pytest.approx((0.0, z * z / (n + z * z)), rel=1e-9)
    assert wilson_bounds(n, n, z) == pytest.approx((n / (n + z * z), 1.0), rel=1e-9)


@pytest.mark.parametrize("n", [1, 2, 17, 40, 2_412, 40_000, 10**6, 10**9])
@pytest.mark.parametrize("alpha", [0.5, 0.05, 0.001])
def test_exact_bounds_have_closed_forms_at_0_1_and_n_errors(n, alpha):
    # P(X = 0) = (1 − p)^n and P(X = n) = p^n give the bounds in closed form.
    assert exact_bounds(0, n, alpha) == pytest.approx((0.0, 1 - alpha ** (1 / n)), rel=1e-6)
    assert exact_bounds(n, n, alpha) == pytest.approx((alpha ** (1 / n), 1.0), rel=1e-6)
    if n > 1:  # P(X ≥ 1) = 1 − (1 − p)^n
        assert exact_bounds(1, n, alpha)[0] == pytest.approx(1 - (1 - alpha) ** (1 / n), rel=1e-6)


@pytest.mark.parametrize(
    ("x", "n", "lower", "upper"),
    [
        # Two-sided 95 % Clopper-Pearson intervals, as printed in the usual tables.
        (1, 10, 0.0025, 0.4450),
        (5, 20, 0.0866, 0.4910),
        (50, 100, 0.3983, 0.6017),
        (116, 2_412, 0.0399, 0.0574),
    ],
)
def test_exact_bounds_match_published_intervals(x, n, lower, upper):
    assert exact_bounds(x, n, 0.025) == pytest.approx((lower, upper), abs=6e-5)


def test_exact_bounds_agree_with_scipys_beta_quantiles():
    stats = pytest.importorskip("scipy.stats")  # sandbox-only; the module itself is pure
    for n in (3, 17, 40, 999, 2_412, 40_000, 10**6):
        for x in sorted({0, 1, 2, n // 100, n // 3, n - 1, n}):
            for alpha in (0.05, 0.01):
                lower = 0.0 if x == 0 else stats.beta.ppf(alpha, x, n - x + 1)
                upper = 1.0 if x == n else stats.beta.ppf(1 - alpha, x + 1, n - x)
                assert exact_bounds(x, n, alpha) == pytest.approx((lower, upper), rel=1e-8)


def test_beyond_a_billion_requests_wilson_stands_in_and_agrees():
    n = EXACT_UP_TO
    for x in (0, 3, n // 1000, n // 2):
        exact = rate_bounds(x, n, 0.95)
        wilson = wilson_bounds(x, n, z_for(0.95))
        assert exact == pytest.approx(wilson, abs=1e-8)  # a millionth of a point
    assert rate_bounds(3, n + 1, 0.95) == wilson_bounds(3, n + 1, z_for(0.95))


def _binomial_pmf(k: int, n: int, p: float) -> float:
    log = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
    return math.exp(log + k * math.log(p) + (n - k) * math.log1p(-p))


def _chance(
    word: str, n: int, true_rate: float, baseline: tuple[int, int], margin: float = 0.01
) -> float:
    """Exactly how often the 5XX gate says `word` on n requests when B's true rate is true_rate
    (summed over every error count with any weight; A's counts as observed)."""
    thresholds = GateThresholds(min_invocations=0, error_rate_margin=margin)
    spread = 12 * math.sqrt(n * true_rate * (1 - true_rate)) + 12
    low, high = max(0, int(n * true_rate - spread)), min(n, int(n * true_rate + spread))
    total = 0.0
    for errors in range(low, high + 1):
        result = verdict(window(n, errors), window(*baseline), thresholds)
        if gate(result, "error_rate").verdict == word:
            total += _binomial_pmf(errors, n, true_rate)
    return total


@pytest.mark.parametrize("n", [10, 17, 40, 100, 400, 2_412, 20_000])
@pytest.mark.parametrize(("baseline", "margin"), [((40_000, 120), 0.01), ((760, 38), 0.02)])
def test_a_candidate_exactly_at_the_margin_is_rarely_judged_either_way(n, baseline, margin):
    # B's true rate is exactly A's + the margin: neither a rollback nor a pass should happen
    # by chance more than 5 % of the time. (With Wilson bounds, 1 error in 17 requests failed
    # and this was 20 %.)
    true_rate = baseline[1] / baseline[0] + margin
    assert _chance("fail", n, true_rate, baseline, margin) <= 0.05
    assert _chance("pass", n, true_rate, baseline, margin) <= 0.05


def test_without_baseline_requests_the_difference_is_the_candidates_own_rate():
    bounds = difference_bounds(
        candidate_errors=5,
        candidate_invocations=5_000,
        baseline_errors=0,
        baseline_invocations=0,
        confidence=0.95,
    )
    assert bounds == pytest.approx(exact_bounds(5, 5_000, 0.05), rel=1e-12)


def test_a_clearly_worse_candidate_is_caught_and_a_clearly_better_one_passes():
    assert _chance("fail", 2_412, 0.048, (40_000, 120)) > 0.999
    assert _chance("pass", 2_412, 0.002, (40_000, 120)) > 0.99


# --- properties ---------------------------------------------------------------------------


COUNTS = st.one_of(
    st.integers(min_value=0, max_value=200),
    st.integers(min_value=0, max_value=10**13),
    st.integers(min_value=0, max_value=10**400),
)
LATENCIES = st.one_of(
    st.none(),
    st.floats(min_value=0, allow_nan=False, allow_infinity=True),
    st.integers(min_value=0, max_value=10**9),
)


@st.composite
def windows(draw: st.DrawFn, *, errors_within: bool = True) -> VariantWindow:
    invocations = draw(COUNTS)
    errors = st.integers(min_value=0, max_value=invocations) if errors_within else COUNTS
    return VariantWindow(
        invocations=invocations,
        errors_5xx=draw(errors),
        errors_4xx=draw(errors),
        latency_p99_us=draw(LATENCIES),
        latency_p50_us=draw(LATENCIES),
    )


THRESHOLDS = st.builds(
    GateThresholds,
    error_rate_margin=st.floats(min_value=-1, max_value=1),
    error_4xx_margin=st.none() | st.floats(min_value=-1, max_value=1),
    confidence=st.floats(min_value=0.5, max_value=0.999999),
    latency_p99_ratio=st.floats(min_value=1e-3, max_value=1e3),
    latency_p50_ratio=st.none() | st.floats(min_value=1e-3, max_value=1e3),
    min_invocations=st.integers(min_value=0, max_value=10**6),
)


def _consistent(result: Verdict) -> None:
    verdicts = [r.verdict for r in result.results]
    assert result.outcome == (
        "fail" if "fail" in verdicts else "pass" if set(verdicts) == {"pass"} else "wait"
    )
    assert result.results[0].gate == "traffic"
    for r in result.results:
        assert r.verdict in RANK and r.value.strip() and r.threshold.strip() and r.reason.strip()
    assert result.summary.startswith("B 5XX ")


@settings(max_examples=500, deadline=None)
@given(
    candidate=windows(),
    baseline=windows(),
    thresholds=THRESHOLDS,
    seconds=st.integers(min_value=0, max_value=10**20),
)
def test_any_window_gets_a_verdict_consistent_with_its_gates(
    candidate, baseline, thresholds, seconds
):
    result = judge(
        candidate=candidate,
        baseline=baseline,
        thresholds=thresholds,
        candidate_name="B",
        baseline_name="A",
        window_seconds=seconds,
    )
    _consistent(result)
    # Below min_invocations only the error tests may fail, nothing may pass.
    if candidate.invocations < thresholds.min_invocations:
        assert result.outcome != "pass"
        for r in result.results:
            if r.verdict == "fail":
                assert r.gate in ("error_rate", "error_rate_4xx")


@settings(max_examples=200, deadline=None)
@given(
    candidate=windows(errors_within=False),
    baseline=windows(errors_within=False),
    thresholds=THRESHOLDS,
)
def test_inconsistent_counts_still_get_a_verdict(candidate, baseline, thresholds):
    _consistent(verdict(candidate, baseline, thresholds))


@settings(max_examples=500, deadline=None)
@given(
    candidate=windows(),
    baseline=windows(),
    thresholds=THRESHOLDS,
    more=st.integers(min_value=1, max_value=10**6),
)
def test_more_candidate_errors_never_improve_the_verdict(candidate, baseline, thresholds, more):
    before = verdict(candidate, baseline, thresholds)
    worse = replace(candidate, errors_5xx=candidate.errors_5xx + more)
    after = verdict(worse, baseline, thresholds)
    assert RANK[after.outcome] <= RANK[before.outcome]  # so fail never turns into pass
    assert RANK[gate(after, "error_rate").verdict] <= RANK[gate(before, "error_rate").verdict]


@settings(max_examples=500, deadline=None)
@given(
    candidate=windows(),
    baseline=windows(),
    thresholds=THRESHOLDS,
    more=st.integers(min_value=1, max_value=10**6),
)
def test_more_failing_requests_never_turn_a_failure_into_a_pass(
    candidate, baseline, thresholds, more
):
    # Failed requests are invocations too: more traffic may settle a wait, but not a failure.
    before = verdict(candidate, baseline, thresholds)
    worse = replace(
        candidate,
        invocations=candidate.invocations + more,
        errors_5xx=candidate.errors_5xx + more,
    )
    after = verdict(worse, baseline, thresholds)
    if gate(before, "error_rate").verdict == "fail":
        assert gate(after, "error_rate").verdict == "fail"
        assert after.outcome == "fail"


@settings(max_examples=500, deadline=None)
@given(
    candidate=windows(),
    baseline=windows(),
    thresholds=THRESHOLDS,
    more=st.integers(min_value=1, max_value=10**6),
)
def test_more_baseline_errors_never_make_the_candidate_look_worse(
    candidate, baseline, thresholds, more
):
    before = verdict(candidate, baseline, thresholds)
    after = verdict(candidate, replace(baseline, errors_5xx=baseline.errors_5xx + more), thresholds)
    if baseline.invocations:  # with no baseline requests its errors are not a rate at all
        assert RANK[gate(after, "error_rate").verdict] >= RANK[gate(before, "error_rate").verdict]
