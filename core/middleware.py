"""Request ids, the AWS time budget of a request, and the page for an error a service
raised.

Request id: every request gets one, echoed in `X-Request-ID` and stored with audit
entries, so a user's report can be matched to the log line and the audit row."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core.aws.page_budget import page_budget
from core.errors import PortalError
from core.views import error_response

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


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
