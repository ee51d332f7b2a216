"""The endpoint Metrics tab: charts, variant comparison and alarms."""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from endpoints import selectors as endpoint_selectors
from monitoring import selectors
from monitoring.forms import RangeForm
from monitoring.metrics import RANGES, metrics_panel
from opsportal.rbac import Role, role_required


def _endpoint(pk: int):
    endpoint = endpoint_selectors.endpoint_detail(pk=pk)
    if endpoint is None:
        raise Http404("No such endpoint in the inventory.")
    return endpoint


@require_GET
@role_required(Role.VIEWER)
def endpoint_metrics(request: HttpRequest, pk: int) -> HttpResponse:
    """The tab's page; the panel itself loads (and refreshes every minute) through htmx."""
    endpoint = _endpoint(pk)
    form = RangeForm(request.GET or None)
    context = {
        "endpoint": endpoint,
        "form": form,
        "ranges": list(RANGES),
        "query": request.GET.urlencode() or "range=3h",
        "alarms": selectors.endpoint_alarms(endpoint=endpoint),
        "alarm_status": selectors.alarm_sync_status(endpoint=endpoint),
        "tab": "metrics",
    }
    return render(request, "monitoring/endpoint_metrics.html", context)


@require_GET
@role_required(Role.VIEWER)
def endpoint_metrics_panel(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    form = RangeForm(request.GET)
    if not form.is_valid():
        return render(
            request, "monitoring/partials/_metrics_panel.html", {"form": form}, status=400
        )
    panel = metrics_panel(endpoint=endpoint, time_range=form.time_range())
    # Chart data travels in a data attribute: htmx drops <script> blocks from swapped
    # content (allowScriptTags is off), and the attribute is escaped like any other.
    context = {
        "form": form,
        "panel": panel,
        "endpoint": endpoint,
        "charts_json": json.dumps(panel.charts, separators=(",", ":")),
    }
    return render(request, "monitoring/partials/_metrics_panel.html", context)
