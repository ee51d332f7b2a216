"""Model Monitor reads for the Monitoring tab and the overview (database only, no AWS)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from core.models import SyncKind, SyncStatus
from core.sync_status import sync_status
from endpoints.selectors import live_endpoints_by_key

if TYPE_CHECKING:
    from endpoints.models import Endpoint
from monitoring.models import (
    CheckRun,
    MonitoringExecution,
    MonitoringSchedule,
    MonitoringViolation,
)

TIMELINE_LIMIT = 500  # executions drawn; three weeks of an hourly schedule
TABLE_LIMIT = 48  # executions listed under the chart


def endpoint_schedules(*, endpoint: Endpoint) -> list[MonitoringSchedule]:
    """The endpoint's schedules, live ones first."""
    schedules = MonitoringSchedule.objects.filter(
        account_id=endpoint.account_id, region=endpoint.region, endpoint_name=endpoint.name
    )
    return sorted(schedules, key=lambda s: (s.deleted_at is not None, s.name))


def schedule_with_baseline(*, endpoint: Endpoint) -> MonitoringSchedule | None:
    """The live schedule whose baseline a Check now uses when none is given."""
    live = [s for s in endpoint_schedules(endpoint=endpoint) if s.deleted_at is None]
    return next((s for s in live if s.has_baseline), None)


def _endpoint_executions(endpoint: Endpoint) -> QuerySet[MonitoringExecution]:
    return MonitoringExecution.objects.filter(
        schedule__account_id=endpoint.account_id,
        schedule__region=endpoint.region,
        schedule__endpoint_name=endpoint.name,
    )


def endpoint_executions(
    *, endpoint: Endpoint, limit: int = TIMELINE_LIMIT
) -> list[MonitoringExecution]:
    """The endpoint's executions across its schedules, newest first."""
    return list(
        _endpoint_executions(endpoint)
        .select_related("schedule")
        .order_by("-scheduled_time")[:limit]
    )


def execution_for_endpoint(*, endpoint: Endpoint, execution_id: int) -> MonitoringExecution | None:
    return (
        _endpoint_executions(endpoint)
        .select_related("schedule")
        .prefetch_related("violations")
        .filter(pk=execution_id)
        .first()
    )


def executions_with_findings(
    *, endpoint: Endpoint, start: datetime, end: datetime
) -> list[MonitoringExecution]:
    """The endpoint's runs in [start, end) that reported violations or failed (clean runs
    are not news), with their schedule and violations loaded."""
    return list(
        _endpoint_executions(endpoint)
        .filter(scheduled_time__gte=start, scheduled_time__lt=end)
        .filter(Q(violation_count__gt=0) | Q(status="Failed"))
        .select_related("schedule")
        .prefetch_related("violations")
    )


def default_execution(executions: list[MonitoringExecution]) -> MonitoringExecution | None:
    """The run shown when none is chosen: the newest whose outcome is known."""
    return next((e for e in executions if e.report_read_at is not None), None)


def violation_rows(execution: MonitoringExecution | None) -> list[dict[str, str]]:
    """An execution's violations in the shape the violation table shows (as for a check)."""
    if execution is None:
        return []
    return [
        {"feature_name": v.feature_name, "check_type": v.check_type, "description": v.description}
        for v in execution.violations.all()
    ]


@dataclass(frozen=True)
class FeatureHistory:
    """How often a feature violated over the stored executions, per check type."""

    feature_name: str
    runs: int
    checks: dict[str, int]
    last_at: datetime | None


def feature_history(*, endpoint: Endpoint) -> list[FeatureHistory]:
    """Per feature, the number of executions in which it violated (one query)."""
    grouped = (
        MonitoringViolation.objects.filter(
            execution__schedule__account_id=endpoint.account_id,
            execution__schedule__region=endpoint.region,
            execution__schedule__endpoint_name=endpoint.name,
        )
        .values("feature_name", "check_type")
        .annotate(runs=Count("execution", distinct=True), last=Max("execution__scheduled_time"))
    )
    features: dict[str, dict[str, Any]] = {}
    for row in grouped:
        entry = features.setdefault(row["feature_name"], {"checks": {}, "last": None, "runs": 0})
        entry["checks"][row["check_type"]] = row["runs"]
        entry["runs"] = max(entry["runs"], row["runs"])
        if entry["last"] is None or (row["last"] and row["last"] > entry["last"]):
            entry["last"] = row["last"]
    history = [
        FeatureHistory(name, e["runs"], dict(sorted(e["checks"].items())), e["last"])
        for name, e in features.items()
    ]
    return sorted(history, key=lambda h: (-h.runs, h.feature_name))


