"""Forms for change requests beyond traffic: capacity, auto scaling, deploy and rollback.

They only parse what a person typed into the change's spec (see shifts/changes/checks.py
for its shape); the checks decide whether the change may be made and say why not, and
their messages land on these forms through core.forms.add_errors. Numbers are bounded
here only so that no input, however long, reaches the checks as something they cannot
print or compare; the real ranges are the checks'.
"""

from __future__ import annotations

from typing import Any

from django import forms

from core.forms import set_choices
from shifts.changes import autoscaling as scaling
from shifts.changes.checks import STATISTICS
from shifts.deployment_options import MAX_ALARMS, SIZE_TYPES, STRATEGIES

# Wider than any rule of the checks, narrow enough that every value prints and converts.
BOUND = 1_000_000_000
NAME_LIMIT = 256

STRATEGY_LABELS = {
    "ALL_AT_ONCE": "All at once",
    "CANARY": "Canary",
    "LINEAR": "Linear",
    "ROLLING": "Rolling",
}
SIZE_TYPE_LABELS = {
    "CAPACITY_PERCENT": "% of the new fleet",
    "INSTANCE_COUNT": "instances",
}
PREDEFINED = "predefined"
CUSTOM = "custom"


def number(label: str, *, help_text: str = "", initial: int | None = None) -> forms.IntegerField:
    return forms.IntegerField(
        required=False,
        min_value=-BOUND,
        max_value=BOUND,
        label=label,
        help_text=help_text,
        initial=initial,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1"}),
    )


def reason_field() -> forms.CharField:
    return forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why: the Approvers and the audit log read this.",
    )


class ChangeForm(forms.Form):
    """What every change form shares: a reason, and the spec once the fields parse."""

    reason = reason_field()

    def spec(self) -> dict[str, Any]:
        raise NotImplementedError

    def spec_or_none(self) -> dict[str, Any] | None:
        """The spec when every field but the reason parses (so that a preview need not
        wait for the reason), else None."""
        if not self.is_bound:
            return None
        self.is_valid()
        if any(name != "reason" for name in self.errors):
            return None
        return self.spec()


# Capacity -------------------------------------------------------------------------------


class CapacityForm(ChangeForm):
    """A new instance count per instance-based variant, or a serverless variant's maximum
    and provisioned concurrency. Variants left as they are (or blank) do not change."""

    def __init__(self, *args: Any, capacity: dict[str, dict[str, Any]], **kwargs: Any) -> None:
        self.capacity = capacity
        initial = kwargs.setdefault("initial", {})
        for index, values in enumerate(capacity.values()):
            if "instances" in values:
                initial.setdefault(f"instances_{index}", values.get("instances"))
            else:
                initial.setdefault(f"max_concurrency_{index}", values.get("max_concurrency"))
                initial.setdefault(f"provisioned_{index}", values.get("provisioned_concurrency"))
        super().__init__(*args, **kwargs)
        for index, (name, values) in enumerate(capacity.items()):
            if "instances" in values:
                self.fields[f"instances_{index}"] = number(f"{name}: instances")
            else:
                self.fields[f"max_concurrency_{index}"] = number(f"{name}: max concurrency")
                self.fields[f"provisioned_{index}"] = number(
                    f"{name}: provisioned concurrency", help_text="blank: none"
                )

    def rows(self) -> list[dict[str, Any]]:
        """Per variant: its name, what it runs now, and its fields."""
        rows = []
        for index, (name, values) in enumerate(self.capacity.items()):
            if "instances" in values:
                fields = [self[f"instances_{index}"]]
                now = f"{values.get('instance_type') or '?'} × {values.get('instances')}"
            else:
                fields = [self[f"max_concurrency_{index}"], self[f"provisioned_{index}"]]
                now = (
                    f"serverless, max concurrency {values.get('max_concurrency')}, "
                    f"provisioned {values.get('provisioned_concurrency') or 'none'}"
                )
            rows.append({"name": name, "now": now, "fields": fields})
        return rows

    def spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        wanted: dict[str, dict[str, Any]] = {}
        for index, (name, values) in enumerate(self.capacity.items()):
            if "instances" in values:
                count = data.get(f"instances_{index}")
                if count is not None:
                    wanted[name] = {"instances": count}
            else:
                top = data.get(f"max_concurrency_{index}")
                if top is None:
                    continue
                wanted[name] = {
                    "max_concurrency": top,
                    "provisioned_concurrency": data.get(f"provisioned_{index}"),
                }
        return {"capacity": wanted}


