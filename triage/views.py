"""Triage pages: an endpoint's timeline (metrics and every event on one time axis)."""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from endpoints import selectors as endpoint_selectors
from monitoring.forms import RangeForm
from monitoring.metrics import RANGES, Panel, metrics_panel
from opsportal.rbac import Role, role_required
from triage.timeline import endpoint_timeline

# The timeline's chart: error rates on the left axis, p99 latency on the right.
_CHART_LINES = {"errors5xx": ("5XX", "y"), "errors4xx": ("4XX", "y"), "latency": ("p99", "y2")}


def timeline_series(panel: Panel) -> list[dict[str, Any]]:
    """The traces the timeline draws, taken from the endpoint's cached metrics panel (one
    GetMetricData for everything, shared with the Metrics tab)."""
    series = []
    for chart in panel.charts:
        line = _CHART_LINES.get(chart["id"])
        if line is None:
            continue
        label, axis = line
        for trace in chart["traces"]:
            if chart["id"] == "latency" and not trace["name"].endswith(" p99"):
                continue
            series.append(
                {
                    "name": f"{trace['variant']} {label}",
                    "variant": trace["variant"],
                    "axis": axis,
                    "x": trace["x"],
                    "y": trace["y"],
                }
            )
    return series


@require_GET
@role_required(Role.VIEWER)
def endpoint_timeline_page(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = endpoint_selectors.endpoint_detail(pk=pk)
    if endpoint is None:
        raise Http404("No such endpoint in the inventory.")
    form = RangeForm(request.GET or {"range": "24h"})
    context: dict[str, Any] = {
        "endpoint": endpoint,
        "tab": "timeline",
        "form": form,
        "ranges": list(RANGES),
    }
    if not form.is_valid():
        return render(request, "triage/endpoint_timeline.html", context, status=400)
    time_range = form.time_range()
    panel = metrics_panel(endpoint=endpoint, time_range=time_range)
    markers = endpoint_timeline(endpoint=endpoint, start=time_range.start, end=time_range.end)
    context.update(
        {
            "range": time_range,
            "panel": panel,
            "markers": markers,
            "series_json": json.dumps(timeline_series(panel)),
            "markers_json": json.dumps([m.as_chart_point() for m in markers]),
        }
    )
    return render(request, "triage/endpoint_timeline.html", context)