def timeline_chart(executions: list[MonitoringExecution]) -> dict[str, Any]:
    """The executions timeline for plotly: violation count per run, coloured by outcome."""
    groups: dict[str, dict[str, list[Any]]] = {}
    for execution in reversed(executions):
        group = groups.setdefault(execution.status, {"x": [], "y": [], "id": []})
        group["x"].append(execution.scheduled_time.isoformat())
        group["y"].append(execution.violation_count or 0)
        group["id"].append(execution.pk)
    return {
        "id": "timeline",
        "kind": "timeline",
        "title": "Executions: violations per run",
        "traces": [{"name": status, **group} for status, group in sorted(groups.items())],
    }


def monitor_sync_status(*, endpoint: Endpoint) -> SyncStatus | None:
    return sync_status(kind=SyncKind.MODEL_MONITOR, target=endpoint.target, region=endpoint.region)


def endpoint_check_runs(*, endpoint: Endpoint, limit: int = 5) -> list[CheckRun]:
    return list(CheckRun.objects.filter(endpoint=endpoint).select_related("requested_by")[:limit])


def check_run_for_endpoint(*, endpoint: Endpoint, run_id: int) -> CheckRun | None:
    return CheckRun.objects.filter(endpoint=endpoint, pk=run_id).first()


@dataclass
class EndpointViolations:
    """An endpoint whose monitoring found violations in the window (overview)."""

    endpoint: Endpoint | None
    account_id: str
    region: str
    endpoint_name: str
    executions: int = 0
    violations: int = 0
    last_at: datetime | None = None
    features: list[str] = field(default_factory=list)


def endpoints_with_violations(*, hours: int = 24) -> list[EndpointViolations]:
    """Endpoints with at least one execution with violations in the last `hours` (3 queries)."""
    since = timezone.now() - timedelta(hours=hours)
    recent = MonitoringExecution.objects.filter(scheduled_time__gte=since, violation_count__gt=0)
    grouped = recent.values(
        "schedule__account_id", "schedule__region", "schedule__endpoint_name"
    ).annotate(
        executions=Count("id"), violation_total=Sum("violation_count"), last=Max("scheduled_time")
    )
    items: dict[tuple[str, str, str], EndpointViolations] = {}
    for row in grouped:
        key = (row["schedule__account_id"], row["schedule__region"], row["schedule__endpoint_name"])
        items[key] = EndpointViolations(
            endpoint=None,
            account_id=key[0],
            region=key[1],
            endpoint_name=key[2],
            executions=row["executions"],
            violations=row["violation_total"] or 0,
            last_at=row["last"],
        )
    if not items:
        return []
    features = (
        MonitoringViolation.objects.filter(execution__in=recent)
        .values_list(
            "execution__schedule__account_id",
            "execution__schedule__region",
            "execution__schedule__endpoint_name",
            "feature_name",
        )
        .distinct()
    )
    for account, region, name, feature in features:
        item = items.get((account, region, name))
        if item is not None and feature not in item.features:
            item.features.append(feature)
    _attach_endpoints(list(items.values()))
    return sorted(items.values(), key=lambda i: i.endpoint_name)


def failing_schedules() -> list[tuple[MonitoringSchedule, Endpoint | None]]:
    """Live schedules that are Failed or whose latest execution failed, with their endpoint."""
    schedules = list(
        MonitoringSchedule.objects.filter(deleted_at__isnull=True).filter(
            Q(status="Failed") | Q(last_execution_status="Failed")
        )
    )
    endpoints = live_endpoints_by_key(
        {(s.account_id, s.region, s.endpoint_name) for s in schedules}
    )
    return [(s, endpoints.get((s.account_id, s.region, s.endpoint_name))) for s in schedules]


def _attach_endpoints(items: list[EndpointViolations]) -> None:
    endpoints = live_endpoints_by_key({(i.account_id, i.region, i.endpoint_name) for i in items})
    for item in items:
        item.endpoint = endpoints.get((item.account_id, item.region, item.endpoint_name))
