"""The weight rules, checked as properties over generated input (hypothesis)."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.errors import Invalid
from shifts.weights import (
    SHARE_TOLERANCE,
    check_percentages,
    move_share,
    same_weights,
    shares,
    validate_weights,
)

NAMES = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz-0123456789", min_size=1, max_size=12),
    min_size=1,
    max_size=6,
    unique=True,
)
GOOD = st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1e12))
ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)
ANYTHING = st.one_of(ANY_FLOAT, st.integers(), st.text(max_size=5), st.none(), st.booleans())


def _moves_traffic(current: dict[str, float], desired: dict[str, float]) -> bool:
    before, after = shares(current), shares(desired)
    return any(abs(after[n] - before[n]) > SHARE_TOLERANCE for n in desired)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), variants=NAMES)
def test_valid_weights_come_back_unchanged(data, variants):
    current = {n: data.draw(GOOD, label=f"current {n}") for n in variants}
    desired = {n: data.draw(GOOD, label=f"desired {n}") for n in variants}
    assume(any(v > 0 for v in desired.values()))
    assume(_moves_traffic(current, desired))
    result = validate_weights(variants=variants, current=current, desired=desired)
    assert result == desired
    assert list(result) == variants  # the endpoint's order, what the update call sends


@settings(max_examples=300, deadline=None)
@given(data=st.data(), variants=NAMES)
def test_anything_else_is_refused_with_a_message_never_a_crash(data, variants):
    current = {n: data.draw(GOOD) for n in variants}
    desired = data.draw(st.dictionaries(st.sampled_from(variants + ["ghost"]), ANYTHING))
    try:
        result = validate_weights(variants=variants, current=current, desired=desired)
    except Invalid as exc:
        assert exc.messages and all(m.strip() for m in exc.messages)
        return
    # Accepted: then it really was a full, finite, non-negative, traffic-moving set.
    assert set(result) == set(variants)
    assert all(math.isfinite(v) and v >= 0 for v in result.values())
    assert any(v > 0 for v in result.values())
    assert _moves_traffic(current, result)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), variants=NAMES, scale=st.floats(min_value=1e-3, max_value=1e3))
def test_scaling_every_weight_changes_nothing_and_is_refused(data, variants, scale):
    current = {n: data.draw(st.floats(min_value=0.01, max_value=1e6)) for n in variants}
    with pytest.raises(Invalid, match="Nothing would change"):
        validate_weights(
            variants=variants, current=current, desired={n: v * scale for n, v in current.items()}
        )


@given(variants=NAMES, bad=st.sampled_from([-1.0, -1e-9, math.nan, math.inf, -math.inf]))
def test_negative_or_non_finite_weights_are_named(variants, bad):
    desired = {n: 1.0 for n in variants}
    desired[variants[0]] = bad
    with pytest.raises(Invalid) as raised:
        validate_weights(variants=variants, current={n: 0.0 for n in variants}, desired=desired)
    assert variants[0] in raised.value.messages[0]


def test_missing_and_unknown_variants_are_listed():
    with pytest.raises(Invalid) as raised:
        validate_weights(variants=["A", "B"], current={"A": 1, "B": 1}, desired={"A": 100, "C": 0})
    text = " ".join(raised.value.messages)
    assert "missing: B" in text and "Unknown variant(s) C" in text


def test_all_zero_is_refused():
    with pytest.raises(Invalid, match="every weight is 0"):
        validate_weights(variants=["A", "B"], current={"A": 1, "B": 1}, desired={"A": 0, "B": 0})


@given(
    st.lists(st.floats(min_value=0, max_value=100), min_size=1, max_size=6).filter(
        lambda xs: abs(math.fsum(xs) - 100) > 0.011
    )
)
def test_percentages_must_add_up_to_100(values):
    with pytest.raises(Invalid, match="not 100"):
        check_percentages({str(i): v for i, v in enumerate(values)})


def test_percentages_allow_rounding_slack():
    check_percentages({"A": 33.33, "B": 33.33, "C": 33.34})
    check_percentages({"A": 33.333, "B": 33.333, "C": 33.333})


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    variants=NAMES.filter(lambda v: len(v) >= 2),
)
def test_move_keeps_the_total_and_only_touches_two_variants(data, variants):
    current = {n: data.draw(st.floats(min_value=0.1, max_value=1000)) for n in variants}
    source, destination = data.draw(st.permutations(variants))[:2]
    available = shares(current)[source]
    percent = data.draw(st.floats(min_value=0.001, max_value=available))
    result = move_share(current=current, source=source, destination=destination, percent=percent)
    assert math.isclose(math.fsum(result.values()), 100.0, abs_tol=1e-6)
    before = shares(current)
    assert math.isclose(result[source], before[source] - percent, abs_tol=1e-6)
    assert math.isclose(result[destination], before[destination] + percent, abs_tol=1e-6)
    for other in set(variants) - {source, destination}:
        assert result[other] == before[other]


def test_move_more_than_a_variant_has_is_refused():
    with pytest.raises(Invalid, match="only receives 20.00 %"):
        move_share(current={"A": 80, "B": 20}, source="B", destination="A", percent=30)
    with pytest.raises(Invalid, match="two different variants"):
        move_share(current={"A": 80, "B": 20}, source="A", destination="A", percent=5)


def test_same_weights_is_exact_not_share_based():
    assert same_weights({"A": 1.0, "B": 1.0}, {"A": 1.0, "B": 1.0 + 1e-12})
    assert not same_weights({"A": 1.0, "B": 1.0}, {"A": 2.0, "B": 2.0})
    assert not same_weights({"A": 1.0}, {"A": 1.0, "B": 0.0})


@pytest.mark.parametrize(
    ("weight", "message"),
    [(1e-320, "too small to route by"), (5e-7, "too small to route by"), (1e13, "above the")],
)
def test_weights_sagemaker_cannot_hold_are_refused_before_any_call(weight, message):
    with pytest.raises(Invalid, match=message):
        validate_weights(
            variants=["A", "B"], current={"A": 1, "B": 1}, desired={"A": weight, "B": 1}
        )
