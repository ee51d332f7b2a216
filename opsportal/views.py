"""Portal-wide pages: the overview and the health check."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import health
from core.roles import Role, role_required
from endpoints import selectors
from monitoring import selectors as monitoring_selectors
from triage.board import incident_board


@require_GET
@role_required(Role.VIEWER)
def overview(request: HttpRequest) -> HttpResponse:
    counts = selectors.status_counts()
    context = {
        "counts": counts,
        "total": sum(c["total"] for c in counts),
        "attention": selectors.endpoint_problems(),
        "in_alarm": monitoring_selectors.endpoints_in_alarm(),
        "violating": monitoring_selectors.endpoints_with_violations(hours=24),
        "failing_schedules": monitoring_selectors.failing_schedules(),
        "sync_states": selectors.sync_states(),
        "incidents": incident_board(),
    }
    return render(request, "overview.html", context)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Unauthenticated by design (load balancers); reports states and error codes only."""
    checks = {
        "database": health.check_database(),
        "broker": health.check_broker(),
        "aws": health.check_aws(),
    }
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse({"ok": ok, "checks": checks}, status=200 if ok else 503)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 page; a denied state-changing request is also written to the audit log."""
    from audit.services import audit_denied

    reason = str(exception) if exception else "You do not have the role this page needs."
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        audit_denied(request=request, reason=reason)
    return render(request, "403.html", {"reason": reason}, status=403)
