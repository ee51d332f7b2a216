"""Portal-wide pages: the overview, liveness and readiness, and the refused sign-in page."""

from __future__ import annotations

import math
from typing import Any

from axes.conf import settings as axes_settings
from axes.helpers import get_client_username
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import health
from core.login_limits import request_login_locks
from core.roles import Role, role_of, role_required
from endpoints import selectors
from monitoring import selectors as monitoring_selectors
from shifts.selectors import pending_count
from triage.board import incidents_at_a_glance
from triage.incident_selectors import open_incident_count


@require_GET
@role_required(Role.VIEWER)
def overview(request: HttpRequest) -> HttpResponse:
    counts = selectors.status_counts()
    violating = monitoring_selectors.endpoints_with_violations(hours=24)
    context = {
        "counts": counts,
        "total": sum(c["total"] for c in counts),
        "in_alarm": monitoring_selectors.endpoints_in_alarm(),
        "violating": violating,
        "failing_schedules": monitoring_selectors.failing_schedules(),
        "sync_states": selectors.sync_states(),
        # One definition of "needs attention" everywhere: the incident board's.
        "incidents": incidents_at_a_glance(violating=violating),
        # Idle capacity costs money, not customers: listed apart, not as an incident.
        "idle": selectors.endpoint_problems(kinds=("idle",)),
        "updated_at": timezone.now(),
        "refresh_seconds": settings.OPSPORTAL_LIVE_REFRESH_SECONDS,
    }
    if request.headers.get("HX-Request"):
        # An open overview follows incidents and syncs by itself (htmx polls this).
        return render(request, "partials/_overview.html", context)
    return render(request, "overview.html", context)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness, unauthenticated for load balancers: the process answers and its database
    does. Never AWS, never the broker: neither is a reason to restart or pull a web node."""
    database = health.check_database()
    return JsonResponse(
        {"ok": database["ok"], "checks": {"database": database}},
        status=200 if database["ok"] else 503,
    )


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness and the dependency report, unauthenticated (states and error codes only).

    Not ready when the database, the broker or the worker heartbeat fails: changes would
    be accepted and never carried out. AWS is reported per target-region but does not
    fail readiness: the portal still shows the last synced data and says how stale it is.
    """
    checks = {
        "database": health.check_database(),
        "broker": health.check_broker(),
        "worker": health.check_worker(),
    }
    ready = all(c["ok"] for c in checks.values())
    return JsonResponse(
        {"ok": ready, "checks": {**checks, "aws": health.check_aws()}},
        status=200 if ready else 503,
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 page; a denied state-changing request is also written to the audit log."""
    from audit.services import audit_denied

    reason = str(exception) if exception else "You do not have the role this page needs."
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        audit_denied(request=request, reason=reason)
    return render(request, "403.html", {"reason": reason}, status=403)


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the page for a refused sign-in. It names the limit that refused
    it (this account from this address, this address, or the account everywhere), since
    what the person can do differs, and says when every lock on the attempt has ended."""
    locks = request_login_locks(request=request, username=get_client_username(request, credentials))
    now = getattr(request, "axes_attempt_time", None) or timezone.now()
    until = max((lock.until for lock in locks), default=now + settings.AXES_COOLOFF_TIME)
    context = {
        "scope": locks[0].scope.value if locks else "",
        "until": until,
        "minutes": max(1, math.ceil((until - now).total_seconds() / 60)),
    }
    return render(
        request,
        "registration/locked_out.html",
        context,
        status=axes_settings.AXES_HTTP_RESPONSE_CODE,
    )


@require_GET
@role_required(Role.VIEWER)
def nav_badge(request: HttpRequest, kind: str) -> HttpResponse:
    """One navigation badge (unresolved incidents; changes waiting for approval, for
    Approvers), loaded by htmx after the page and refreshed every half minute: the badges
    stay current on a page left open, and no page waits for their counts."""
    if kind == "incidents":
        number = open_incident_count()
        label = f"{number} unresolved incident{'s' if number != 1 else ''}"
        tone = "bad"
    elif kind == "approvals":
        number = pending_count() if role_of(request.user) >= Role.APPROVER else 0
        label = f"{number} waiting for approval"
        tone = "warn"
    else:
        raise Http404("No such badge.")
    context = {"kind": kind, "number": number, "label": label, "tone": tone}
    return render(request, "partials/_nav_badge.html", context)
