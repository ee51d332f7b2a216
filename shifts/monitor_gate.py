"""A staged shift's optional Model Monitor gate: no new constraint violations since the step
went live.

Model Monitor watches the endpoint's captured data, every variant's requests together, so
this gate judges the endpoint, not the candidate alone: a violation found while the candidate
serves 10 % may be the baseline's. It is off unless the plan opts in
(`gates.model_monitor`), and says so in its words.

No AWS call: the monitoring sync already stores each schedule's executions and their
violations; they are read through monitoring's selectors. Only runs scheduled after the step
went live count (an earlier run judged data captured before the step), and only finished
ones: a run still in progress has nothing to say yet, so with an hourly schedule and short
bakes most evaluations see no run at all and the gate passes on the metrics' word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from monitoring import selectors as monitoring_selectors
from shifts.gates import GateResult

if TYPE_CHECKING:
    from endpoints.models import Endpoint

# Model Monitor's statuses for a run whose report was written.
FINISHED = ("Completed", "CompletedWithViolations")
FEATURES_SHOWN = 5
THRESHOLD = "no constraint violations on the endpoint since the step went live"


@dataclass(frozen=True)
class MonitorRun:
    """One finished Model Monitor execution on the endpoint, as the sync stored it."""

    schedule: str
    scheduled_time: datetime
    status: str
    violations: int | None  # None: the report has not been read yet
    features: tuple[str, ...]

    @property
    def violating(self) -> bool:
        return self.status == "CompletedWithViolations" or bool(self.violations)

    @property
    def words(self) -> str:
        """ "checkout-quality at 2026-12-04 10:00 UTC: 3 violations (age, income)"."""
        at = self.scheduled_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        if self.violations is None:
            count = "violations (report not read yet)"
        else:
            count = f"{self.violations} violation" + ("" if self.violations == 1 else "s")
        shown = ", ".join(self.features[:FEATURES_SHOWN])
        more = len(self.features) - FEATURES_SHOWN
        features = f" ({shown}{f' and {more} more' if more > 0 else ''})" if shown else ""
        return f"{self.schedule} at {at}: {count}{features}"


def monitor_runs(*, endpoint: Endpoint, start: datetime, end: datetime) -> list[MonitorRun]:
    """The endpoint's Model Monitor runs scheduled in [start, end) that finished, oldest
    first, with the features that violated."""
    runs = []
    for execution in monitoring_selectors.endpoint_executions(endpoint=endpoint):
        if execution.scheduled_time < start:
            break  # newest first: the rest are older still
        if execution.scheduled_time >= end or execution.status not in FINISHED:
            continue
        run = MonitorRun(
            schedule=execution.schedule.name,
            scheduled_time=execution.scheduled_time,
            status=execution.status,
            violations=execution.violation_count,
            features=(),
        )
        if run.violating:
            rows = monitoring_selectors.violation_rows(execution)
            features = tuple(dict.fromkeys(row["feature_name"] for row in rows))
            run = MonitorRun(**{**run.__dict__, "features": features})
        runs.append(run)
    return runs[::-1]


def model_monitor_gate(*, runs: Sequence[MonitorRun]) -> GateResult:
    """Fail when any run since the step went live reported constraint violations; pass
    otherwise, saying how many runs it saw (none is common: schedules run hourly)."""
    bad = [run for run in runs if run.violating]
    if bad:
        value = "; ".join(run.words for run in bad)
        return GateResult(
            gate="model_monitor",
            verdict="fail",
            value=value,
            threshold=THRESHOLD,
            reason=f"Model Monitor reported constraint violations since this step went live: "
            f"{value}. It watches the endpoint's captured data (every variant's requests), "
            "so this judges the endpoint, not the candidate alone.",
        )
    clean = len(runs)
    value = (
        f"no violations in {clean} run" + ("" if clean == 1 else "s")
        if clean
        else "no run finished since the step went live"
    )
    return GateResult(
        gate="model_monitor",
        verdict="pass",
        value=value,
        threshold=THRESHOLD,
        reason="Model Monitor reported no constraint violations on the endpoint's captured "
        "data since this step went live (it judges the endpoint, not the candidate alone).",
    )
