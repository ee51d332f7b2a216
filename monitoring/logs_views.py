"""The endpoint's Logs tab: its containers' CloudWatch Logs, newest first.

The page renders the form at once and loads the lines through htmx, so a slow CloudWatch
never holds the page; following the logs is the lines fragment polling itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.forms import parse_id
from core.roles import Role, role_required
from endpoints.selectors import endpoint_or_404
from monitoring.live import logs as live_logs
from monitoring.logs_forms import LogsForm

if TYPE_CHECKING:
    from endpoints.models import Endpoint

# The question's parameters: what the links between pages carry over.
_QUESTION = ("range", "start", "end", "text", "variant", "follow")


def _variants(endpoint: Endpoint) -> list[str]:
    return [v.name for v in endpoint.variants.all()]


def _query_string(params: QueryDict, **changes: str | None) -> str:
    """The question's parameters, with `changes` set (None drops one)."""
    kept = QueryDict(mutable=True)
    for name in _QUESTION:
        value = params.get(name)
        if isinstance(value, str) and value:
            kept[name] = value
    for name, value in changes.items():
        kept.pop(name, None)
        if value is not None:
            kept[name] = value
    return kept.urlencode()


@require_GET
@role_required(Role.VIEWER)
def endpoint_logs(request: HttpRequest, pk: int) -> HttpResponse:
    """The tab: the form, and the lines loading through htmx (not when the form is wrong)."""
    endpoint = endpoint_or_404(pk)
    form = LogsForm(request.GET or None, variants=_variants(endpoint))
    valid = form.is_valid() if request.GET else True
    chosen = request.GET.get("range") or live_logs.DEFAULT_RANGE
    context = {
        "endpoint": endpoint,
        "tab": "logs",
        "form": form,
        "valid": valid,
        "presets": [
            (key, _query_string(request.GET, range=key, start=None, end=None), key == chosen)
            for key in live_logs.LOG_RANGES
        ],
        "lines_query": request.GET.urlencode(),
        "custom": chosen == "custom",
    }
    return render(request, "monitoring/endpoint_logs.html", context, status=200 if valid else 400)


@require_GET
@role_required(Role.VIEWER)
def endpoint_logs_lines(request: HttpRequest, pk: int) -> HttpResponse:
    """The lines: newest first, a link to older ones, and, when following a preset window,
    a refresh every few seconds, less often while CloudWatch Logs keeps failing."""
    endpoint = endpoint_or_404(pk)
    form = LogsForm(request.GET, variants=_variants(endpoint))
    if not form.is_valid():
        return render(request, "monitoring/partials/_log_lines.html", {"form": form}, status=400)
    query = form.query()
    panel = live_logs.endpoint_logs(endpoint=endpoint, query=query)
    following = bool(form.cleaned_data.get("follow")) and query.is_live
    # The refresh URL carries how many refreshes in a row have failed, for the back-off.
    failures = min(parse_id(request.GET.get("failed")) or 0, 100) + 1 if panel.error else 0
    refresh = request.GET.copy()
    refresh.pop("failed", None)
    if failures:
        refresh["failed"] = str(failures)
    older = (
        _query_string(request.GET, before=panel.older.encode(), follow=None) if panel.older else ""
    )
    context = {
        "endpoint": endpoint,
        "form": form,
        "panel": panel,
        "following": following,
        "follow_seconds": live_logs.follow_seconds(failures=failures),
        "refresh_query": refresh.urlencode(),
        "older_query": older,
        "newest_query": _query_string(request.GET) if query.cursor else "",
    }
    return render(request, "monitoring/partials/_log_lines.html", context)
