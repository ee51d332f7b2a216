"""The staged-shift form: variants, steps, bake, gates, alarms and what a failed gate does,
parsed into a plan spec (`plan_spec.py` checks it; its messages land here through
core.forms.add_errors). A template fills the fields in; saving one stores them."""

from __future__ import annotations

from typing import Any

from django import forms

from core.forms import set_choices
from shifts.change_forms import reason_field
from shifts.plan_spec import DEFAULT_EXTENSIONS, MAX_EXTENSIONS, ON_FAILURE
from shifts.plan_steps import MAX_BAKE_SECONDS, parse_shares

ON_FAILURE_LABELS = {
    "rollback": "Roll back to the weights before the plan",
    "pause": "Pause for a person to decide",
}


def _decimal(
    label: str, *, low: float, high: float, help_text: str, required: bool = True
) -> forms.FloatField:
    return forms.FloatField(
        label=label,
        min_value=low,
        max_value=high,
        required=required,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )


class PlanForm(forms.Form):
    template = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Start from a template"
    )
    candidate = forms.ChoiceField(label="Candidate (gets the traffic)")
    baseline = forms.ChoiceField(label="Baseline (compared against)")
    shares = forms.CharField(
        max_length=200,
        initial="5, 25, 50, 100",
        label="Candidate's share at each step, %",
        help_text="Rising to 100. A '!' after a share waits for an Approver there, e.g. "
        "5, 25!, 100.",
    )
    bake_minutes = forms.IntegerField(
        min_value=1,
        max_value=MAX_BAKE_SECONDS // 60,
        initial=10,
        label="Bake per step, minutes",
        help_text="Each step's gates are judged over its bake; the last step does not bake.",
    )
    error_margin_points = _decimal(
        "5XX rate: at most this many points above the baseline's",
        low=0,
        high=100,
        help_text="1 = one percentage point, judged with 95 % confidence on the counts.",
    )
    error_4xx_margin_points = _decimal(
        "4XX rate: points above the baseline's (empty: not gated)",
        low=0,
        high=100,
        required=False,
        help_text="",
    )
    latency_p99_ratio = _decimal(
        "p99 latency at most × baseline", low=1, high=100, help_text="1.5 allows +50 %."
    )
    latency_p50_ratio = _decimal(
        "p50 latency at most × baseline (empty: not gated)",
        low=1,
        high=100,
        required=False,
        help_text="",
    )
    min_invocations = forms.IntegerField(
        min_value=1,
        max_value=10_000_000,
        initial=100,
        label="Candidate invocations before a verdict",
        help_text="Less traffic extends the bake instead of deciding on noise.",
    )
    max_extensions = forms.IntegerField(
        min_value=0,
        max_value=MAX_EXTENSIONS,
        initial=DEFAULT_EXTENSIONS,
        label="Extensions for too little traffic",
        help_text="Then the plan pauses and says why.",
    )
    model_monitor = forms.BooleanField(
        required=False,
        label="No new Model Monitor violations",
        help_text="Fails a step when a Model Monitor run finished since it went live reports "
        "constraint violations. Model Monitor watches the endpoint's captured data, every "
        "variant together: this judges the endpoint, not the candidate alone.",
    )
    on_failure = forms.ChoiceField(
        choices=[(key, ON_FAILURE_LABELS[key]) for key in ON_FAILURE],
        initial="rollback",
        widget=forms.RadioSelect,
        label="When a gate fails",
    )
    alarms = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Alarms that must stay OK",
    )
    reason = reason_field()

    def __init__(
        self,
        *args: Any,
        variants: list[str],
        alarms: list[str],
        templates: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "candidate", [(v, v) for v in variants])
        set_choices(self, "baseline", [(v, v) for v in variants])
        set_choices(self, "alarms", [(a, a) for a in alarms])
        set_choices(self, "template", [("", "— none —"), *[(str(k), n) for k, n in templates]])
        if not self.is_bound:
            self.fields["alarms"].initial = alarms
            self.initial.setdefault("error_margin_points", 1.0)
            self.initial.setdefault("latency_p99_ratio", 1.5)
            self.initial.setdefault("latency_p50_ratio", 1.3)
            if len(variants) >= 2:
                self.initial.setdefault("candidate", variants[1])
                self.initial.setdefault("baseline", variants[0])

    def spec(self) -> dict[str, Any]:
        """The plan spec from valid fields (plan_spec.plan_from checks the whole)."""
        data = self.cleaned_data
        steps = parse_shares(data["shares"], bake_seconds=data["bake_minutes"] * 60)
        margin_4xx = data.get("error_4xx_margin_points")
        p50 = data.get("latency_p50_ratio")
        return {
            "candidate": data["candidate"],
            "baseline": data["baseline"],
            "steps": [
                {
                    "candidate_percent": s.candidate_percent,
                    "bake_seconds": s.bake_seconds,
                    "manual": s.manual,
                }
                for s in steps
            ],
            "gates": {
                "error_rate_margin": data["error_margin_points"] / 100.0,
                "error_4xx_margin": None if margin_4xx is None else margin_4xx / 100.0,
                "latency_p99_ratio": data["latency_p99_ratio"],
                "latency_p50_ratio": p50,
                "min_invocations": data["min_invocations"],
                "model_monitor": bool(data.get("model_monitor")),
            },
            "on_failure": data["on_failure"],
            "alarms": list(data.get("alarms") or []),
            "max_extensions": data["max_extensions"],
        }


def initial_from_template(spec: dict[str, Any]) -> dict[str, Any]:
    """The form's fields from a template's stored spec."""
    steps = spec.get("steps") or []
    gates = spec.get("gates") or {}
    shares = ", ".join(
        f"{s['candidate_percent']:g}" + ("!" if s.get("manual") else "") for s in steps
    )
    bake = next((s["bake_seconds"] for s in steps if s.get("bake_seconds")), 600)
    margin_4xx = gates.get("error_4xx_margin")
    return {
        "shares": shares,
        "bake_minutes": max(1, int(bake) // 60),
        "error_margin_points": float(gates.get("error_rate_margin", 0.01)) * 100,
        "error_4xx_margin_points": None if margin_4xx is None else float(margin_4xx) * 100,
        "latency_p99_ratio": gates.get("latency_p99_ratio", 1.5),
        "latency_p50_ratio": gates.get("latency_p50_ratio"),
        "min_invocations": gates.get("min_invocations", 100),
        "model_monitor": bool(gates.get("model_monitor", False)),
        "max_extensions": spec.get("max_extensions", DEFAULT_EXTENSIONS),
        "on_failure": spec.get("on_failure", "rollback"),
    }


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=80, label="Template name")
    scope = forms.ChoiceField(
        choices=[("endpoint", "This endpoint only"), ("global", "Every endpoint")],
        initial="endpoint",
        widget=forms.RadioSelect,
    )
