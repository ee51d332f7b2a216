"""Auto scaling: the variant's scalable target (min/max), its target-tracking policy,
suspending and resuming scaling, and removing a policy, through Application Auto Scaling.

These calls take effect at once (no endpoint update), so the poll usually verifies on its
first read; the approval binds to the variant's targets and policies as the inventory saw
them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.aws import autoscaling as aws_autoscaling
from shifts.changes.base import APPLIED, FAILED, PENDING, SETTLE_POLLS, LiveRead, Moved, Verdict
from shifts.changes.common import default_verify_deadline, describe, target_of

if TYPE_CHECKING:
    from shifts.models import ShiftProposal

TARGET = "target"
POLICY = "policy"
SUSPEND = "suspend"
RESUME = "resume"
REMOVE_POLICY = "remove_policy"
ACTIONS = {
    TARGET: "Set the scalable target's minimum and maximum",
    POLICY: "Create or change a target-tracking policy",
    SUSPEND: "Suspend scaling (in and out)",
    RESUME: "Resume scaling",
    REMOVE_POLICY: "Remove a scaling policy",
}
ALL_SUSPENDED = list(aws_autoscaling.SUSPENSIONS)


def normalised(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    """The parts of a variant's scaling state that a change binds to, in one shape whatever
    the inventory row's age (older rows lack `suspended`)."""
    if not entry or "error" in entry:
        return None
    return {
        "min_capacity": entry.get("min_capacity"),
        "max_capacity": entry.get("max_capacity"),
        "suspended": sorted(entry.get("suspended") or []),
        "policies": sorted(
            (
                {
                    "name": p.get("name"),
                    "target_value": p.get("target_value"),
                    "scale_in_cooldown": p.get("scale_in_cooldown"),
                    "scale_out_cooldown": p.get("scale_out_cooldown"),
                    "disable_scale_in": bool(p.get("disable_scale_in", False)),
                }
                for p in entry.get("policies") or []
            ),
            key=lambda p: str(p["name"]),
        ),
    }


def inventory_entry(scaling: list[dict[str, Any]], variant: str) -> dict[str, Any] | None:
    return next((e for e in scaling if e.get("variant") == variant), None)


def _live_entry(live: LiveRead, variant: str) -> dict[str, Any] | None:
    state = aws_autoscaling.scaling_state(live.scaling or [])
    return normalised(inventory_entry(state, variant))


def shows_change(spec: dict[str, Any], entry: dict[str, Any] | None) -> bool:
    """Whether the variant's live scaling shows the change made."""
    action = spec["action"]
    if entry is None:
        return False
    if action == TARGET:
        return (entry["min_capacity"], entry["max_capacity"]) == (
            spec["min_capacity"],
            spec["max_capacity"],
        )
    if action == SUSPEND:
        return entry["suspended"] == sorted(ALL_SUSPENDED)
    if action == RESUME:
        return entry["suspended"] == []
    names = {p["name"]: p for p in entry["policies"]}
    if action == REMOVE_POLICY:
        return spec["policy_name"] not in names
    wanted = spec["policy"]
    found = names.get(wanted["name"])
    return found is not None and found["target_value"] == float(wanted["target_value"])


