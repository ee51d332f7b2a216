"""Page reads for change requests that must ask AWS: a variant's recent scaling activities,
the region's model names for the deploy form, a change's preview (its checks ask AWS about
models, configs and quotas), the live deployment panel of a deploy or rollback, and a
staged shift's chart (the endpoint's cached metrics panel).

Every read runs inside the request's AWS page budget (core.aws.page_budget, set by the
middleware): a read that cannot finish in time is not made, and the page says what could
not be read instead of failing. Activities and the deployment panel keep their last good
answer to show, marked stale, when AWS stops answering; endpoint configs never change once
created, so one is read once and then served from the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.aws import autoscaling as aws_autoscaling
from core.aws import sagemaker as aws_sagemaker
from core.aws import transform as aws_models
from core.aws.errors import AwsError
from core.aws.types import EndpointDescription, EndpointStatus, ScalingActivity
from core.errors import Invalid
from core.targets import target_by_name
from monitoring.live.metrics import TimeRange, error_latency_series, metrics_panel
from shifts import selectors
from shifts.changes.checks import prepare
from shifts.changes.deploy import shape_of
from shifts.deployment_notes import describe_plan
from shifts.deployment_options import (
    DeploymentOptions,
    plan_deployment,
)
from shifts.models import ChangeType, ShiftProposal, ShiftState

if TYPE_CHECKING:
    from endpoints.models import Endpoint

ACTIVITY_LIMIT = 10
ACTIVITIES_CACHE_SECONDS = 15
MODELS_CACHE_SECONDS = 60
# A few viewers of one deployment share a read; the panel polls every few seconds.
DESCRIBE_CACHE_SECONDS = 2
LAST_GOOD_SECONDS = 86_400
CONFIG_CACHE_SECONDS = 86_400


def _failed(exc: Exception) -> str:
    return f"could not read: {exc}"


# Scaling activities -------------------------------------------------------------------------


@dataclass
class ActivitiesRead:
    """One variant's recent scaling activities, newest first, or why they are missing."""

    activities: list[ScalingActivity] = field(default_factory=list)
    error: str = ""
    stale_since: datetime | None = None


def scaling_activities(*, endpoint: Endpoint, variant: str) -> ActivitiesRead:
    """The variant's last ACTIVITY_LIMIT scaling activities (one DescribeScalingActivities)."""
    key = f"change-activities:{endpoint.pk}:{variant}"
    cached = cache.get(key)
    if cached is not None:
        return ActivitiesRead(activities=cached)
    try:
        activities = aws_autoscaling.describe_scaling_activities(
            target=target_by_name(endpoint.target),
            region=endpoint.region,
            endpoint_name=endpoint.name,
            variant_name=variant,
            limit=ACTIVITY_LIMIT,
        )
    except (AwsError, LookupError) as exc:
        last_good = cache.get(f"{key}:last-good")
        if last_good is None:
            return ActivitiesRead(error=_failed(exc))
        read_at, activities = last_good
        return ActivitiesRead(activities=activities, error=_failed(exc), stale_since=read_at)
    cache.set(key, activities, ACTIVITIES_CACHE_SECONDS)
    cache.set(f"{key}:last-good", (timezone.now(), activities), LAST_GOOD_SECONDS)
    return ActivitiesRead(activities=activities)


def endpoint_activities(
    *, endpoint: Endpoint, scaling: selectors.EndpointScaling
) -> dict[str, ActivitiesRead]:
    """Activities of the variants that can have any: those with a scalable target (all
    instance-based variants when the inventory could not read auto scaling)."""
    reads = {}
    for row in scaling.variants:
        if row.serverless or (row.scaling is None and not scaling.error):
            continue
        reads[row.name] = scaling_activities(endpoint=endpoint, variant=row.name)
    return reads


# Model names --------------------------------------------------------------------------------


def model_names(*, endpoint: Endpoint) -> tuple[list[str] | None, str]:
    """The models of the endpoint's account and region, or None and why (the form then
    takes a typed name)."""
    key = f"change-models:{endpoint.target}:{endpoint.region}"
    cached = cache.get(key)
    if cached is not None:
        return cached, ""
    try:
        names = aws_models.list_model_names(
            target=target_by_name(endpoint.target), region=endpoint.region
        )
    except (AwsError, LookupError) as exc:
        return None, f"Could not list the models: {exc}."
    cache.set(key, names, MODELS_CACHE_SECONDS)
    return names, ""


