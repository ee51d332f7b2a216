"""One change request of a type other than traffic, as its page shows it: the change, what
it was bound to, what the poll saw, and the rollback alarms' states."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitoring.selectors import endpoint_alarms
from shifts.changes import autoscaling as scaling_change
from shifts.changes.capacity import describe_capacity
from shifts.changes.deploy import new_config_name
from shifts.models import (
    ChangeType,
    ShiftProposal,
)

if TYPE_CHECKING:
    from endpoints.models import Endpoint


from shifts.selectors.words import change_label, summary_of, suspension_words


@dataclass(frozen=True)
class CapacityRow:
    variant: str
    before: str
    after: str
    observed: str


@dataclass(frozen=True)
class ChangeView:
    """A change request of any type beyond traffic, in words, for its page."""

    label: str
    summary: str
    change: list[tuple[str, str]]
    bound: list[tuple[str, str]]
    outcome: list[tuple[str, str]]
    capacity: list[CapacityRow]
    warnings: list[str]
    deployment: list[tuple[str, str]]
    target_config: str
    before_config: str

    @property
    def is_config_change(self) -> bool:
        return bool(self.target_config)


def _scaling_words(entry: dict[str, Any] | None) -> list[tuple[str, str]]:
    if not entry:
        return [("Auto scaling", "no scalable target")]
    words = [
        ("Instances", f"{entry.get('min_capacity')}–{entry.get('max_capacity')}"),
        (
            "Suspended",
            ", ".join(suspension_words(entry.get("suspended"))) or "nothing (scaling is active)",
        ),
    ]
    for policy_entry in entry.get("policies") or []:
        words.append((f"Policy {policy_entry.get('name')}", _policy_words(policy_entry)))
    if not entry.get("policies"):
        words.append(("Policies", "none"))
    return words


def _policy_words(entry: dict[str, Any]) -> str:
    metric = entry.get("metric") or (
        "custom metric" if entry.get("customized_metric") else "invocations per instance"
    )
    target = entry.get("target_value")
    no_in = ", no scale-in" if entry.get("disable_scale_in") else ""
    return (
        f"{metric} at {target if target is not None else '–'}; cooldowns out "
        f"{entry.get('scale_out_cooldown')} s, in {entry.get('scale_in_cooldown')} s{no_in}"
    )


def _deployment_words(deployment: dict[str, Any]) -> list[tuple[str, str]]:
    if not deployment:
        return []
    strategy = str(deployment.get("strategy") or "ALL_AT_ONCE")
    words = [("Strategy", strategy.replace("_", " ").lower())]
    if strategy != "ALL_AT_ONCE":
        unit = "%" if deployment.get("size_type") == "CAPACITY_PERCENT" else "instances"
        words.append(("Step size", f"{deployment.get('size_value')} {unit}"))
    words.append(("Bake per step", f"{deployment.get('wait_seconds') or 0} s"))
    if strategy != "ROLLING":
        words.append(("Old fleet kept for", f"{deployment.get('termination_wait_seconds') or 0} s"))
    if deployment.get("max_execution_timeout_seconds"):
        words.append(("Time limit", f"{deployment['max_execution_timeout_seconds']} s"))
    if deployment.get("rollback_batch_percent"):
        words.append(("Rollback batch", f"{deployment['rollback_batch_percent']} %"))
    alarms = deployment.get("rollback_alarms") or []
    words.append(("Rollback alarms", ", ".join(map(str, alarms)) or "none"))
    return words


def _capacity_rows(proposal: ShiftProposal) -> list[CapacityRow]:
    before = (proposal.before_state or {}).get("capacity") or {}
    observed = (proposal.observed_state or {}).get("capacity") or {}
    wanted = (proposal.spec or {}).get("capacity") or {}
    return [
        CapacityRow(
            variant=name,
            before=describe_capacity(before.get(name) or {}) if name in before else "–",
            after=describe_capacity(values) if isinstance(values, dict) else "–",
            observed=describe_capacity(observed[name]) if name in observed else "–",
        )
        for name, values in wanted.items()
    ]


def change_view(*, proposal: ShiftProposal) -> ChangeView:
    """What a non-traffic change request changes, what its approval is bound to, the
    warnings given when it was proposed and what the poll saw, in words."""
    spec = proposal.spec or {}
    before = proposal.before_state or {}
    observed = proposal.observed_state or {}
    change: list[tuple[str, str]] = []
    bound: list[tuple[str, str]] = []
    outcome: list[tuple[str, str]] = []
    target_config = before_config = ""
    if proposal.change == ChangeType.AUTOSCALING:
        action = str(spec.get("action", ""))
        change = [
            ("Variant", str(spec.get("variant", ""))),
            ("Action", scaling_change.ACTIONS.get(action, action)),
        ]
        if action == scaling_change.TARGET:
            change.append(("Instances", f"{spec.get('min_capacity')}–{spec.get('max_capacity')}"))
        elif action == scaling_change.REMOVE_POLICY:
            change.append(("Policy", str(spec.get("policy_name", ""))))
        elif action == scaling_change.POLICY:
            policy_spec = spec.get("policy") or {}
            change.append((f"Policy {policy_spec.get('name')}", _policy_words(policy_spec)))
        bound = _scaling_words(before.get("scaling"))
        if "scaling" in observed:
            outcome = _scaling_words(observed.get("scaling"))
    elif proposal.change in (ChangeType.DEPLOY, ChangeType.ROLLBACK):
        before_config = str(before.get("config_name") or "")
        if proposal.change == ChangeType.DEPLOY:
            target_config = new_config_name(
                endpoint_name=proposal.endpoint.name, proposal_id=proposal.pk
            )
            change = [
                ("Variant", str(spec.get("variant", ""))),
                ("Model", f"{spec.get('from_model') or '–'} → {spec.get('model')}"),
            ]
            if spec.get("instance_type"):
                change.append(("Instance type", str(spec["instance_type"])))
            if spec.get("instance_count") is not None:
                change.append(("Instance count", str(spec["instance_count"])))
            if spec.get("end_shadow_test"):
                promoted = spec.get("promoted_shadow")
                change.append(
                    (
                        "Shadow test",
                        f"ends: {promoted} is promoted and no shadow variant is kept"
                        if promoted
                        else "ends: the new config keeps no shadow variant",
                    )
                )
            change.append(("New endpoint config", target_config))
        else:
            target_config = str(spec.get("config_name") or "")
            change = [("Endpoint config", f"{before_config or '–'} → {target_config}")]
        bound = [("Endpoint config", before_config or "–")]
        if observed:
            outcome = [
                ("Status", str(observed.get("status") or "–")),
                ("Endpoint config", str(observed.get("config_name") or "–")),
            ]
            if observed.get("failure_reason"):
                outcome.append(("Failure reason", str(observed["failure_reason"])))
    elif proposal.change == ChangeType.CAPACITY:
        bound = [
            (name, describe_capacity(values))
            for name, values in (before.get("capacity") or {}).items()
            if isinstance(values, dict)
        ]
    return ChangeView(
        label=change_label(proposal),
        summary=summary_of(proposal),
        change=change,
        bound=bound,
        outcome=outcome,
        capacity=_capacity_rows(proposal) if proposal.change == ChangeType.CAPACITY else [],
        warnings=[str(w) for w in spec.get("warnings") or []],
        deployment=_deployment_words(spec.get("deployment") or {}),
        target_config=target_config,
        before_config=before_config,
    )


def rollback_alarm_states(*, endpoint: Endpoint, names: list[str]) -> list[tuple[str, Any]]:
    """Each rollback alarm a deployment watches with the portal's synced row (None when
    the portal does not know it: not on this endpoint, or not synced yet)."""
    known = {a.name: a for a in endpoint_alarms(endpoint=endpoint)}
    return [(name, known.get(name)) for name in names]
