"""Every API route against every role, with a token: anonymous → 401, too low → 403,
enough → success. The routes come from the API object itself, so a new route without an
entry here fails `test_every_api_route_has_an_entry`."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from opsportal.api import api as portal_api
from tests.support.world import incident, shift, trail_event, transform_job

ROLES = ["Viewer", "Operator", "Approver", "Admin"]


@dataclass(frozen=True)
class Rule:
    minimum: str
    ok: tuple[int, ...] = (200,)
    body: dict = field(default_factory=dict)


MATRIX: dict[tuple[str, str], Rule] = {
    ("GET", "/endpoints"): Rule("Viewer"),
    ("GET", "/endpoints/{endpoint_id}"): Rule("Viewer"),
    ("GET", "/shifts"): Rule("Viewer"),
    ("GET", "/shifts/{shift_id}"): Rule("Viewer"),
    # The matrix endpoint has no live weights to shift from: an allowed proposal is refused
    # by the service with a clear 400, never by the role check.
    ("POST", "/shifts"): Rule(
        "Operator", ok=(201, 400, 409), body={"weights": {"A": 1, "B": 0}, "reason": "matrix"}
    ),
    # Capacity of the matrix endpoint's variant A to 3 instances: proposed, or refused by
    # the change's checks (400) once the role check has passed.
    ("POST", "/changes"): Rule(
        "Operator",
        ok=(201, 400),
        body={
            "change_type": "capacity",
            "spec": {"capacity": {"A": {"instances": 3}}},
            "reason": "m",
        },
    ),
    # A two-step plan moving traffic from A to B: proposed, or refused by the plan's checks
    # (400) or by a pending proposal on the endpoint (409) once the role check has passed.
    ("POST", "/plans"): Rule(
        "Operator",
        ok=(201, 400, 409),
        body={
            "spec": {
                "candidate": "B",
                "baseline": "A",
                "steps": [
                    {"candidate_percent": 10, "bake_seconds": 300},
                    {"candidate_percent": 100, "bake_seconds": 300},
                ],
            },
            "reason": "matrix",
        },
    ),
    ("POST", "/shifts/{shift_id}/approve"): Rule("Approver", ok=(200, 409)),
    ("POST", "/shifts/{shift_id}/reject"): Rule("Approver", body={"comment": "no"}),
    ("POST", "/shifts/{shift_id}/cancel"): Rule("Operator"),
    ("GET", "/jobs"): Rule("Viewer"),
    ("GET", "/jobs/{job_id}"): Rule("Viewer"),
    # Invalid on purpose (no such model or bucket): the role check passes, the form refuses.
    ("POST", "/jobs"): Rule(
        "Operator",
        ok=(400,),
        body={
            "target_region": "sandbox/us-east-1",
            "model_name": "m",
            "input_uri": "not-s3",
            "content_type": "text/csv",
            "output_path": "not-s3",
        },
    ),
    # The matrix job is not running: the stop is refused as a conflict, after the role check.
    ("POST", "/jobs/{job_id}/stop"): Rule("Operator", ok=(409,)),
    ("GET", "/incidents"): Rule("Viewer"),
    ("GET", "/incidents/{incident_id}"): Rule("Viewer"),
    ("POST", "/incidents/{incident_id}/take"): Rule("Operator", body={"note": "on it"}),
    ("POST", "/incidents/{incident_id}/move"): Rule("Operator", body={"to": "acknowledged"}),
    ("GET", "/api-history"): Rule("Viewer"),
    ("GET", "/api-history/{event_id}"): Rule("Viewer"),
    ("GET", "/audit"): Rule("Approver"),
    ("GET", "/readiness"): Rule("Viewer"),
}


def api_routes() -> set[tuple[str, str]]:
    """(method, path) of every operation the API object serves."""
    routes = set()
    for prefix, router in portal_api._routers:
        for route, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    routes.add((method, f"{prefix}{route}"))
    return routes


def test_every_api_route_has_an_entry():
    routes = api_routes()
    assert routes, "the API object lists no routes"
    missing = routes - set(MATRIX)
    assert not missing, f"API routes without a role-matrix entry: {sorted(missing)}"
    assert not set(MATRIX) - routes, "entries for routes that no longer exist"


CASES = [(route, role) for route in MATRIX for role in [None, *ROLES]]


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "role"), CASES, ids=[f"{m} {p}-{r}" for (m, p), r in CASES])
def test_api_role_matrix(route, role, api, token_for, bearer, endpoint, user_factory):
    method, path = route
    rule = MATRIX[route]
    proposer = user_factory("matrix-proposer", "Operator")
    token = token_for(role) if role else None
    owner = None
    if token is not None and path == "/shifts/{shift_id}/cancel":
        from tokens.models import ApiToken

        owner = ApiToken.objects.get().user  # cancelling is the proposer's own act
    values = {
        "endpoint_id": endpoint.pk,
        "shift_id": shift(endpoint, owner or proposer),
        "job_id": transform_job().pk,
        "incident_id": incident(endpoint).pk,
        "event_id": trail_event().pk,
    }
    url = "/api/v1" + path.format(**values)
    body = {**rule.body}
    if method == "POST" and path in ("/shifts", "/changes", "/plans"):
        body["endpoint_id"] = endpoint.pk
    headers = bearer(token) if token else {}
    if method == "GET":
        response = api.get(url, **headers)
    else:
        response = api.post(url, body, content_type="application/json", **headers)
    if role is None:
        assert response.status_code == 401
    elif ROLES.index(role) < ROLES.index(rule.minimum):
        assert response.status_code == 403, response.content
    else:
        assert response.status_code in rule.ok, response.content
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