def endpoint_config_raw(*, endpoint: Endpoint, name: str) -> dict[str, Any]:
    """DescribeEndpointConfig of one config (cached: a config never changes); raises
    AwsError or LookupError."""
    key = f"change-config:{endpoint.account_id}:{endpoint.region}:{name}"
    cached = cache.get(key)
    if cached is not None:
        return dict(cached)
    config = aws_sagemaker.describe_endpoint_config(
        target=target_by_name(endpoint.target), region=endpoint.region, name=name
    )
    cache.set(key, config.raw, CONFIG_CACHE_SECONDS)
    return config.raw


# Previews -----------------------------------------------------------------------------------


@dataclass
class ChangePreview:
    """What proposing the change would record, without recording it: its summary and
    warnings, or the checks' refusal; for deploys and rollbacks, SageMaker's plan."""

    summary: str = ""
    warnings: list[str] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    plan: str = ""
    plan_notes: list[str] = field(default_factory=list)
    plan_error: str = ""

    @property
    def messages(self) -> list[str]:
        return [m for messages in self.errors.values() for m in messages]


def _options(deployment: dict[str, Any]) -> DeploymentOptions:
    return DeploymentOptions(
        strategy=deployment.get("strategy") or "ALL_AT_ONCE",
        size_type=deployment.get("size_type") or "CAPACITY_PERCENT",
        size_value=deployment.get("size_value") or 0,
        wait_seconds=deployment.get("wait_seconds") or 0,
        termination_wait_seconds=deployment.get("termination_wait_seconds") or 0,
        max_execution_timeout_seconds=deployment.get("max_execution_timeout_seconds") or None,
        rollback_alarms=tuple(deployment.get("rollback_alarms") or ()),
        rollback_batch_percent=deployment.get("rollback_batch_percent") or None,
    )


def deployed_config_raw(*, endpoint: Endpoint, spec: dict[str, Any]) -> dict[str, Any]:
    """The config a deploy would create: the live one with the variant's model (and type
    and count, when given) changed, as the inventory knows it."""
    config_raw = endpoint.config_raw or {}
    variant = spec.get("variant")
    changed = {"ModelName": spec.get("model")}
    if spec.get("instance_type"):
        changed["InstanceType"] = spec["instance_type"]
    if spec.get("instance_count") is not None:
        changed["InitialInstanceCount"] = spec["instance_count"]
    deployed = {
        **config_raw,
        "ProductionVariants": [
            {**item, **changed} if item.get("VariantName") == variant else item
            for item in config_raw.get("ProductionVariants", [])
        ],
    }
    if spec.get("end_shadow_test"):
        deployed.pop("ShadowProductionVariants", None)
    return deployed


def _plan(preview: ChangePreview, *, endpoint: Endpoint, change: str, spec: dict[str, Any]) -> None:
    """SageMaker's plan for the deployment options on this endpoint, in words."""
    try:
        if change == ChangeType.DEPLOY:
            raw = deployed_config_raw(endpoint=endpoint, spec=spec)
            variant = spec.get("variant")
        else:
            raw = endpoint_config_raw(endpoint=endpoint, name=str(spec.get("config_name")))
            variant = None
        plan = plan_deployment(
            options=_options(spec.get("deployment") or {}),
            shape=shape_of(raw, variant=variant if isinstance(variant, str) else None),
        )
    except Invalid as exc:
        preview.plan_error = exc.message
        return
    except (AwsError, LookupError) as exc:
        preview.plan_error = f"The plan could not be worked out: {_failed(exc)}"
        return
    preview.plan = describe_plan(plan)
    preview.plan_notes = list(plan.notes)


def change_preview(*, endpoint: Endpoint, change: str, spec: dict[str, Any]) -> ChangePreview:
    """Run the change's checks (the same the service runs; some ask AWS) and say what
    would be proposed. Nothing is saved."""
    preview = ChangePreview()
    if change in (ChangeType.DEPLOY, ChangeType.ROLLBACK) and spec:
        _plan(preview, endpoint=endpoint, change=change, spec=spec)
    try:
        prepared = prepare(endpoint=endpoint, change=change, spec=spec)
    except Invalid as exc:
        preview.errors = exc.errors
        return preview
    except (AwsError, LookupError) as exc:
        preview.errors = {"": [f"The checks could not be made: {_failed(exc)}"]}
        return preview
    unsaved = ShiftProposal(
        endpoint=endpoint,
        change=change,
        spec=prepared.spec,
        before_state=prepared.before_state,
        before_weights={},
        desired_weights={},
    )
    preview.summary = selectors.summary_of(unsaved)
    notes = set(preview.plan_notes)
    preview.warnings = [w for w in prepared.warnings if w not in notes]
    names = [str(n) for n in (prepared.spec.get("deployment") or {}).get("rollback_alarms") or []]
    for name, alarm in selectors.rollback_alarm_states(endpoint=endpoint, names=names):
        if alarm is not None and alarm.state == "ALARM":
            preview.warnings.append(
                f"The rollback alarm {name} is in ALARM now: SageMaker would roll the "
                "deployment back as soon as it starts."
            )
    return preview


