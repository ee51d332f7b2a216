"""Triage pages: the incident board, an endpoint's timeline (metrics and every event on one
time axis), What changed between two times, taking ownership of an incident, and the
summary for the incident channel."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core.errors import Conflict, Invalid
from core.roles import Role, role_required
from core.text import markdown_text
from endpoints import selectors as endpoint_selectors
from endpoints import state_diff
from endpoints.selectors import endpoint_or_404
from monitoring.forms import RangeForm
from monitoring.live.metrics import RANGES, error_latency_series, metrics_panel
from monitoring.selectors import incident_started_at
from shifts import policy as shift_policy
from triage import board, policy, services
from triage.forms import TakeOwnershipForm, WhatChangedForm
from triage.summary import incident_summary
from triage.timeline import endpoint_timeline, spike_markers


@require_GET
@role_required(Role.VIEWER)
def endpoint_timeline_page(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = endpoint_or_404(pk)
    form = RangeForm(request.GET or {"range": "24h"})
    context: dict[str, Any] = {
        "endpoint": endpoint,
        "tab": "timeline",
        "form": form,
        "ranges": list(RANGES),
    }
    context["owner"] = board.current_owner(endpoint=endpoint)
    if not form.is_valid():
        return render(request, "triage/endpoint_timeline.html", context, status=400)
    time_range = form.time_range()
    panel = metrics_panel(endpoint=endpoint, time_range=time_range)
    markers = endpoint_timeline(endpoint=endpoint, start=time_range.start, end=time_range.end)
    markers = sorted(markers + spike_markers(endpoint, panel), key=lambda m: m.time, reverse=True)
    context.update(
        {
            "range": time_range,
            "panel": panel,
            "markers": markers,
            "series_json": json.dumps(error_latency_series(panel)),
            "markers_json": json.dumps([m.as_chart_point() for m in markers]),
        }
    )
    return render(request, "triage/endpoint_timeline.html", context)


@require_GET
@role_required(Role.VIEWER)
def what_changed(request: HttpRequest, pk: int) -> HttpResponse:
    """The endpoint's recorded state at two times and the differences, with the timeline
    of changes in between; bad times get the form back with a 400."""
    endpoint = endpoint_or_404(pk)
    first_snapshot = endpoint_selectors.endpoint_first_snapshot(endpoint=endpoint)
    form = WhatChangedForm(
        request.GET,
        now=timezone.now(),
        incident_at=incident_started_at(endpoint=endpoint),
        history_start=first_snapshot.observed_at if first_snapshot else None,
    )
    context: dict = {"endpoint": endpoint, "form": form, "tab": "what_changed"}
    if not form.is_valid() or form.window is None:
        return render(request, "triage/what_changed.html", context, status=400)
    window = form.window
    before = endpoint_selectors.endpoint_state_at(endpoint=endpoint, when=window.start)
    after = endpoint_selectors.endpoint_state_at(endpoint=endpoint, when=window.end)
    diff = state_diff.state_diff(before=before, after=after)
    context.update(
        window=window,
        before=before,
        after=after,
        diff=diff,
        states=[
            {
                "key": key,
                "at": at,
                "snapshot": snapshot,
                "rows": state_diff.snapshot_rows(snapshot=snapshot),
            }
            for key, at, snapshot in (
                ("before", window.start, before),
                ("after", window.end, after),
            )
        ],
        timeline=endpoint_selectors.endpoint_timeline(
            endpoint=endpoint, start=window.start, end=window.end
        ),
        first_snapshot=first_snapshot,
        markdown=diff.markdown(
            heading=(
                f"**{markdown_text(endpoint.name)}** ({endpoint.account_id}/{endpoint.region}): "
                "what changed "
                f"between {window.start:%Y-%m-%d %H:%M:%S} and {window.end:%Y-%m-%d %H:%M:%S} UTC"
            )
        )
        + (f"\n{window.history_note}\n" if window.history_note else ""),
    )
    return render(request, "triage/what_changed.html", context)


@require_GET
@role_required(Role.VIEWER)
def incident_board(request: HttpRequest) -> HttpResponse:
    """The board; an htmx poll gets the board alone, so an open page follows incidents as
    they open and close (a note being typed survives the swap: hx-preserve)."""
    context = {
        "entries": board.incident_board(),
        "take_form": TakeOwnershipForm(),
        "can_emergency": shift_policy.refusal_for("emergency", request.user) is None,
        "can_propose": shift_policy.refusal_for("propose", request.user) is None,
        "can_take": policy.refusal_for("take", request.user) is None,
        "updated_at": timezone.now(),
        "refresh_seconds": settings.OPSPORTAL_LIVE_REFRESH_SECONDS,
        "cause_minutes": settings.OPSPORTAL_CAUSE_WINDOW_MINUTES,
    }
    if request.headers.get("HX-Request"):
        return render(request, "triage/partials/_board.html", context)
    return render(request, "triage/board.html", context)


@require_POST
@role_required(Role.OPERATOR)
def incident_take(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = endpoint_or_404(pk)
    form = TakeOwnershipForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "Taking ownership needs a note: " + " ".join(str(e) for e in form.errors["note"]),
        )
        return redirect("triage:board")
    try:
        services.incident_take(
            endpoint_id=endpoint.pk,
            actor=request.user,
            note=form.cleaned_data["note"],
            request=request,
        )
    except (Invalid, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"You own the incident on {endpoint.name}.")
    return redirect("triage:board")


@require_POST
@role_required(Role.OPERATOR)
def incident_release(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = endpoint_or_404(pk)
    try:
        services.incident_release(endpoint_id=endpoint.pk, actor=request.user, request=request)
    except (Invalid, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Released the incident on {endpoint.name}.")
    return redirect("triage:board")


@require_GET
@role_required(Role.VIEWER)
def incident_summary_page(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = endpoint_or_404(pk)
    entry = board.board_entry(endpoint=endpoint)
    context = {
        "endpoint": endpoint,
        "entry": entry,
        "summary": incident_summary(entry=entry) if entry is not None else "",
    }
    return render(request, "triage/summary.html", context)
