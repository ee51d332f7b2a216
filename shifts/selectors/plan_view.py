"""What a staged shift's page shows: its steps and where the run is, the current bake's
countdown, the newest gate values against their thresholds, the decision log with each
decision's gates (the report a finished plan keeps), and the buttons the viewer may press."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from shifts import policy
from shifts.changes import change_summary
from shifts.deployment_notes import duration
from shifts.models import PlanRun, PlanStatus, ShiftEvent, ShiftProposal, ShiftState
from shifts.plan_spec import PlanSpec, plan_from
from shifts.plan_words import gate_rules


@dataclass(frozen=True)
class StepRow:
    number: int
    share: str
    bake: str
    manual: bool
    state: str  # done | current | next | rolled back | stopped | not run


@dataclass(frozen=True)
class Decision:
    at: datetime
    who: str
    action: str
    comment: str
    step: int | None
    gates: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class PlanView:
    proposal: ShiftProposal
    spec: PlanSpec
    run: PlanRun | None
    summary: str
    rules: list[str]
    status: str
    status_label: str
    steps: list[StepRow]
    bake_left: str
    gates: list[dict[str, Any]]
    gates_summary: str
    evaluated_at: datetime | None
    decisions: list[Decision]
    can_pause: bool
    can_abort: bool
    can_resume: bool
    can_promote: bool

    @property
    def active(self) -> bool:
        """Whether the page should keep refreshing: until the plan has finished (a pending
        plan is approved, and a paused one resumed, by someone else)."""
        return self.proposal.is_open


def _status(proposal: ShiftProposal, run: PlanRun | None) -> tuple[str, str]:
    if run is not None and run.status == PlanStatus.WAITING and not proposal.is_open:
        return PlanStatus.STOPPED, f"Stopped ({proposal.state} before it started)"
    if run is not None:
        return run.status, PlanStatus(run.status).label
    if proposal.state == ShiftState.APPROVED:
        return PlanStatus.WAITING, PlanStatus.WAITING.label
    return "", f"Not started ({proposal.state})"


def _steps(spec: PlanSpec, run: PlanRun | None, status: str) -> list[StepRow]:
    rows = []
    for index, step in enumerate(spec.steps):
        ended = status in (PlanStatus.ROLLED_BACK, PlanStatus.STOPPED)
        if run is None or status in ("", PlanStatus.WAITING):
            state = "next"
        elif status == PlanStatus.PROMOTED or index < run.step:
            state = "done"
        elif index == run.step:
            state = {"rolled_back": "rolled back", "stopped": "stopped"}.get(status, "current")
        else:
            state = "not run" if ended else "next"
        rows.append(
            StepRow(
                number=index + 1,
                share=f"{step.candidate_percent:g} %",
                bake=duration(step.bake_seconds) if step.bake_seconds else "—",
                manual=step.manual,
                state=state,
            )
        )
    return rows


def _decisions(proposal: ShiftProposal) -> list[Decision]:
    rows = []
    for event in ShiftEvent.objects.filter(proposal=proposal).order_by("at", "id"):
        detail = event.detail or {}
        verdict = detail.get("verdict") or {}
        rows.append(
            Decision(
                at=event.at,
                who=event.username,
                action=event.action.removeprefix("plan."),
                comment=event.comment,
                step=detail.get("step"),
                gates=list(verdict.get("gates") or []),
            )
        )
    return rows


def plan_view(*, proposal: ShiftProposal, user: Any, now: datetime | None = None) -> PlanView:
    now = now or timezone.now()
    spec = plan_from(proposal.spec)
    run = PlanRun.objects.filter(proposal=proposal).first()
    status, label = _status(proposal, run)
    bake_left = ""
    if run is not None and status == PlanStatus.RUNNING and run.bake_until is not None:
        seconds = max(0, int((run.bake_until - now).total_seconds()))
        bake_left = duration(seconds)
    verdict = run.last_verdict if run is not None else {}
    moving = status in (PlanStatus.WAITING, PlanStatus.RUNNING, PlanStatus.PAUSED)
    return PlanView(
        proposal=proposal,
        spec=spec,
        run=run,
        summary=change_summary(proposal=proposal),
        rules=gate_rules(spec),
        status=status,
        status_label=label,
        steps=_steps(spec, run, status),
        bake_left=bake_left,
        gates=list(verdict.get("gates") or []),
        gates_summary=str(verdict.get("summary") or ""),
        evaluated_at=run.last_evaluated_at if run is not None else None,
        decisions=_decisions(proposal),
        can_pause=status == PlanStatus.RUNNING
        and policy.refusal_for("plan_pause", user, proposal) is None,
        can_abort=moving and policy.refusal_for("plan_abort", user, proposal) is None,
        can_resume=status == PlanStatus.PAUSED
        and policy.refusal_for("plan_resume", user, proposal) is None,
        can_promote=status in (PlanStatus.RUNNING, PlanStatus.PAUSED)
        and policy.refusal_for("plan_promote", user, proposal) is None,
    )