# The live deployment panel ------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One VariantStatus entry of a variant being deployed."""

    variant: str
    status: str
    message: str
    started: datetime | None
    current: bool


@dataclass
class DeploymentPanel:
    """A deploy's or rollback's progress as DescribeEndpoint shows it, in words."""

    polling: bool
    status: str = ""
    config_name: str = ""
    target_config: str = ""
    before_config: str = ""
    pending_config: str = ""
    failure_reason: str = ""
    steps: list[Step] = field(default_factory=list)
    outcome: str = ""
    tone: str = ""  # ok / bad / warn
    alarms: list[tuple[str, Any]] = field(default_factory=list)
    error: str = ""
    read_at: datetime | None = None
    stale_since: datetime | None = None


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return parse_datetime(value)
        except ValueError:
            return None
    return None


def _steps(raw: dict[str, Any]) -> list[Step]:
    """The pending deployment's VariantStatus entries per variant (or, outside a blue/green
    deployment, the live variants'), the newest of each variant marked current."""
    pending = raw.get("PendingDeploymentSummary") or {}
    variants = pending.get("ProductionVariants") or raw.get("ProductionVariants") or []
    steps = []
    for variant in variants:
        if not isinstance(variant, dict):
            continue
        entries = [e for e in variant.get("VariantStatus") or [] if isinstance(e, dict)]
        for position, entry in enumerate(entries):
            steps.append(
                Step(
                    variant=str(variant.get("VariantName", "")),
                    status=str(entry.get("Status", "")),
                    message=str(entry.get("StatusMessage", "")),
                    started=_time(entry.get("StartTime")),
                    current=position == len(entries) - 1,
                )
            )
    return steps


def _outcome(panel: DeploymentPanel) -> tuple[str, str]:
    """The endpoint's state in one plain sentence, and its tone."""
    status, config = panel.status, panel.config_name
    reason = panel.failure_reason
    before, target = panel.before_config or "its previous config", panel.target_config
    if status == EndpointStatus.IN_SERVICE and config == target:
        return f"InService on {target}.", "ok"
    if status == EndpointStatus.ROLLING_BACK:
        return f"Rolling back to {before}: {reason or 'no reason given yet'}", "bad"
    if status == EndpointStatus.UPDATE_ROLLBACK_FAILED:
        return (
            f"The rollback failed (UpdateRollbackFailed): {reason or 'no reason given'}. "
            "The endpoint needs a person.",
            "bad",
        )
    if status == EndpointStatus.FAILED:
        return f"The endpoint failed: {reason or 'no reason given'}", "bad"
    if status == EndpointStatus.IN_SERVICE and config == panel.before_config and reason:
        return f"Rolled back to {before}: {reason}", "bad"
    if status == EndpointStatus.IN_SERVICE:
        return f"InService on {config}; the update to {target} has not started.", "warn"
    current = [s for s in panel.steps if s.current]
    step = f" — {current[0].status}: {current[0].message}" if current else ""
    return f"{status}: deploying {target}{step}", "warn"


def _describe(endpoint: Endpoint) -> EndpointDescription:
    key = f"change-describe:{endpoint.pk}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    described = aws_sagemaker.describe_endpoint(
        target=target_by_name(endpoint.target), region=endpoint.region, name=endpoint.name
    )
    cache.set(key, described, DESCRIBE_CACHE_SECONDS)
    cache.set(f"{key}:last-good", (timezone.now(), described), LAST_GOOD_SECONDS)
    return described