# Auto scaling ---------------------------------------------------------------------------

# The fields each action uses, in the order the form shows them.
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    scaling.TARGET: ("min_capacity", "max_capacity"),
    scaling.POLICY: (
        "policy_name",
        "target_value",
        "scale_out_cooldown",
        "scale_in_cooldown",
        "disable_scale_in",
        "metric",
        "namespace",
        "metric_name",
        "statistic",
    ),
    scaling.SUSPEND: (),
    scaling.RESUME: (),
    scaling.REMOVE_POLICY: ("policy_to_remove",),
}


class ChooseScalingForm(forms.Form):
    """The variant and the action, which decide the fields of the auto scaling form."""

    variant = forms.ChoiceField()
    # Not "action": the submit buttons are called that (preview / submit), as on every form.
    operation = forms.ChoiceField(choices=list(scaling.ACTIONS.items()), label="Action")

    def __init__(self, *args: Any, variants: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "variant", [(v, v) for v in variants])

    def chosen(self) -> tuple[str, str]:
        """The valid choice, or the first variant and setting the min/max."""
        variants = [value for value, _ in self.fields["variant"].choices]  # type: ignore[attr-defined]
        variant, action = (variants[0] if variants else ""), scaling.TARGET
        if self.is_bound and self.is_valid():
            variant, action = self.cleaned_data["variant"], self.cleaned_data["operation"]
        elif self.is_bound:
            if "variant" not in self.errors:
                variant = self.cleaned_data.get("variant", variant)
            if "operation" not in self.errors:
                action = self.cleaned_data.get("operation", action)
        return variant, action


