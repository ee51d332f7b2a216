"""A staged shift's steps: what is refused before anything runs, and the weights each step
sends (the pair's traffic moves; other variants keep theirs)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import Invalid
from shifts.plan_steps import PlanStep, check_steps, parse_shares, step_weights
from shifts.weights import shares


def test_shares_become_steps_with_one_bake_and_manual_marks():
    steps = parse_shares("5, 25!, 50%, 100", bake_seconds=600)
    assert steps == [
        PlanStep(5, 600),
        PlanStep(25, 600, manual=True),
        PlanStep(50, 600),
        PlanStep(100, 0),
    ]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "Give the candidate's share"),
        ("5, x, 100", "'x' is not a share"),
        ("25, 5, 100", r"Step 2: 5 % must be above the step before \(25 %\)"),
        ("5, 50", "The last step must give the candidate 100 %"),
        ("5, 150", "at most 100 %"),
        ("nan, 100", "Step 1: the share must be a number of percent"),
        (", ".join(str(i) for i in range(1, 30)) + ", 100", "1 to 20 steps"),
    ],
)
def test_bad_steps_are_refused_with_what_to_change(text, words):
    with pytest.raises(Invalid, match=words):
        parse_shares(text, bake_seconds=300)


def test_a_bake_too_short_to_judge_is_refused_but_the_last_step_needs_none():
    with pytest.raises(Invalid, match="Step 1: the bake must be 60"):
        check_steps([PlanStep(10, 30), PlanStep(100, 0)])
    assert check_steps([PlanStep(100, 0)]) == [PlanStep(100, 0)]  # a plain shift


def test_a_step_moves_only_the_pairs_traffic():
    live = {"A": 2.0, "B": 0.0, "C": 1.0}
    weights = step_weights(live=live, candidate="B", baseline="A", candidate_percent=25)
    assert weights == {"A": 1.5, "B": 0.5, "C": 1.0}
    split = shares(weights)
    assert math.isclose(split["C"], shares(live)["C"])  # C's share of all traffic kept


def test_variants_must_be_two_of_the_endpoint():
    with pytest.raises(Invalid, match="two different variants"):
        step_weights(live={"A": 1.0}, candidate="A", baseline="A", candidate_percent=50)
    with pytest.raises(Invalid, match="two different variants"):
        step_weights(live={"A": 1.0}, candidate="B", baseline="A", candidate_percent=50)


@given(
    live=st.dictionaries(
        st.sampled_from(["A", "B", "C", "D"]),
        st.floats(min_value=0, max_value=1e6, allow_nan=False),
        min_size=2,
    ),
    percent=st.floats(min_value=0, max_value=100, allow_nan=False),
)
def test_step_weights_keep_the_pairs_total_and_the_others_untouched(live, percent):
    candidate, baseline = sorted(live)[:2]
    weights = step_weights(
        live=live, candidate=candidate, baseline=baseline, candidate_percent=percent
    )
    pair = live[candidate] + live[baseline] or 1.0
    assert math.isclose(weights[candidate] + weights[baseline], pair, rel_tol=1e-9, abs_tol=1e-9)
    assert all(weights[n] == live[n] for n in live if n not in (candidate, baseline))
    assert min(weights.values()) >= -1e-9


@given(text=st.text(max_size=60), bake=st.integers(min_value=-10, max_value=10**6))
def test_any_text_is_steps_or_a_refusal(text, bake):
    try:
        steps = parse_shares(text, bake_seconds=bake)
    except Invalid as refused:
        assert refused.message
    else:
        assert steps[-1].candidate_percent == 100