def _recorded(panel: DeploymentPanel, proposal: ShiftProposal) -> DeploymentPanel:
    """A change that is not being deployed now: what the poll recorded, no AWS call."""
    observed = proposal.observed_state or {}
    panel.status = str(observed.get("status") or "")
    panel.config_name = str(observed.get("config_name") or "")
    panel.failure_reason = str(observed.get("failure_reason") or "")
    back_on_before = (
        panel.status == EndpointStatus.IN_SERVICE
        and bool(panel.before_config)
        and panel.config_name == panel.before_config
    )
    if proposal.state == ShiftState.APPLIED:
        panel.outcome, panel.tone = f"InService on {panel.target_config}.", "ok"
    elif proposal.state == ShiftState.FAILED and back_on_before:
        why = panel.failure_reason or proposal.error or "no reason given"
        panel.outcome, panel.tone = f"Rolled back to {panel.before_config}: {why}", "bad"
    elif proposal.state == ShiftState.FAILED:
        panel.outcome, panel.tone = proposal.error or "The change failed.", "bad"
    elif proposal.state == ShiftState.PENDING:
        panel.outcome = "Waiting for approval: nothing has been sent to SageMaker."
    elif proposal.update_sent_at is None:
        panel.outcome = f"Nothing was sent to SageMaker: the change is {proposal.state}."
    else:
        panel.outcome, panel.tone = f"The change is {proposal.state}.", "warn"
    return panel


def deployment_panel(*, proposal: ShiftProposal) -> DeploymentPanel:
    """The deploy's or rollback's progress: read live while it is approved or applying,
    from the poll's record once it has finished."""
    view = selectors.change_view(proposal=proposal)
    deployment = (proposal.spec or {}).get("deployment") or {}
    names = [str(n) for n in deployment.get("rollback_alarms") or []]
    endpoint = proposal.endpoint
    panel = DeploymentPanel(
        polling=proposal.state in (ShiftState.APPROVED, ShiftState.APPLYING),
        target_config=view.target_config,
        before_config=view.before_config,
        alarms=selectors.rollback_alarm_states(endpoint=endpoint, names=names),
    )
    if not panel.polling:
        return _recorded(panel, proposal)
    try:
        described = _describe(endpoint)
    except (AwsError, LookupError) as exc:
        panel.error = _failed(exc)
        last_good = cache.get(f"change-describe:{endpoint.pk}:last-good")
        if last_good is None:
            return panel
        panel.stale_since, described = last_good
    panel = replace(
        panel,
        status=described.status,
        config_name=described.config_name,
        failure_reason=described.failure_reason,
        pending_config=str(
            (described.raw.get("PendingDeploymentSummary") or {}).get("EndpointConfigName") or ""
        ),
        steps=_steps(described.raw),
        read_at=panel.stale_since or timezone.now(),
    )
    panel.outcome, panel.tone = _outcome(panel)
    return panel


@dataclass(frozen=True)
class PlanChart:
    """The candidate's and the baseline's 5XX rate and p99 latency over the plan, with a
    line where each step went live and where the plan paused, promoted or rolled back."""

    series: list[dict[str, Any]]
    boundaries: list[dict[str, str]]
    error: str = ""


# The decisions drawn as vertical lines on a plan's chart.
_BOUNDARIES = {
    "plan.live": "info",
    "plan.pause": "warn",
    "plan.promoted": "ok",
    "plan.rolled_back": "bad",
}


def plan_chart(*, proposal: ShiftProposal, now: datetime | None = None) -> PlanChart:
    """From a few minutes before the plan started to its end (or now, to the minute, so
    the endpoint's cached metrics panel serves every poll within a minute)."""
    now = now or timezone.now()
    events = [e for e in proposal.events.all() if e.action in _BOUNDARIES]
    spec_variants = {proposal.spec.get("candidate"), proposal.spec.get("baseline")}
    boundaries = [
        {
            "time": e.at.isoformat(),
            "label": e.action.removeprefix("plan.").replace("_", " ")
            + (f" {e.detail.get('step')}" if e.action == "plan.live" else ""),
            "severity": _BOUNDARIES[e.action],
        }
        for e in events
    ]
    if not events:
        return PlanChart(series=[], boundaries=[])
    first, last = events[0].at, max(e.at for e in events)
    finished = proposal.finished_at or now
    end = min(max(finished, last), now).replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = first.replace(second=0, microsecond=0) - timedelta(minutes=10)
    panel = metrics_panel(
        endpoint=proposal.endpoint, time_range=TimeRange(key="plan", start=start, end=end)
    )
    return PlanChart(
        series=error_latency_series(panel, variants={str(v) for v in spec_variants}),
        boundaries=boundaries,
        error=panel.error,
    )