class AutoScalingForm(ChangeForm):
    """One auto scaling change of one variant; only the chosen action's fields are shown
    and read."""

    variant = forms.ChoiceField(widget=forms.HiddenInput)
    operation = forms.ChoiceField(choices=list(scaling.ACTIONS.items()), widget=forms.HiddenInput)
    min_capacity = number("Minimum instances")
    max_capacity = number("Maximum instances")
    policy_name = forms.CharField(
        required=False,
        max_length=NAME_LIMIT,
        label="Policy name",
        help_text="An existing policy's name changes that policy.",
    )
    target_value = forms.FloatField(
        required=False,
        label="Target value",
        help_text="Invocations per instance per minute (or the custom metric's value).",
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    scale_out_cooldown = number("Scale-out cooldown (s)", initial=300)
    scale_in_cooldown = number("Scale-in cooldown (s)", initial=300)
    disable_scale_in = forms.BooleanField(required=False, label="Never scale in (disable scale-in)")
    metric = forms.ChoiceField(
        required=False,
        choices=[
            (PREDEFINED, "Invocations per instance (SageMakerVariantInvocationsPerInstance)"),
            (CUSTOM, "A custom CloudWatch metric of this variant"),
        ],
        initial=PREDEFINED,
        label="Metric",
    )
    namespace = forms.CharField(required=False, max_length=NAME_LIMIT, label="Namespace")
    metric_name = forms.CharField(required=False, max_length=NAME_LIMIT, label="Metric name")
    statistic = forms.ChoiceField(
        required=False, choices=[(s, s) for s in STATISTICS], initial="Average", label="Statistic"
    )
    policy_to_remove = forms.ChoiceField(required=False, label="Policy to remove")

    def __init__(
        self,
        *args: Any,
        variants: list[str],
        variant: str,
        action: str,
        entry: dict[str, Any] | None,
        **kwargs: Any,
    ) -> None:
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("variant", variant)
        initial.setdefault("operation", action)
        entry = entry or {}
        if entry:
            initial.setdefault("min_capacity", entry.get("min_capacity"))
            initial.setdefault("max_capacity", entry.get("max_capacity"))
        policies = [p for p in entry.get("policies") or [] if isinstance(p, dict)]
        if policies:
            first = policies[0]
            initial.setdefault("policy_name", first.get("name"))
            initial.setdefault("target_value", first.get("target_value"))
            initial.setdefault("scale_out_cooldown", first.get("scale_out_cooldown"))
            initial.setdefault("scale_in_cooldown", first.get("scale_in_cooldown"))
            initial.setdefault("disable_scale_in", first.get("disable_scale_in"))
        else:
            initial.setdefault("policy_name", "invocations-per-instance")
        super().__init__(*args, **kwargs)
        self.chosen_action = action
        set_choices(self, "variant", [(v, v) for v in variants])
        names = [str(p.get("name")) for p in policies]
        set_choices(self, "policy_to_remove", [(n, n) for n in names])

    def action_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ACTION_FIELDS.get(self.chosen_action, ())]

    def spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        action = data.get("operation", self.chosen_action)
        spec: dict[str, Any] = {"variant": data.get("variant"), "action": action}
        if action == scaling.TARGET:
            spec.update(
                min_capacity=data.get("min_capacity"), max_capacity=data.get("max_capacity")
            )
        elif action == scaling.REMOVE_POLICY:
            spec["policy_name"] = data.get("policy_to_remove")
        elif action == scaling.POLICY:
            custom = None
            if data.get("metric") == CUSTOM:
                custom = {
                    "namespace": data.get("namespace") or "",
                    "metric_name": data.get("metric_name") or "",
                    "statistic": data.get("statistic") or "Average",
                }
            spec["policy"] = {
                "name": (data.get("policy_name") or "").strip(),
                "target_value": data.get("target_value"),
                "scale_in_cooldown": data.get("scale_in_cooldown"),
                "scale_out_cooldown": data.get("scale_out_cooldown"),
                "disable_scale_in": bool(data.get("disable_scale_in")),
                "customized_metric": custom,
            }
        return spec


# Deploy and rollback --------------------------------------------------------------------


class DeploymentFields(forms.Form):
    """SageMaker's deployment options (shifts/deployment_options.py holds the rules)."""

    strategy = forms.ChoiceField(
        label="Strategy",
        help_text="All at once: the new fleet takes all traffic when ready. Canary: a share "
        "first, then the rest. Linear: equal steps. Rolling: batch by batch, in place.",
    )
    size_type = forms.ChoiceField(
        required=False,
        choices=[(s, SIZE_TYPE_LABELS[s]) for s in SIZE_TYPES],
        initial="CAPACITY_PERCENT",
        label="Step size in",
    )
    size_value = number(
        "Step size",
        initial=10,
        help_text="The canary, each linear step or each rolling batch; unused all at once.",
    )
    wait_seconds = number(
        "Bake time per step (s)",
        initial=300,
        help_text="Traffic waits this long after each step while the alarms watch.",
    )
    termination_wait_seconds = number(
        "Keep the old fleet for (s)",
        initial=0,
        help_text="Blue/green only: how long the old fleet stays after the traffic moved.",
    )
    max_execution_timeout_seconds = number(
        "Time limit (s)", help_text="Optional, 600–28800: past it SageMaker rolls back."
    )
    rollback_batch_percent = number(
        "Rollback batch (%)", help_text="Rolling only, optional: how fast a rollback goes."
    )
    rollback_alarms = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Roll back when any of these alarms goes off",
    )

    def setup_deployment(
        self, *, strategies: list[str], alarms: list[str], default_alarms: list[str] | None
    ) -> None:
        """`default_alarms` are ticked on a fresh form (None on a submitted one)."""
        set_choices(self, "strategy", [(s, STRATEGY_LABELS[s]) for s in strategies])
        self.fields["strategy"].initial = strategies[0] if strategies else ""
        set_choices(self, "rollback_alarms", [(a, a) for a in alarms])
        if default_alarms is not None:
            self.fields["rollback_alarms"].initial = default_alarms[:MAX_ALARMS]

    def deployment_fields(self) -> list[forms.BoundField]:
        return [
            self[name]
            for name in (
                "strategy",
                "size_type",
                "size_value",
                "wait_seconds",
                "termination_wait_seconds",
                "max_execution_timeout_seconds",
                "rollback_batch_percent",
            )
        ]

    def deployment(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "strategy": data.get("strategy") or "ALL_AT_ONCE",
            "size_type": data.get("size_type") or "CAPACITY_PERCENT",
            "size_value": data.get("size_value") or 0,
            "wait_seconds": data.get("wait_seconds") or 0,
            "termination_wait_seconds": data.get("termination_wait_seconds") or 0,
            "max_execution_timeout_seconds": data.get("max_execution_timeout_seconds"),
            "rollback_alarms": list(data.get("rollback_alarms") or []),
            "rollback_batch_percent": data.get("rollback_batch_percent"),
        }


