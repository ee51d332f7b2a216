"""The steps of a staged traffic shift: the candidate variant's share of traffic at each
step, how long each step bakes, and which steps wait for a person to promote them.

Pure (no Django, no AWS): a plan's steps are checked here when it is proposed and turned
into the weights each step sends. A plain shift is a one-step plan.

Weights are written as shares in percent of the variants the plan moves (the candidate and
the baseline); other variants keep their weight, so a plan between B and A on an endpoint
that also runs C never touches C's traffic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.errors import Invalid

MAX_STEPS = 20
MAX_BAKE_SECONDS = 24 * 3600
MIN_BAKE_SECONDS = 60  # one CloudWatch period: less cannot be judged on metrics


@dataclass(frozen=True)
class PlanStep:
    """One step: the candidate's share (percent of the pair's traffic), its bake, and
    whether a person must promote the plan past it."""

    candidate_percent: float
    bake_seconds: int
    manual: bool = False


def check_steps(steps: Sequence[PlanStep]) -> list[PlanStep]:
    """The steps as given, or Invalid naming each problem: 1–20 steps, shares rising
    strictly within (0, 100], the last at 100 (the plan ends with the candidate serving the
    pair's traffic), bakes of 60 s to 24 h (the last step may bake 0: nothing follows)."""
    errors: list[str] = []
    if not 1 <= len(steps) <= MAX_STEPS:
        raise Invalid(f"A plan has 1 to {MAX_STEPS} steps; this one has {len(steps)}.")
    previous = 0.0
    for number, step in enumerate(steps, start=1):
        share = step.candidate_percent
        if (
            not isinstance(share, int | float)
            or isinstance(share, bool)
            or not math.isfinite(share)
        ):
            errors.append(f"Step {number}: the share must be a number of percent.")
            continue
        if not previous < share <= 100:
            errors.append(
                f"Step {number}: {share:g} % must be above the step before ({previous:g} %) "
                "and at most 100 %."
            )
        previous = max(previous, float(share))
        last = number == len(steps)
        low = 0 if last else MIN_BAKE_SECONDS
        if (
            not isinstance(step.bake_seconds, int)
            or isinstance(step.bake_seconds, bool)
            or not low <= step.bake_seconds <= MAX_BAKE_SECONDS
        ):
            errors.append(
                f"Step {number}: the bake must be {low}–{MAX_BAKE_SECONDS} seconds"
                + (" (a shorter one cannot be judged on one-minute metrics)." if not last else ".")
            )
    if not errors and steps[-1].candidate_percent != 100:
        errors.append("The last step must give the candidate 100 % of the pair's traffic.")
    if errors:
        raise Invalid(errors)
    return list(steps)


def step_weights(
    *, live: Mapping[str, float], candidate: str, baseline: str, candidate_percent: float
) -> dict[str, float]:
    """The weights a step sends: the pair's current total split between candidate and
    baseline as the step says; every other variant keeps its weight."""
    if candidate == baseline or candidate not in live or baseline not in live:
        raise Invalid(
            f"Choose two different variants of the endpoint ({', '.join(live)}) as candidate "
            "and baseline."
        )
    total = float(live[candidate]) + float(live[baseline])
    if total <= 0:
        total = 1.0  # neither serves now: the pair's weight becomes 1 between them
    weights = {name: float(value) for name, value in live.items()}
    weights[candidate] = total * candidate_percent / 100.0
    weights[baseline] = total - weights[candidate]
    return weights


def parse_shares(text: str, *, bake_seconds: int) -> list[PlanStep]:
    """ "5, 25, 50, 100" (a '!' after a share makes that step wait for a person, e.g.
    "5, 25!, 100") with one bake for every step but the last."""
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not parts:
        raise Invalid("Give the candidate's share at each step, e.g. 5, 25, 50, 100.")
    steps = []
    for index, part in enumerate(parts):
        manual = part.endswith("!")
        number = part.rstrip("!").rstrip("%").strip()
        try:
            share = float(number)
        except ValueError:
            raise Invalid(f"{part!r} is not a share in percent.") from None
        last = index == len(parts) - 1
        steps.append(PlanStep(share, 0 if last else bake_seconds, manual))
    return check_steps(steps)
