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


def _points(rate: float) -> str:
    return f"{rate * 100:g} point" + ("" if rate * 100 == 1 else "s")


def gate_rules(spec: PlanSpec) -> list[str]:
    """What each gate asks of the candidate, in words, for the plan's page and its
    approvers."""
    gates = spec.thresholds
    confidence = f"{gates.confidence * 100:g} %"
    rules = [
        f"at least {gates.min_invocations:,} {spec.candidate} invocations before a verdict",
        f"5XX rate at most {_points(gates.error_rate_margin)} above {spec.baseline}'s "
        f"({confidence} confidence)",
    ]
    if gates.error_4xx_margin is not None:
        rules.append(f"4XX rate at most {_points(gates.error_4xx_margin)} above {spec.baseline}'s")
    rules.append(f"p99 model latency at most {gates.latency_p99_ratio:g} × {spec.baseline}'s")
    if gates.latency_p50_ratio is not None:
        rules.append(f"p50 at most {gates.latency_p50_ratio:g} × {spec.baseline}'s")
    if spec.alarms:
        rules.append(f"alarms not in ALARM: {', '.join(spec.alarms)}")
    if gates.model_monitor:
        rules.append(
            "no new Model Monitor violations on the endpoint (its captured data, every "
            "variant together)"
        )
    return rules
