"""/metrics: the portal's own health for Prometheus, and who may read it.

Prometheus scrapes with no session, so /metrics takes no sign-in and no role: it opens to
a bearer token (OPSPORTAL_METRICS_TOKEN) or to clients in the allowed networks
(OPSPORTAL_METRICS_ALLOWED_NETWORKS, the address as core.client_address sees it); either
one suffices. With neither configured it answers 404 and says how to turn it on: metrics
are off, not forbidden. A refused scrape gets 403 and what was missing.

The counts come from every process (core.metrics); the levels are read at scrape time:
core's (sync lag, queue) and, here at the top because they read apps above core, the
change requests waiting for approval and the unresolved incidents.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from core.client_address import client_address
from core.health_metrics import QueueCollector, SyncLagCollector
from core.metrics import metrics_text
from shifts.selectors import pending_count
from triage.incident_selectors import open_incident_count


class WorkCollector(Collector):
    """What waits on people: change requests pending approval, incidents not resolved."""

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "opsportal_pending_approvals",
            "Change requests waiting for approval.",
            value=float(pending_count()),
        )
        yield GaugeMetricFamily(
            "opsportal_open_incidents",
            "Incidents not resolved (open, acknowledged or mitigated).",
            value=float(open_incident_count()),
        )


def _text(status: int, message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _refusal(request: HttpRequest) -> HttpResponse | None:
    token: str = settings.OPSPORTAL_METRICS_TOKEN
    networks = settings.OPSPORTAL_METRICS_ALLOWED_NETWORKS
    if not token and not networks:
        return _text(
            404,
            "Metrics are off: set OPSPORTAL_METRICS_TOKEN or "
            "OPSPORTAL_METRICS_ALLOWED_NETWORKS to serve them.",
        )
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
        return None
    address = client_address(request)
    if networks and address and any(ipaddress.ip_address(address) in n for n in networks):
        return None
    needs = " or ".join(
        what
        for what, wanted in (
            ("a valid bearer token (Authorization: Bearer ...)", token),
            ("a client address in OPSPORTAL_METRICS_ALLOWED_NETWORKS", networks),
        )
        if wanted
    )
    return _text(403, f"Metrics need {needs}.")


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    refused = _refusal(request)
    if refused is not None:
        return refused
    body = metrics_text(collectors=(SyncLagCollector(), QueueCollector(), WorkCollector()))
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
