"""Every route against every role: anonymous → login, too low → 403, enough → success.

Adding a route without an entry here fails `test_every_route_has_an_entry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from endpoints.models import Endpoint
from tests.support.world import check_run, incident, shift, trail_event, transform_job

ROLES = ["Viewer", "Operator", "Approver", "Admin"]
# Signing in through the provider (start, callback, the no-access page) is as public as the
# login page: tests/opsportal/test_sso.py covers their answers.
PUBLIC = {"login", "healthz", "readyz", "logout", "sso_login", "sso_callback", "sso_no_access"}
# Routes for machines, not people: no session or role opens them, only their own credential
# (/metrics: a bearer token or an allowed network), whatever role the caller signed in with.
MACHINE = {"metrics"}


@dataclass(frozen=True)
class Rule:
    minimum: str
    method: str = "get"
    kwargs: dict = field(default_factory=dict)
    ok: tuple[int, ...] = (200,)
    data: dict = field(default_factory=dict)


MATRIX: dict[str, Rule] = {
    "overview": Rule("Viewer"),
    "nav_badge": Rule("Viewer", kwargs={"kind": "incidents"}),
    "endpoints:list": Rule("Viewer"),
    "endpoints:detail": Rule("Viewer", kwargs={"pk": "endpoint"}),
    "endpoints:refresh": Rule("Operator", method="post", kwargs={"pk": "endpoint"}, ok=(302,)),
    "endpoints:invoke": Rule("Operator", kwargs={"pk": "endpoint"}),
    "endpoints:header_status": Rule("Viewer", kwargs={"pk": "endpoint"}),
    "apihistory:endpoint_changes": Rule("Viewer", kwargs={"pk": "endpoint"}),
    "triage:what_changed": Rule("Viewer", kwargs={"pk": "endpoint"}),
    "triage:endpoint_timeline": Rule("Viewer", kwargs={"pk": "endpoint"}),
    "triage:board": Rule("Viewer"),
    "triage:incidents": Rule("Viewer"),
    "triage:incident": Rule("Viewer", kwargs={"pk": "incident"}),
    "triage:incident_postmortem": Rule("Viewer", kwargs={"pk": "incident"}),
    "triage:incident_move": Rule(
        "Operator",
        method="post",
        kwargs={"pk": "incident", "to": "acknowledged"},
        ok=(302,),
    ),
    "triage:summary": Rule("Viewer", kwargs={"pk": "endpoint"}),
    "triage:take": Rule(
        "Operator", method="post", kwargs={"pk": "endpoint"}, ok=(302,), data={"note": "on it"}
    ),
    # Releasing needs someone to own it; with nobody, the refusal is a message and a redirect.
    "triage:release": Rule("Operator", method="post", kwargs={"pk": "endpoint"}, ok=(302,)),
    "apihistory:list": Rule("Viewer"),
    "apihistory:detail": Rule("Viewer", kwargs={"pk": "trail_event"}),
    "monitoring:endpoint_list_health": Rule("Viewer", data={"ids": "999999"}),
    "monitoring:endpoint_metrics": Rule("Viewer", kwargs={"pk": "endpoint"}),
    "monitoring:endpoint_metrics_panel": Rule("Viewer", kwargs={"pk": "endpoint"}),
    "monitoring:endpoint_logs": Rule("Viewer", kwargs={"pk": "endpoint"}),
    "monitoring:endpoint_logs_lines": Rule("Viewer", kwargs={"pk": "endpoint"}),
    "monitoring:endpoint_monitoring": Rule("Viewer", kwargs={"pk": "endpoint"}),
    "monitoring:endpoint_monitoring_charts": Rule("Viewer", kwargs={"pk": "endpoint"}),
    # The matrix endpoint captures no data: an allowed check is refused with a message.
    "monitoring:endpoint_check_now": Rule(
        "Operator", method="post", kwargs={"pk": "endpoint"}, ok=(400,), data={"window": "1h"}
    ),
    "monitoring:check_run_status": Rule("Viewer", kwargs={"pk": "endpoint", "run_id": "check_run"}),
    "audit:list": Rule("Approver"),
    "shifts:list": Rule("Viewer"),
    "shifts:detail": Rule("Viewer", kwargs={"pk": "proposal"}),
    "shifts:status": Rule("Viewer", kwargs={"pk": "proposal"}),
    "shifts:endpoint": Rule("Viewer", kwargs={"pk": "endpoint"}),
    "shifts:propose": Rule("Operator", kwargs={"pk": "endpoint"}),
    # Only the proposer may edit or cancel: the request is made on the user's own proposal.
    "shifts:edit": Rule("Operator", kwargs={"pk": "own_proposal"}),
    "shifts:cancel": Rule("Operator", method="post", kwargs={"pk": "own_proposal"}, ok=(302,)),
    "shifts:approve": Rule("Approver", method="post", kwargs={"pk": "proposal"}, ok=(302,)),
    "shifts:reject": Rule(
        "Approver", method="post", kwargs={"pk": "proposal"}, ok=(302,), data={"comment": "no"}
    ),
    "shifts:acknowledge": Rule("Approver", method="post", kwargs={"pk": "emergency"}, ok=(302,)),
    # Admins only, unless OPSPORTAL_OPERATOR_EMERGENCY is on (off by default).
    "shifts:emergency": Rule("Admin", kwargs={"pk": "endpoint"}),
    "shifts:changes": Rule("Viewer", kwargs={"pk": "endpoint"}),
    "shifts:change_propose": Rule("Operator", kwargs={"pk": "endpoint", "kind": "capacity"}),
    "shifts:change_emergency": Rule("Admin", kwargs={"pk": "endpoint", "kind": "rollback"}),
    # A traffic shift has no deployment panel: the route answers 404 for it.
    "shifts:deployment": Rule("Viewer", kwargs={"pk": "proposal"}, ok=(404,)),
    "shifts:plan_propose": Rule("Operator", kwargs={"pk": "endpoint"}),
    # The matrix proposal is a plain shift, not a staged one: a role that may look is told so.
    "shifts:plan_panel": Rule("Viewer", kwargs={"pk": "proposal"}, ok=(404,)),
    "shifts:plan_chart": Rule("Viewer", kwargs={"pk": "proposal"}, ok=(404,)),
    "shifts:plan_control": Rule(
        "Operator", method="post", kwargs={"pk": "proposal", "action": "pause"}, ok=(404,)
    ),
    "transforms:list": Rule("Viewer"),
    "transforms:launch": Rule("Operator"),
    "transforms:models": Rule("Operator", data={"target_region": "sandbox/us-east-1"}),
    "transforms:detail": Rule("Viewer", kwargs={"pk": "transform_job"}),
    "transforms:status": Rule("Viewer", kwargs={"pk": "transform_job"}),
    "transforms:preview": Rule("Viewer", kwargs={"pk": "transform_job"}),
    "transforms:stop": Rule("Operator", method="post", kwargs={"pk": "transform_job"}, ok=(302,)),
    "tokens:list": Rule("Viewer"),
    # Someone else's token id: the refusal is a message and a redirect back to the list.
    "tokens:revoke": Rule("Viewer", method="post", kwargs={"pk": 999999}, ok=(302,)),
}


def _route_names(resolver: URLResolver, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # the admin site has its own login; covered below
            if pattern.namespace == "api":
                continue  # the REST API has its own matrix: tests/api/test_role_matrix.py
            ns = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            names |= _route_names(pattern, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(prefix + pattern.name)
    return names


def test_every_route_has_an_entry():
    missing = _route_names(get_resolver()) - set(MATRIX) - PUBLIC - MACHINE
    assert not missing, f"routes without a role-matrix entry: {sorted(missing)}"


def _url(name: str, rule: Rule, endpoint: Endpoint, user, user_factory) -> str:
    def resolve(value):
        if value == "endpoint":
            return endpoint.pk
        if value in ("proposal", "emergency", "own_proposal"):
            someone = user_factory(f"matrix-{value}", "Operator")
            proposer = user if value == "own_proposal" and user is not None else someone
            return shift(endpoint, proposer, kind="emergency" if value == "emergency" else "normal")
        if value == "transform_job":
            return transform_job().pk
        if value == "check_run":
            return check_run(endpoint).pk
        if value == "trail_event":
            return trail_event().pk
        if value == "incident":
            return incident(endpoint).pk
        return value

    return reverse(name, kwargs={k: resolve(v) for k, v in rule.kwargs.items()})


CASES = [(name, role) for name in MATRIX for role in [None, *ROLES]]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), CASES, ids=[f"{n}-{r}" for n, r in CASES])
def test_role_matrix(name, role, client, user_factory, endpoint, monkeypatch):
    from endpoints import tasks

    monkeypatch.setattr(tasks.endpoint_refresh, "delay", lambda *a, **k: None)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # the panel degrades, not fails
    rule = MATRIX[name]
    user = user_factory(f"u-{role.lower()}", role) if role else None
    url = _url(name, rule, endpoint, user, user_factory)
    if user is not None:
        client.force_login(user)
    response = getattr(client, rule.method)(url, rule.data)
    if role is None:
        assert response.status_code == 302 and reverse("login") in response["Location"]
    elif ROLES.index(role) < ROLES.index(rule.minimum):
        assert response.status_code == 403
    else:
        assert response.status_code in rule.ok


@pytest.mark.django_db
def test_user_without_any_role_is_refused(client, user_factory):
    client.force_login(user_factory("nobody", None))
    assert client.get(reverse("overview")).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("role", [None, *ROLES])
def test_metrics_open_to_its_token_never_to_a_role(role, client, user_factory, settings):
    settings.OPSPORTAL_METRICS_TOKEN = "matrix-metrics-token-0123456789"
    settings.OPSPORTAL_METRICS_ALLOWED_NETWORKS = ()
    if role is not None:
        client.force_login(user_factory(f"u-{role.lower()}", role))
    assert client.get(reverse("metrics")).status_code == 403
    authorised = client.get(
        reverse("metrics"), HTTP_AUTHORIZATION="Bearer matrix-metrics-token-0123456789"
    )
    assert authorised.status_code == 200
