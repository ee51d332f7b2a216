"""Endpoint pages: list with filters, detail, what changed, and the refresh action."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.roles import Role, role_required
from endpoints import history_selectors, selectors, services, state_diff
from endpoints.forms import EndpointFilterForm, TestInvokeForm, WhatChangedForm
from shifts import selectors as shift_selectors


@require_GET
@role_required(Role.VIEWER)
def endpoint_list(request: HttpRequest) -> HttpResponse:
    form = EndpointFilterForm(request.GET or None)
    states = selectors.sync_states()
    if form.is_bound and not form.is_valid():
        page = None
        rows: list = []
    else:
        data = form.cleaned_data if form.is_bound else {}
        page = selectors.endpoint_page(
            account=data.get("account") or "",
            region=data.get("region") or "",
            status=data.get("status") or "",
            name=(data.get("name") or "").strip(),
            include_deleted=bool(data.get("deleted")),
            sort=data.get("sort") or "name",
            page=data.get("page") or 1,
        )
        rows = selectors.endpoint_rows(page, states=states)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "sync_states": states,
    }
    template = (
        "endpoints/partials/_endpoint_table.html"
        if request.headers.get("HX-Request")
        and request.headers.get("HX-Target") == "endpoint-table"
        else "endpoints/endpoint_list.html"
    )
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, template, context, status=status)


@require_GET
@role_required(Role.VIEWER)
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_detail(pk=pk)
    if endpoint is None:
        raise Http404("No such endpoint in the inventory.")
    variants = selectors.variant_shares(list(endpoint.variants.all()))
    config_variants = {
        v.get("VariantName"): v
        for v in (endpoint.config_raw or {}).get("ProductionVariants", [])
        + (endpoint.config_raw or {}).get("ShadowProductionVariants", [])
    }
    context = {
        "endpoint": endpoint,
        "variants": variants,
        "config_variants": config_variants,
        "config_capture": (endpoint.config_raw or {}).get("DataCaptureConfig"),
        "describe_json": json.dumps(endpoint.describe_raw, indent=2, sort_keys=True),
        "config_json": json.dumps(endpoint.config_raw, indent=2, sort_keys=True),
        "tab": "detail",
        "shift_summary": shift_selectors.endpoint_shifts(endpoint_id=endpoint.pk),
    }
    return render(request, "endpoints/endpoint_detail.html", context)


@require_GET
@role_required(Role.VIEWER)
def endpoint_what_changed(request: HttpRequest, pk: int) -> HttpResponse:
    """The endpoint's recorded state at two times and the differences, with the timeline
    of changes in between; bad times get the form back with a 400."""
    endpoint = selectors.endpoint_detail(pk=pk)
    if endpoint is None:
        raise Http404("No such endpoint in the inventory.")
    form = WhatChangedForm(
        request.GET,
        now=timezone.now(),
        incident_at=history_selectors.incident_started_at(endpoint=endpoint),
    )
    context: dict = {"endpoint": endpoint, "form": form, "tab": "what_changed"}
    if not form.is_valid() or form.window is None:
        return render(request, "endpoints/what_changed.html", context, status=400)
    window = form.window
    before = history_selectors.endpoint_state_at(endpoint=endpoint, when=window.start)
    after = history_selectors.endpoint_state_at(endpoint=endpoint, when=window.end)
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
        timeline=history_selectors.endpoint_timeline(
            endpoint=endpoint, start=window.start, end=window.end
        ),
        first_snapshot=history_selectors.endpoint_first_snapshot(endpoint=endpoint),
        markdown=diff.markdown(
            heading=(
                f"**{endpoint.name}** ({endpoint.account_id}/{endpoint.region}): what changed "
                f"between {window.start:%Y-%m-%d %H:%M:%S} and {window.end:%Y-%m-%d %H:%M:%S} UTC"
            )
        ),
    )
    return render(request, "endpoints/what_changed.html", context)


@require_POST
@role_required(Role.OPERATOR)
def endpoint_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_detail(pk=pk)
    if endpoint is None:
        raise Http404("No such endpoint in the inventory.")
    queued = services.endpoint_refresh_request(
        endpoint=endpoint, actor=request.user, request=request
    )
    if queued:
        messages.success(request, f"Refresh of {endpoint.name} queued; reload in a few seconds.")
    else:
        messages.warning(
            request,
            "The task broker is unreachable, so the refresh was not queued. "
            "The scheduled sync will pick up changes once it is back.",
        )
    return redirect("endpoints:detail", pk=endpoint.pk)


@require_http_methods(["GET", "POST"])
@role_required(Role.OPERATOR)
def endpoint_invoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Test invoke: the form (GET) and one invocation (POST, answered as a fragment for
    htmx or as the whole page without JavaScript)."""
    endpoint = selectors.endpoint_detail(pk=pk)
    if endpoint is None:
        raise Http404("No such endpoint in the inventory.")
    variants = [v.name for v in endpoint.variants.all() if not v.is_shadow]
    form = TestInvokeForm(request.POST or None, variants=variants)
    result = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            result = services.endpoint_test_invoke(
                endpoint=endpoint,
                actor=request.user,
                payload=form.cleaned_data["payload"],
                content_type=form.cleaned_data["content_type"],
                accept=form.cleaned_data["accept"],
                target_variant=form.cleaned_data["target_variant"],
                request=request,
            )
        else:
            status = 400
    context = {"endpoint": endpoint, "form": form, "result": result, "tab": "invoke"}
    if request.headers.get("HX-Request"):
        return render(request, "endpoints/partials/_invoke_result.html", context, status=status)
    return render(request, "endpoints/endpoint_invoke.html", context, status=status)
