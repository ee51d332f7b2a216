"""Endpoint pages: the list with filters, the Configuration tab, refresh and test invoke."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.roles import Role, role_required
from endpoints import selectors, services
from endpoints.forms import EndpointFilterForm, TestInvokeForm
from endpoints.live import prefix_models
from endpoints.live_async import endpoint_backlog
from endpoints.registry import list_columns
from endpoints.selectors.async_inference import async_inference, real_time_refusal
from endpoints.selectors.multi_model import describe_raw_as_read, multi_model_variants


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
        "list_columns": list_columns(),
        "row_ids": ",".join(str(row.pk) for row in rows if not row.deleted),
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
def endpoint_header_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The header's status and times alone, polled by htmx on every endpoint page (so a
    Refresh, or the endpoint failing, shows without a reload)."""
    endpoint = selectors.endpoint_or_404(pk)
    return render(request, "endpoints/partials/_header_status.html", {"endpoint": endpoint})


@require_GET
@role_required(Role.VIEWER)
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_or_404(pk)
    variants = selectors.variant_shares(list(endpoint.variants.all()))
    config_variants = {
        v.get("VariantName"): v
        for v in (endpoint.config_raw or {}).get("ProductionVariants", [])
        + (endpoint.config_raw or {}).get("ShadowProductionVariants", [])
    }
    asynchronous = async_inference(endpoint)
    context = {
        "endpoint": endpoint,
        "variants": variants,
        "has_shadow": any(vs.variant.is_shadow for vs in variants),
        "config_variants": config_variants,
        "config_capture": (endpoint.config_raw or {}).get("DataCaptureConfig"),
        "describe_json": json.dumps(describe_raw_as_read(endpoint), indent=2, sort_keys=True),
        "multi_model": [
            prefix_models(endpoint=endpoint, variant=v) for v in multi_model_variants(endpoint)
        ],
        "config_json": json.dumps(endpoint.config_raw, indent=2, sort_keys=True),
        "async_inference": asynchronous,
        # The queue is only in CloudWatch: read (cached) for asynchronous endpoints alone.
        "backlog": endpoint_backlog(endpoint=endpoint) if asynchronous else None,
        "tab": "detail",
    }
    return render(request, "endpoints/endpoint_detail.html", context)


@require_POST
@role_required(Role.OPERATOR)
def endpoint_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_or_404(pk)
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
    endpoint = selectors.endpoint_or_404(pk)
    refusal = real_time_refusal(endpoint)
    if refusal:
        # Nothing to send, whatever was posted: the page (or htmx's fragment) says why.
        context = {"endpoint": endpoint, "tab": "invoke", "real_time_refusal": refusal}
        template = (
            "endpoints/partials/_invoke_result.html"
            if request.headers.get("HX-Request")
            else "endpoints/endpoint_invoke.html"
        )
        return render(request, template, context, status=409 if request.method == "POST" else 200)
    variants = [v.name for v in endpoint.variants.all() if not v.is_shadow]
    components = [str(c["name"]) for c in endpoint.inference_components]
    multi_model = multi_model_variants(endpoint)
    form = TestInvokeForm(
        request.POST or None,
        variants=variants,
        components=components,
        multi_model=bool(multi_model),
    )
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
                inference_component=form.cleaned_data.get("inference_component") or "",
                target_model=form.cleaned_data.get("target_model") or "",
                stream=form.cleaned_data["stream"],
                request=request,
            )
        else:
            status = 400
    context = {
        "endpoint": endpoint,
        "form": form,
        "result": result,
        "tab": "invoke",
        # Suggestions for the target model: what the endpoint page listed (cached there).
        "target_models": sorted(
            {
                m.target_model
                for v in multi_model
                for m in prefix_models(endpoint=endpoint, variant=v).models
            }
        )
        if multi_model and request.method == "GET"
        else [],
    }
    if request.headers.get("HX-Request"):
        return render(request, "endpoints/partials/_invoke_result.html", context, status=status)
    return render(request, "endpoints/endpoint_invoke.html", context, status=status)
