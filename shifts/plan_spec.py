"""A staged shift's plan as the proposal's `spec` holds it: the candidate and baseline
variants, the steps, the gates' thresholds (and whether Model Monitor's violations gate it),
the alarms that must stay OK, what a failed gate does, and how often too little traffic may
extend a bake.

Pure (no Django, no AWS): the spec is checked when proposed (or saved as a template) and read
back by the runner on every tick, so both directions live here, next to each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from core.errors import Invalid
from shifts.gates import GateThresholds
from shifts.plan_steps import PlanStep, check_steps

ON_FAILURE = ("rollback", "pause")
MAX_EXTENSIONS = 10
MAX_ALARMS = 50
DEFAULT_EXTENSIONS = 2


@dataclass(frozen=True)
class PlanSpec:
    """Everything the Approvers approve about a staged shift besides the weights it binds
    to. `alarms` None (as posted or in a template) means "every alarm on the endpoint but
    auto scaling's": `services.plans` replaces it with those names when the plan is
    proposed, so an approved spec always lists the alarms its gate reads, and an alarm
    created later is not gated on."""

    candidate: str
    baseline: str
    steps: tuple[PlanStep, ...]
    thresholds: GateThresholds = field(default_factory=GateThresholds)
    on_failure: str = "rollback"
    alarms: tuple[str, ...] | None = None
    max_extensions: int = DEFAULT_EXTENSIONS
    template: str = ""

    @property
    def last_step(self) -> int:
        return len(self.steps) - 1

    def to_json(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "baseline": self.baseline,
            "steps": [asdict(step) for step in self.steps],
            "gates": asdict(self.thresholds),
            "on_failure": self.on_failure,
            "alarms": None if self.alarms is None else list(self.alarms),
            "max_extensions": self.max_extensions,
            "template": self.template,
        }


def thresholds_from(data: Mapping[str, Any]) -> GateThresholds:
    """GateThresholds from a form or a stored spec; Invalid (with the field) when a value
    cannot mean anything."""
    known = set(GateThresholds.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise Invalid(f"Unknown gate setting: {', '.join(map(str, unknown))}.")
    try:
        return GateThresholds(**dict(data))
    except (TypeError, ValueError) as exc:
        raise Invalid(str(exc)) from None


def steps_from(items: Sequence[Any]) -> tuple[PlanStep, ...]:
    steps = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            raise Invalid(f"Step {number} is not a step.")
        try:
            steps.append(
                PlanStep(
                    candidate_percent=item["candidate_percent"],
                    bake_seconds=item["bake_seconds"],
                    manual=bool(item.get("manual", False)),
                )
            )
        except KeyError as exc:
            raise Invalid(f"Step {number} has no {exc.args[0]}.") from None
    return tuple(check_steps(steps))


def plan_from(data: Mapping[str, Any]) -> PlanSpec:
    """The spec as stored (or posted), checked: Invalid names what is wrong."""
    candidate, baseline = data.get("candidate"), data.get("baseline")
    if not isinstance(candidate, str) or not isinstance(baseline, str) or not candidate:
        raise Invalid("Choose the candidate and the baseline variant.")
    if candidate == baseline:
        raise Invalid("The candidate and the baseline must be two different variants.")
    on_failure = data.get("on_failure", "rollback")
    if on_failure not in ON_FAILURE:
        raise Invalid("When a gate fails the plan either rolls back or pauses.")
    alarms = data.get("alarms")
    if alarms is not None:
        if not isinstance(alarms, list | tuple) or not all(isinstance(a, str) for a in alarms):
            raise Invalid("The alarms must be a list of alarm names.")
        if len(alarms) > MAX_ALARMS:
            raise Invalid(f"Choose at most {MAX_ALARMS} alarms.")
        alarms = tuple(alarms)
    extensions = data.get("max_extensions", DEFAULT_EXTENSIONS)
    if (
        not isinstance(extensions, int)
        or isinstance(extensions, bool)
        or not 0 <= extensions <= MAX_EXTENSIONS
    ):
        raise Invalid(f"A bake may be extended 0 to {MAX_EXTENSIONS} times for lack of traffic.")
    steps = data.get("steps")
    if not isinstance(steps, list | tuple):
        raise Invalid("A plan needs its steps.")
    gates = data.get("gates", {})
    if not isinstance(gates, Mapping):
        raise Invalid("The gates must be a set of thresholds.")
    return PlanSpec(
        candidate=candidate,
        baseline=baseline,
        steps=steps_from(steps),
        thresholds=thresholds_from(gates),
        on_failure=on_failure,
        alarms=alarms,
        max_extensions=extensions,
        template=str(data.get("template") or "")[:80],
    )
