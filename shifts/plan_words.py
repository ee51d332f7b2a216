"""How a staged shift's weights and steps read in its log, its page and its notifications."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from shifts.weights import shares

if TYPE_CHECKING:
    from shifts.plan_spec import PlanSpec


def _percent(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") + " %"


def split_words(weights: Mapping[str, float]) -> str:
    """{"A": 3, "B": 1} -> "A 75 %, B 25 %" (shares of traffic, not raw weights)."""
    return ", ".join(f"{name} {_percent(share)}" for name, share in shares(weights).items())


def step_words(spec: PlanSpec, weights: Mapping[str, float]) -> str:
    """The candidate and the baseline's shares, candidate first: "B 25 %, A 75 %"."""
    split = shares(weights)
    pair = [spec.candidate, spec.baseline]
    others = [name for name in split if name not in pair]
    return ", ".join(f"{name} {_percent(split.get(name, 0.0))}" for name in pair + others)


def steps_words(spec: PlanSpec) -> str:
    """ "B 5 % → 25 % → 50 % → 100 %" with manual steps marked."""
    marks = [
        _percent(step.candidate_percent) + (" (manual)" if step.manual else "")
        for step in spec.steps
    ]
    return f"{spec.candidate} " + " → ".join(marks)
