"""Request ids, request timings for /metrics, the AWS time budget of a request, and the
page for an error a service raised.

Request id: every request gets one, echoed in `X-Request-ID` and stored with audit
entries and on every log line written for the request (core.log_context), so a user's
report can be matched to the log line and the audit row."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core.aws.page_budget import page_budget
from core.errors import PortalError
from core.log_context import request_id_var
from core.metrics import REQUEST_SECONDS
from core.views import error_response

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex  # type: ignore[attr-defined]
        token = request_id_var.set(request.request_id)  # type: ignore[attr-defined]
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


class RequestMetricsMiddleware:
    """Times every request into opsportal_http_request_duration_seconds, labelled by the
    route's name (never the raw path, whose values are unbounded), method and status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        REQUEST_SECONDS.labels(
            view=match.view_name if match is not None else "unmatched",
            method=request.method if request.method in _METHODS else "other",
            status=str(response.status_code),
        ).observe(time.perf_counter() - started)
        return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class PortalErrorMiddleware:
    """A service's Refused / Conflict / Invalid that no view caught becomes its page (403,
    409, 400) instead of a server error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, PortalError):
            return error_response(request, exception)
        return None


class AwsPageBudgetMiddleware:
    """Every AWS read a request makes shares one short budget (core.aws.page_budget), so
    an AWS that hangs costs a page seconds, not minutes, and never holds every web thread."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with page_budget():
            return self.get_response(request)
