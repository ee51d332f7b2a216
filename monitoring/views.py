"""The endpoint Metrics tab (charts, variant comparison, alarms) and Monitoring tab (Model
Monitor schedules, executions, violations, drift, Check now)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.forms import parse_id
from core.roles import Role, role_required
from endpoints.selectors import endpoint_or_404, endpoints_with_variants
from monitoring import policy, selectors
from monitoring.forms import CheckNowForm, RangeForm
from monitoring.live import model_monitor as monitor_charts
from monitoring.live.health import endpoints_health
from monitoring.live.metrics import RANGES, metrics_panel, refresh_seconds
from monitoring.services import check_now

if TYPE_CHECKING:
    from endpoints.models import Endpoint


@require_GET
@role_required(Role.VIEWER)
def endpoint_metrics(request: HttpRequest, pk: int) -> HttpResponse:
    """The tab's page; the panel itself loads (and refreshes every minute) through htmx."""
    endpoint = endpoint_or_404(pk)
    form = RangeForm(request.GET or None)
    context = {
        "endpoint": endpoint,
        "form": form,
        "ranges": list(RANGES),
        "query": request.GET.urlencode() or "range=3h",
        "alarm_rows": selectors.alarm_conditions(selectors.endpoint_alarms(endpoint=endpoint)),
        "alarm_status": selectors.alarm_sync_status(endpoint=endpoint),
        "tab": "metrics",
    }
    return render(request, "monitoring/endpoint_metrics.html", context)


