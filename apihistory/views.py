"""API history pages: the searchable CloudTrail history, one event, an endpoint's changes.

Every page reads the database only: ingestion (apihistory.tasks) keeps it filled within
CloudTrail's rate limit, so searching never competes with it for LookupEvents calls.
"""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apihistory import selectors
from apihistory.forms import RANGES, EndpointCallsForm, TrailFilterForm
from core.roles import Role, role_required
from endpoints.selectors import endpoint_or_404


@require_GET
@role_required(Role.VIEWER)
def event_list(request: HttpRequest) -> HttpResponse:
    # Always bound: a bare URL is the default filters (writes only), not "no filters".
    form = TrailFilterForm(request.GET, event_names=selectors.known_event_names())
    page: selectors.TrailPage | None = None
    filters = selectors.TrailFilters()
    if form.is_valid():
        filters = form.filters()
        page = selectors.trail_events_page(
            filters=filters, before=form.cleaned_data["before"], after=form.cleaned_data["after"]
        )
    query = request.GET.copy()
    query.pop("before", None)
    query.pop("after", None)
    context = {
        "form": form,
        "page": page,
        "filters": filters,
        "ranges": list(RANGES),
        "filter_query": query.urlencode(),
        "principals": selectors.known_principals(),
        "own_principals": selectors.own_principal_labels(),
        "ingest_states": selectors.ingest_states(),
    }
    status = 200 if form.is_valid() else 400
    return render(request, "apihistory/event_list.html", context, status=status)


@require_GET
@role_required(Role.VIEWER)
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    view = selectors.trail_event_detail(pk=pk)
    if view is None:
        raise Http404("No such CloudTrail event has been stored.")
    context = {
        "view": view,
        "event": view.row.event,
        "record_json": json.dumps(view.row.event.shown_record, indent=2, sort_keys=True),
    }
    return render(request, "apihistory/event_detail.html", context)


@require_GET
@role_required(Role.VIEWER)
def endpoint_changes(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = endpoint_or_404(pk)
    form = EndpointCallsForm(request.GET)
    form.is_valid()  # two checkboxes: every value reads as ticked or not
    writes_only = bool(form.cleaned_data.get("writes"))
    hide_portal = bool(form.cleaned_data.get("hide_portal"))
    context = {
        "endpoint": endpoint,
        "tab": "changes",
        "form": form,
        "writes_only": writes_only,
        "rows": selectors.endpoint_changes(
            endpoint=endpoint, writes_only=writes_only, hide_portal=hide_portal
        ),
        "list_query": _list_query(endpoint=endpoint.name, writes=writes_only, hide=hide_portal),
        "own_principals": selectors.own_principal_labels(),
        "ingest_states": selectors.ingest_states(),
    }
    return render(request, "apihistory/endpoint_changes.html", context)


def _list_query(*, endpoint: str, writes: bool, hide: bool) -> str:
    """The API history list's query for the same calls as the tab shows."""
    query = QueryDict(mutable=True)
    query["endpoint"] = endpoint
    query["writes"] = "on" if writes else "false"
    if hide:
        query["hide_portal"] = "on"
    return query.urlencode()