def offered_strategies(
    *, production_variants: int, serverless: bool
) -> tuple[list[str], list[str]]:
    """The strategies the form offers for this endpoint, and why any is not offered."""
    offered = list(STRATEGIES)
    not_offered = []
    if serverless:
        offered.remove("ROLLING")
        not_offered.append(
            "Rolling is not offered: this endpoint is serverless. SageMaker's deployment "
            "guardrails (canary, linear, bake, rollback on alarms) do not apply to serverless "
            "endpoints either: it deploys all at once whatever is chosen."
        )
    elif production_variants > 1:
        offered.remove("ROLLING")
        not_offered.append(
            f"Rolling is not offered: this endpoint has {production_variants} production "
            "variants, and SageMaker's rolling deployments need exactly one."
        )
    return offered, not_offered


class DeployForm(DeploymentFields, ChangeForm):
    """A model version for one variant, optionally on another instance type or count."""

    variant = forms.ChoiceField(label="Variant")
    model = forms.CharField(max_length=63, label="Model")
    instance_type = forms.CharField(
        required=False, max_length=64, label="New instance type", help_text="Blank: keep it."
    )
    instance_count = number("New instance count", help_text="Blank: keep it.")
    end_shadow_test = forms.BooleanField(
        required=False,
        label="End the shadow test",
        help_text="The new config has no shadow variant (to promote a shadow, deploy its model "
        "to the production variant and tick this).",
    )

    def __init__(
        self,
        *args: Any,
        variants: list[str],
        models: list[str] | None,
        has_shadow: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "variant", [(v, v) for v in variants])
        if not has_shadow:
            del self.fields["end_shadow_test"]
        # Typed or picked from the region's models: a model created a minute ago may not be
        # in the (cached) list yet, and the proposal checks the name with DescribeModel.
        self.model_choices = models or []
        self.fields["model"].widget.attrs.update(
            {"list": "model-choices", "autocomplete": "off", "spellcheck": "false"}
        )

    def spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "variant": data.get("variant"),
            "model": (data.get("model") or "").strip(),
            "instance_type": (data.get("instance_type") or "").strip(),
            "instance_count": data.get("instance_count"),
            "end_shadow_test": bool(data.get("end_shadow_test")),
            "deployment": self.deployment(),
        }


class RollbackForm(DeploymentFields, ChangeForm):
    """Back to a config the endpoint ran before."""

    config_name = forms.ChoiceField(label="Endpoint config to roll back to")

    def __init__(self, *args: Any, configs: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "config_name", [(c, c) for c in configs])
        # A rollback is usually urgent and returns to a config that ran before: all at
        # once, no bake, unless the person chooses otherwise.
        self.fields["wait_seconds"].initial = 0

    def spec(self) -> dict[str, Any]:
        return {
            "config_name": self.cleaned_data.get("config_name"),
            "deployment": self.deployment(),
        }