class AutoScalingChange:
    # Application Auto Scaling takes these changes whatever the endpoint's status: a
    # suspension is most needed while the endpoint is misbehaving.
    needs_in_service = False

    @staticmethod
    def read(*, proposal: ShiftProposal) -> LiveRead:
        described = describe(proposal)
        scaling = aws_autoscaling.describe_variant_scaling(
            target=target_of(proposal),
            region=proposal.endpoint.region,
            endpoint_name=proposal.endpoint.name,
            variant_names=[proposal.spec["variant"]],
        )
        return LiveRead(described=described, scaling=scaling)

    @classmethod
    def read_outcome(cls, *, proposal: ShiftProposal) -> LiveRead:
        return cls.read(proposal=proposal)

    @staticmethod
    def moved_in_inventory(*, proposal: ShiftProposal) -> Moved | None:
        entry = inventory_entry(proposal.endpoint.autoscaling or [], proposal.spec["variant"])
        now = normalised(entry)
        if now == proposal.before_state.get("scaling"):
            return None
        return Moved(
            "The inventory shows other auto scaling settings than the proposal was made "
            "against; nothing was applied.",
            {"live_scaling": now},
        )

    @staticmethod
    def moved_live(*, proposal: ShiftProposal, live: LiveRead) -> Moved | None:
        now = _live_entry(live, proposal.spec["variant"])
        if now == proposal.before_state.get("scaling"):
            return None
        return Moved(
            "The auto scaling settings in AWS changed after this was proposed; nothing was "
            "applied.",
            {"live_scaling": now},
        )

    @staticmethod
    def rebind(*, proposal: ShiftProposal, live: LiveRead) -> None:
        proposal.before_state = {"scaling": _live_entry(live, proposal.spec["variant"])}

    @staticmethod
    def unappliable(*, proposal: ShiftProposal, live: LiveRead) -> str | None:
        spec = proposal.spec
        variant = spec["variant"]
        if variant not in {v.name for v in live.described.variants if not v.is_shadow}:
            return f"The endpoint no longer has the variant {variant}."
        entry = _live_entry(live, variant)
        if spec["action"] != TARGET and entry is None:
            return f"The variant {variant} has no scalable target any more."
        policies = {p["name"] for p in entry["policies"]} if entry else set()
        if spec["action"] == REMOVE_POLICY and spec["policy_name"] not in policies:
            return f"The policy {spec['policy_name']} no longer exists."
        return None

    @staticmethod
    def send(*, proposal: ShiftProposal, live: LiveRead) -> str:
        spec = proposal.spec
        common = {
            "target": target_of(proposal),
            "region": proposal.endpoint.region,
            "endpoint_name": proposal.endpoint.name,
            "variant_name": spec["variant"],
        }
        entry = _live_entry(live, spec["variant"])
        action = spec["action"]
        if action in (TARGET, SUSPEND, RESUME):
            suspended = entry["suspended"] if entry else []
            if action == SUSPEND:
                suspended = ALL_SUSPENDED
            elif action == RESUME:
                suspended = []
            bounds = (
                (spec["min_capacity"], spec["max_capacity"])
                if action == TARGET
                else (entry["min_capacity"], entry["max_capacity"])  # type: ignore[index]
            )
            return aws_autoscaling.register_scalable_target(
                **common,
                min_capacity=int(bounds[0]),
                max_capacity=int(bounds[1]),
                suspended=tuple(suspended),
            )
        if action == REMOVE_POLICY:
            return aws_autoscaling.delete_scaling_policy(**common, policy_name=spec["policy_name"])
        policy = spec["policy"]
        return aws_autoscaling.put_target_tracking_policy(
            **common,
            policy_name=policy["name"],
            target_value=float(policy["target_value"]),
            scale_in_cooldown=int(policy["scale_in_cooldown"]),
            scale_out_cooldown=int(policy["scale_out_cooldown"]),
            disable_scale_in=bool(policy["disable_scale_in"]),
            customized_metric=policy.get("customized_metric"),
        )

    @staticmethod
    def verify(*, proposal: ShiftProposal, live: LiveRead) -> Verdict:
        entry = _live_entry(live, proposal.spec["variant"])
        proposal.observed_state = {"scaling": entry}
        if shows_change(proposal.spec, entry):
            return Verdict(
                APPLIED,
                f"Application Auto Scaling shows the change (request {proposal.aws_request_id}).",
            )
        if proposal.poll_attempts >= SETTLE_POLLS:
            return Verdict(FAILED, f"Application Auto Scaling does not show the change: {entry}.")
        return Verdict(PENDING, "Application Auto Scaling does not show the change yet.")

    @staticmethod
    def verify_deadline_seconds(*, proposal: ShiftProposal) -> int:
        return default_verify_deadline()

    @staticmethod
    def summary(*, proposal: ShiftProposal) -> str:
        spec = proposal.spec
        variant = spec["variant"]
        action = spec["action"]
        if action == TARGET:
            return (
                f"Auto scaling {variant}: {spec['min_capacity']}–{spec['max_capacity']} instances"
            )
        if action == SUSPEND:
            return f"Auto scaling {variant}: suspend scaling in and out"
        if action == RESUME:
            return f"Auto scaling {variant}: resume scaling"
        if action == REMOVE_POLICY:
            return f"Auto scaling {variant}: remove policy {spec['policy_name']}"
        policy = spec["policy"]
        what = "custom metric" if policy.get("customized_metric") else "invocations per instance"
        no_scale_in = ", no scale-in" if policy["disable_scale_in"] else ""
        return (
            f"Auto scaling {variant}: policy {policy['name']} tracks {what} at "
            f"{float(policy['target_value']):g} (cooldowns out {policy['scale_out_cooldown']} s, "
            f"in {policy['scale_in_cooldown']} s{no_scale_in})"
        )
