"""Turning the portal's errors into responses, the same way on every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.errors import PortalError, Refused


def error_response(
    request: HttpRequest,
    exc: PortalError,
    *,
    template: str | None = None,
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page for a refused (403), conflicting (409) or invalid (400) request.

    `template` (with `context`) lets a view answer with its own page and the message in
    `error`, e.g. the shift page saying why it cannot be approved; by default a refusal
    gets the 403 page and anything else the generic error page. A refusal is never
    audited here: the service that refused has done it.
    """
    if template is None:
        template = "403.html" if isinstance(exc, Refused) else "error.html"
    page = {**(context or {}), "error": exc.message, "reason": exc.message, "status": exc.status}
    return render(request, template, page, status=exc.status)
