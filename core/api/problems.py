"""Errors as problem+json (RFC 9457): one shape for every failure the API answers, so a
client reads `detail` (one sentence) and `errors` (messages by field) the same way
whatever went wrong."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus

from django.http import HttpResponse

from core.errors import NON_FIELD, PortalError

PROBLEM_TYPE = "application/problem+json"
TYPE_BASE = "https://opsportal.invalid/problems/"


def problem(
    status: int,
    detail: str,
    *,
    errors: Mapping[str, Sequence[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """A problem+json response; `type` names the status (e.g. `.../conflict`)."""
    title = HTTPStatus(status).phrase
    body: dict[str, object] = {
        "type": TYPE_BASE + title.lower().replace(" ", "-").replace("'", ""),
        "title": title,
        "status": status,
        "detail": detail or title + ".",
    }
    if errors:
        body["errors"] = {field: [str(m) for m in msgs] for field, msgs in errors.items()}
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def portal_problem(exc: PortalError) -> HttpResponse:
    """A service's Refused (403), Conflict (409) or Invalid (400) as a problem: `detail`
    is the message about the request as a whole (else the first field's), `errors` the
    messages by field."""
    errors = {field: msgs for field, msgs in exc.errors.items() if field != NON_FIELD}
    own = exc.errors.get(NON_FIELD, [])
    detail = " ".join(own) if own else next(iter(exc.messages), "")
    return problem(exc.status, detail, errors=errors or None)


# The problem+json shape and the failures every operation may answer, for the schema.
PROBLEM_SCHEMA: dict[str, object] = {
    "type": "object",
    "title": "Problem",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}
PROBLEM_RESPONSES = {
    400: "Bad input: `detail` says what to change, `errors` which field.",
    401: "No valid API token.",
    403: "The token's user may not do this (role too low, or refused by policy).",
    404: "No such object.",
    409: "The object's state does not allow this now.",
    422: "The request does not match the schema.",
    429: "Too many requests for this token: wait `Retry-After` seconds.",
}


def with_problem_responses(schema: dict[str, object]) -> dict[str, object]:
    """Add the problem+json failures to every operation of an OpenAPI schema (in place)."""
    components = schema.setdefault("components", {})
    assert isinstance(components, dict)
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    reference = {"$ref": "#/components/schemas/Problem"}
    paths = schema.get("paths", {})
    assert isinstance(paths, dict)
    for path_item in paths.values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, description in PROBLEM_RESPONSES.items():
                responses.setdefault(
                    str(status),
                    {"description": description, "content": {PROBLEM_TYPE: {"schema": reference}}},
                )
    return schema
