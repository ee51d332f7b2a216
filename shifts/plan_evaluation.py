"""One evaluation of a staged shift's gates: the bake window's numbers read from AWS (one
GetMetricData for every variant and metric, one DescribeAlarms for the plan's alarms) and
judged by `gates.judge`, with the alarms as one more gate and, when the plan opts in, the
Model Monitor runs the runner read from the database (`monitor_gate.py`) as another.

Kept apart from the runner so that what is read and how it is judged can be tested and
benchmarked on its own; the runner decides what the verdict makes the plan do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from core.aws import cloudwatch as aws_cloudwatch
from core.aws.types import AlarmState
from core.targets import Target
from shifts.gate_metrics import read_windows
from shifts.gates import GateResult, VariantWindow, Word, judge
from shifts.monitor_gate import MonitorRun, model_monitor_gate
from shifts.plan_spec import PlanSpec

# How a gate judged outside `gates.judge` names itself in the summary when it fails.
_FAILED_WORDS = {"alarms": "alarms in ALARM", "model_monitor": "Model Monitor violations"}


@dataclass(frozen=True)
class Evaluation:
    """Every gate's result over one window, the overall outcome and the numbers read."""

    outcome: Word
    results: tuple[GateResult, ...]
    summary: str
    windows: dict[str, VariantWindow]
    start: datetime
    end: datetime

    @property
    def failed(self) -> tuple[GateResult, ...]:
        return tuple(r for r in self.results if r.verdict == "fail")

    @property
    def failure_words(self) -> str:
        """The failed gates with their numbers, e.g. "5XX rate: B 4.8 % (116 of 2,412),
        allowed ≤ A 0.3 % + 1.0 point"."""
        return "; ".join(f"{r.value}, allowed {r.threshold}" for r in self.failed)

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "summary": self.summary,
            "gates": [asdict(r) for r in self.results],
            "windows": {name: asdict(w) for name, w in self.windows.items()},
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


def alarm_gate(*, names: tuple[str, ...], states: list[AlarmState]) -> GateResult:
    """Pass while every chosen alarm is OK (or has too little data to say); fail when one
    is in ALARM. An alarm deleted since the plan was approved is named, not ignored."""
    found = {state.name: state for state in states}
    firing = [name for name in names if found.get(name) and found[name].state == "ALARM"]
    missing = [name for name in names if name not in found]
    threshold = "every chosen alarm OK"
    if firing:
        reasons = "; ".join(f"{n}: {found[n].reason}" for n in firing if found[n].reason)
        return GateResult(
            gate="alarms",
            verdict="fail",
            value=f"in ALARM: {', '.join(firing)}",
            threshold=threshold,
            reason=f"{', '.join(firing)} went into ALARM. {reasons}".strip(),
        )
    value = f"{len(names) - len(missing)} OK" + (
        f"; no longer in CloudWatch: {', '.join(missing)}" if missing else ""
    )
    return GateResult(
        gate="alarms",
        verdict="pass",
        value=value,
        threshold=threshold,
        reason="None of the chosen alarms is in ALARM.",
    )


def evaluate(
    *,
    target: Target,
    region: str,
    endpoint_name: str,
    spec: PlanSpec,
    start: datetime,
    end: datetime,
    baseline_reference: VariantWindow | None = None,
    monitor_runs: Sequence[MonitorRun] | None = None,
) -> Evaluation:
    """Judge the candidate against the baseline over [start, end). When the baseline served
    nothing in the window (the 100 % step), `baseline_reference` — its window from the last
    step it served in — stands in for it. `monitor_runs` (None: not gated) are the
    endpoint's Model Monitor runs finished in the window. Raises core.aws.errors.AwsError."""
    variants = [spec.candidate, spec.baseline]
    windows = read_windows(
        target=target,
        region=region,
        endpoint_name=endpoint_name,
        variants=variants,
        start=start,
        end=end,
    )
    baseline = windows[spec.baseline]
    if baseline.invocations == 0 and baseline_reference is not None:
        baseline = baseline_reference
    verdict = judge(
        candidate=windows[spec.candidate],
        baseline=baseline,
        thresholds=spec.thresholds,
        candidate_name=spec.candidate,
        baseline_name=spec.baseline,
        window_seconds=max(0, round((end - start).total_seconds())),
    )
    extra: list[GateResult] = []
    if spec.alarms:
        states = aws_cloudwatch.alarm_states(target=target, region=region, names=list(spec.alarms))
        extra.append(alarm_gate(names=spec.alarms, states=states))
    if monitor_runs is not None:
        extra.append(model_monitor_gate(runs=monitor_runs))
    results = (*verdict.results, *extra)
    failed = [_FAILED_WORDS[r.gate] for r in extra if r.verdict == "fail"]
    outcome = "fail" if failed else verdict.outcome
    summary = verdict.summary
    if failed and verdict.outcome != "fail":
        summary = f"{summary.rsplit(':', 1)[0]}: {' and '.join(failed)}"
    return Evaluation(
        outcome=outcome, results=results, summary=summary, windows=windows, start=start, end=end
    )