@require_GET
@role_required(Role.VIEWER)
def endpoint_metrics_panel(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = endpoint_or_404(pk)
    form = RangeForm(request.GET)
    if not form.is_valid():
        return render(
            request, "monitoring/partials/_metrics_panel.html", {"form": form}, status=400
        )
    panel = metrics_panel(endpoint=endpoint, time_range=form.time_range())
    # The refresh URL carries how many refreshes in a row have failed, for the back-off.
    failures = min(parse_id(request.GET.get("failed")) or 0, 100) + 1 if panel.error else 0
    refresh = request.GET.copy()
    refresh.pop("failed", None)
    if failures:
        refresh["failed"] = str(failures)
    # Thresholds and change marks come from the database on every refresh, not from the
    # cached panel: an alarm edited or a deploy made a minute ago shows at once.
    thresholds = selectors.chart_thresholds(
        endpoint=endpoint, charts=panel.charts, period=panel.period
    )
    charts = [{**chart, "thresholds": thresholds.get(chart["id"], [])} for chart in panel.charts]
    marks = selectors.change_marks(endpoint=endpoint, start=panel.range.start, end=panel.range.end)
    # Chart data travels in a data attribute: htmx drops <script> blocks from swapped
    # content (allowScriptTags is off), and the attribute is escaped like any other.
    context = {
        "form": form,
        "panel": panel,
        "endpoint": endpoint,
        "charts": charts,
        "charts_json": json.dumps(charts, separators=(",", ":")),
        "marks_json": json.dumps(marks, separators=(",", ":")),
        "refresh_query": refresh.urlencode(),
        "refresh_seconds": refresh_seconds(failures=failures),
    }
    return render(request, "monitoring/partials/_metrics_panel.html", context)


def _monitoring_context(
    request: HttpRequest, endpoint: Endpoint, form: CheckNowForm
) -> dict[str, Any]:
    executions = selectors.endpoint_executions(endpoint=endpoint)
    chosen = None
    execution_id = parse_id(request.GET.get("execution"))
    if execution_id is not None:
        chosen = selectors.execution_for_endpoint(endpoint=endpoint, execution_id=execution_id)
    chosen = chosen or selectors.default_execution(executions)
    check = None
    run_id = parse_id(request.GET.get("check"))
    if run_id is not None:
        check = selectors.check_run_for_endpoint(endpoint=endpoint, run_id=run_id)
    return {
        "endpoint": endpoint,
        "tab": "monitoring",
        "schedules": selectors.endpoint_schedules(endpoint=endpoint),
        "executions": executions[: selectors.TABLE_LIMIT],
        "execution_total": len(executions),
        "timeline_json": json.dumps([selectors.timeline_chart(executions)], separators=(",", ":")),
        "chosen": chosen,
        "violations": selectors.violation_rows(chosen),
        "history": selectors.feature_history(endpoint=endpoint),
        "sync_status": selectors.monitor_sync_status(endpoint=endpoint),
        "can_check": policy.refusal_for("check_now", request.user) is None,
        "check_form": form,
        "check": check,
        "check_runs": selectors.endpoint_check_runs(endpoint=endpoint),
    }


@require_GET
@role_required(Role.VIEWER)
def endpoint_monitoring(request: HttpRequest, pk: int) -> HttpResponse:
    """The Monitoring tab: schedules, executions, violations; charts load through htmx."""
    endpoint = endpoint_or_404(pk)
    context = _monitoring_context(request, endpoint, CheckNowForm())
    return render(request, "monitoring/endpoint_monitoring.html", context)


@require_GET
@role_required(Role.VIEWER)
def endpoint_monitoring_charts(request: HttpRequest, pk: int) -> HttpResponse:
    """Drift metrics and the baseline-vs-run distribution of one feature (reads AWS, cached;
    degrades to a message)."""
    endpoint = endpoint_or_404(pk)
    executions = selectors.endpoint_executions(endpoint=endpoint, limit=50)
    chosen = None
    execution_id = parse_id(request.GET.get("execution"))
    if execution_id is not None:
        chosen = selectors.execution_for_endpoint(endpoint=endpoint, execution_id=execution_id)
    chosen = chosen or next((e for e in executions if e.report_uri), None)
    schedule = chosen.schedule if chosen else selectors.schedule_with_baseline(endpoint=endpoint)
    history = selectors.feature_history(endpoint=endpoint)
    panel = monitor_charts.charts_panel(
        endpoint=endpoint,
        schedule=schedule,
        execution=chosen,
        feature=request.GET.get("feature", ""),
        preferred=[h.feature_name for h in history],
    )
    context = {
        "endpoint": endpoint,
        "panel": panel,
        "charts_json": monitor_charts.charts_json(panel),
    }
    return render(request, "monitoring/partials/_monitoring_charts.html", context)


@require_POST
@role_required(Role.OPERATOR)
def endpoint_check_now(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a data-quality check of the endpoint's captured data; bad input re-renders the
    tab with the reason (400) and changes nothing."""
    endpoint = endpoint_or_404(pk)
    form = CheckNowForm(request.POST)
    if form.is_valid():
        try:
            run = check_now.check_run_request(
                endpoint=endpoint,
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
                baseline_uri=form.cleaned_data.get("baseline_uri", ""),
                actor=request.user,
                request=request,
            )
        except check_now.CheckRejected as rejected:
            form.add_error(None, str(rejected))
        else:
            messages.success(request, "Check queued.")
            url = reverse("monitoring:endpoint_monitoring", args=[endpoint.pk])
            return redirect(f"{url}?check={run.pk}#check-now")
    context = _monitoring_context(request, endpoint, form)
    return render(request, "monitoring/endpoint_monitoring.html", context, status=400)


@require_GET
@role_required(Role.VIEWER)
def check_run_status(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    """One check's status and result; the tab polls it while the check runs, and the
    Recent checks table beside it is swapped in the same answer so the two never disagree."""
    endpoint = endpoint_or_404(pk)
    run = selectors.check_run_for_endpoint(endpoint=endpoint, run_id=run_id)
    if run is None:
        raise Http404("No such check for this endpoint.")
    context = {
        "endpoint": endpoint,
        "check": run,
        "check_runs": selectors.endpoint_check_runs(endpoint=endpoint),
    }
    return render(request, "monitoring/partials/_check_status.html", context)


MAX_HEALTH_ROWS = 200


@require_GET
@role_required(Role.VIEWER)
def endpoint_list_health(request: HttpRequest) -> HttpResponse:
    """The endpoint list's health cells for one page of rows (`?ids=3,5,8`), as htmx
    out-of-band swaps: the list renders without waiting on CloudWatch, then this fills it."""
    raw = request.GET.get("ids", "")
    parts = raw.split(",") if raw else []
    ids = [parse_id(part) for part in parts[: MAX_HEALTH_ROWS + 1]]
    if not ids or None in ids or len(ids) > MAX_HEALTH_ROWS:
        return HttpResponse(
            f"ids must be 1 to {MAX_HEALTH_ROWS} endpoint ids separated by commas.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    endpoints = endpoints_with_variants(pks=[pk for pk in ids if pk is not None])
    return render(
        request,
        "monitoring/partials/_endpoint_health.html",
        {"healths": endpoints_health(endpoints=endpoints)},
    )
