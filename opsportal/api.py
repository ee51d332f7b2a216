"""The REST API under /api/v1/: the NinjaAPI object that mounts each app's router, the
bearer-token authentication (with the per-token rate limit), and the handlers that turn
every failure into problem+json (RFC 9457).

Routes check the role they need (core.api.access) and call the same selectors and
services as the pages, so the API is never a way around a rule.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver, path
from ninja import NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.security import HttpBearer

from apihistory.api import router as apihistory_router
from audit.api import router as audit_router
from audit.services import audit_denied
from core import health
from core.api.access import RoleTooLow, require_role
from core.api.parsing import StrictJsonParser
from core.api.problems import portal_problem, problem, with_problem_responses
from core.api.rate_limit import RateLimited, rate_check
from core.errors import PortalError
from core.roles import Role, role_required
from endpoints.api import router as endpoints_router
from shifts.api import router as shifts_router
from tokens.services import token_authenticate
from transforms.api import router as transforms_router
from triage.api import router as triage_router

logger = logging.getLogger(__name__)
MAX_TOKEN = 512


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`: a personal API token (tokens app). The request then
    acts as the token's user, within that token's rate limit."""

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        if not token or len(token) > MAX_TOKEN:
            return None
        user = token_authenticate(secret=token)
        if user is None:
            return None
        request.user = user
        rate_check(key=f"token:{user.api_token_id}")
        return user


class PortalApi(NinjaAPI):
    """NinjaAPI whose URLs answer problem+json for an unknown path or method too, and whose
    docs page needs a signed-in user (the schema itself is public)."""

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        patterns = []
        for pattern in super()._get_urls():
            if isinstance(pattern, URLPattern):
                view = pattern.callback
                if pattern.name == "openapi-view":
                    view = role_required(Role.VIEWER)(view)
                pattern = path(
                    str(pattern.pattern), _problem_405(view), pattern.default_args, pattern.name
                )
            patterns.append(pattern)
        patterns.append(path("<path:rest>", _not_found, name="not-found"))
        return patterns

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        with_problem_responses(schema)
        return schema


def _problem_405(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            return problem(
                405,
                f"{request.method} is not allowed here; use {response['Allow']}.",
                headers={"Allow": response["Allow"]},
            )
        return response

    wrapped.csrf_exempt = getattr(view, "csrf_exempt", False)  # type: ignore[attr-defined]
    return wrapped


def _not_found(request: HttpRequest, rest: str) -> HttpResponse:
    return problem(404, "No such API route; see /api/v1/docs.")


api = PortalApi(
    title="Ops Portal API",
    version="1",
    description="The portal's REST API: the same reads, rules and audit as its pages. "
    "Authenticate with a personal API token: `Authorization: Bearer <token>`.",
    auth=BearerToken(),
    parser=StrictJsonParser(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(
        401,
        "Send a valid API token: Authorization: Bearer <token>.",
        headers={"WWW-Authenticate": 'Bearer realm="opsportal"'},
    )


@api.exception_handler(RoleTooLow)
def _role_too_low(request: HttpRequest, exc: RoleTooLow) -> HttpResponse:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        audit_denied(request=request, reason=str(exc))
    return problem(403, str(exc))


@api.exception_handler(PortalError)
def _refused(request: HttpRequest, exc: PortalError) -> HttpResponse:
    return portal_problem(exc)


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    return problem(429, str(exc), headers={"Retry-After": str(exc.retry_after)})


@api.exception_handler(Http404)
def _not_found_problem(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(404, str(exc) or "Not found.")


@api.exception_handler(ObjectDoesNotExist)
def _gone(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    """A service that looked an object up by the id it was given and found none."""
    return problem(404, "No such object: the id names nothing in the portal.")


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
        errors.setdefault(".".join(location) or "request", []).append(str(error.get("msg", "")))
    return problem(422, "The request does not match the schema; see errors.", errors=errors)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem(exc.status_code, str(exc))


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API request failed", exc_info=exc)
    return problem(500, "The portal failed to answer; the error is logged.")


readiness = Router(tags=["readiness"])


class ReadinessOut(Schema):
    ok: bool
    checks: dict[str, Any]


@readiness.get("/readiness", response=ReadinessOut, summary="Dependencies' readiness")
def readiness_get(request: HttpRequest) -> dict[str, Any]:
    """The /readyz report (database, broker, worker heartbeat, AWS per target-region)."""
    require_role(request, Role.VIEWER, "Reading readiness")
    checks = {
        "database": health.check_database(),
        "broker": health.check_broker(),
        "worker": health.check_worker(),
    }
    ready = all(c["ok"] for c in checks.values())
    return {"ok": ready, "checks": {**checks, "aws": health.check_aws()}}


api.add_router("", endpoints_router)
api.add_router("", shifts_router)
api.add_router("", transforms_router)
api.add_router("", triage_router)
api.add_router("", apihistory_router)
api.add_router("", audit_router)
api.add_router("", readiness)
