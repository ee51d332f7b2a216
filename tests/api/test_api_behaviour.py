"""What API clients rely on: tokens (shown once, hashed, expiry, revocation, role), the
two-person rule, idempotent POSTs, cursor pages, the rate limit and problem+json."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from audit.models import AuditEntry
from shifts.models import ShiftProposal
from tests.shifts.helpers import make_endpoint
from tokens.models import ApiToken

pytestmark = pytest.mark.django_db


def _propose(api, token, bearer, endpoint, **headers):
    body = {"endpoint_id": endpoint.pk, "weights": {"A": 80, "B": 20}, "reason": "canary"}
    return api.post(
        "/api/v1/shifts", body, content_type="application/json", **bearer(token), **headers
    )


def test_token_is_stored_hashed_and_records_its_last_use(api, token_for, bearer):
    secret = token_for("Viewer")
    row = ApiToken.objects.get()
    assert secret not in {row.prefix, row.digest}
    assert row.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert row.last_used_at is None
    assert api.get("/api/v1/endpoints", **bearer(secret)).status_code == 200
    row.refresh_from_db()
    assert row.last_used_at is not None
    assert AuditEntry.objects.filter(action="token.create", username="api-viewer").exists()


def test_expired_revoked_or_deactivated_token_is_401_and_lost_role_is_403(api, token_for, bearer):
    secret = token_for("Operator")
    row = ApiToken.objects.get()
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.get("/api/v1/endpoints", **bearer(secret)).status_code == 401
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() + timedelta(days=1))
    assert api.get("/api/v1/endpoints", **bearer(secret)).status_code == 200
    row.user.groups.clear()
    assert api.get("/api/v1/endpoints", **bearer(secret)).status_code == 403
    row.user.is_active = False
    row.user.save()
    assert api.get("/api/v1/endpoints", **bearer(secret)).status_code == 401
    assert api.get("/api/v1/endpoints", **bearer(secret[:-1] + "x")).status_code == 401


def test_token_page_shows_the_secret_once_lists_and_revokes(client, user_factory, bearer):
    user = user_factory("pat", "Viewer")
    client.force_login(user)
    created = client.post("/settings/api-tokens/", {"name": "laptop", "expires_days": 7})
    assert created.status_code == 201
    secret = created.context["secret"]
    assert secret in created.content.decode()
    listed = client.get("/settings/api-tokens/").content.decode()
    assert secret not in listed and "laptop" in listed and "never" in listed
    assert client.get("/api/v1/endpoints", **bearer(secret)).status_code == 200
    token = ApiToken.objects.get()
    assert client.post(f"/settings/api-tokens/{token.pk}/revoke").status_code == 302
    assert client.get("/api/v1/endpoints", **bearer(secret)).status_code == 401
    assert AuditEntry.objects.filter(action="token.revoke", username="pat").exists()
    bad = client.post("/settings/api-tokens/", {"name": "", "expires_days": 9999})
    assert bad.status_code == 400


def test_management_command_prints_the_token_alone_on_its_last_line(api, user_factory, bearer):
    user_factory("ci", "Operator")
    out = io.StringIO()
    call_command("create_api_token", "ci", "--name", "pipeline", "--expires-days", "3", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    assert " " not in secret and secret.startswith("opt_")
    assert ApiToken.objects.get().name == "pipeline"
    assert api.get("/api/v1/shifts", **bearer(secret)).status_code == 200


def test_self_approval_through_the_api_is_refused_and_audited(api, user_factory, bearer, endpoint):
    from tokens.services import token_create

    approver = user_factory("both", "Approver")
    token = token_create(actor=approver, name="t", expires_days=1).secret
    proposed = _propose(api, token, bearer, endpoint)
    assert proposed.status_code == 201, proposed.content
    shift_id = proposed.json()["id"]
    assert proposed.json()["state"] == "pending" and proposed.json()["proposed_by"] == "both"
    refused = api.post(
        f"/api/v1/shifts/{shift_id}/approve", {}, content_type="application/json", **bearer(token)
    )
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert ShiftProposal.objects.get(pk=shift_id).state == "pending"
    assert AuditEntry.objects.filter(username="both", outcome="denied").exists()


def test_idempotent_retry_creates_one_proposal(api, token_for, bearer, endpoint):
    token = token_for("Operator")
    first = _propose(api, token, bearer, endpoint, HTTP_IDEMPOTENCY_KEY="k-1")
    again = _propose(api, token, bearer, endpoint, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert ShiftProposal.objects.count() == 1
    other = api.post(
        "/api/v1/shifts",
        {"endpoint_id": endpoint.pk, "weights": {"A": 10, "B": 90}, "reason": "other"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-1",
        **bearer(token),
    )
    assert other.status_code == 422
    assert other.json()["errors"]["Idempotency-Key"]
    assert ShiftProposal.objects.count() == 1


def test_cursor_paging_walks_the_list_without_duplicates(api, token_for, bearer):
    for n in range(7):
        make_endpoint(f"ep-{n}")
    token = token_for("Viewer")
    seen, cursor, pages = [], "", 0
    while True:
        page = api.get("/api/v1/endpoints", {"limit": 3, "cursor": cursor}, **bearer(token)).json()
        seen += [item["name"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(f"ep-{n}" for n in range(7))
    assert len(seen) == len(set(seen))
    exact = api.get("/api/v1/endpoints", {"name": "ep-3"}, **bearer(token)).json()["items"]
    assert [e["name"] for e in exact] == ["ep-3"]
    bad = api.get("/api/v1/endpoints", {"cursor": "zz"}, **bearer(token))
    assert bad.status_code == 400 and "cursor" in bad.json()["errors"]
    assert api.get("/api/v1/endpoints", {"limit": 201}, **bearer(token)).status_code == 400


@override_settings(OPSPORTAL_API_RATE="3/min")
def test_rate_limit_answers_429_with_retry_after(api, token_for, bearer):
    token, other = token_for("Viewer"), token_for("Viewer", "second")
    codes = [api.get("/api/v1/readiness", **bearer(token)).status_code for _ in range(4)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    limited = api.get("/api/v1/readiness", **bearer(token))
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["status"] == 429
    assert api.get("/api/v1/readiness", **bearer(other)).status_code == 200  # per token


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/api/v1/endpoints", 401),
        ("get", "/api/v1/no-such-route", 404),
        ("delete", "/api/v1/endpoints", 405),
        ("get", "/api/v1/endpoints/123456789", 404),
        ("get", "/api/v1/endpoints/abc", 422),
        ("post", "/api/v1/shifts", 422),
    ],
)
def test_errors_are_problem_json(api, token_for, bearer, method, url, status):
    headers = {} if status == 401 else bearer(token_for("Admin"))
    kwargs = {"content_type": "application/json", "data": "{}"} if method == "post" else {}
    response = getattr(api, method)(url, **kwargs, **headers)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]


def test_openapi_schema_is_public_and_docs_need_a_login(client, user_factory):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200 and "/api/v1/shifts" in schema.json()["paths"]
    assert client.get("/api/v1/docs").status_code == 302
    client.force_login(user_factory("reader", "Viewer"))
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"swagger-ui-init.js" in docs.content


@pytest.mark.parametrize(
    "raw",
    [
        '{"endpoint_id": 1, "weights": {"A": NaN}, "reason": "r"}',
        '{"endpoint_id": 1, "weights": {"A": Infinity}, "reason": "r"}',
        '{"endpoint_id": 1, "weights": {"A": 1}, "reason": "nul\\u0000here"}',
        '{"endpoint_id": 1, "weights": ',
    ],
)
def test_bodies_a_database_cannot_hold_are_bad_input(api, token_for, bearer, endpoint, raw):
    response = api.post(
        "/api/v1/shifts", raw, content_type="application/json", **bearer(token_for("Operator"))
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert ShiftProposal.objects.count() == 0


def test_nul_in_a_query_is_bad_input(api, token_for, bearer):
    response = api.get("/api/v1/endpoints", {"name": "a\x00b"}, **bearer(token_for("Viewer")))
    assert response.status_code == 400 and "name" in response.json()["errors"]


def test_capacity_change_proposed_through_the_api(api, token_for, bearer, endpoint):
    body = {
        "endpoint_id": endpoint.pk,
        "change_type": "capacity",
        "spec": {"capacity": {"A": {"instances": 3}}},
        "reason": "more room",
    }
    token = token_for("Operator")
    response = api.post("/api/v1/changes", body, content_type="application/json", **bearer(token))
    assert response.status_code == 201, response.content
    assert response.json()["change_type"] == "capacity" and response.json()["state"] == "pending"
    unknown = api.post(
        "/api/v1/changes",
        {**body, "change_type": "teleport"},
        content_type="application/json",
        **bearer(token),
    )
    assert unknown.status_code == 400 and "teleport" in unknown.json()["detail"]


def test_token_posts_need_no_csrf_token(token_for, bearer, endpoint):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    body = {"endpoint_id": endpoint.pk, "weights": {"A": 60, "B": 40}, "reason": "csrf"}
    response = strict.post(
        "/api/v1/shifts", body, content_type="application/json", **bearer(token_for("Operator"))
    )
    assert response.status_code == 201, response.content


PLAN = {
    "candidate": "B",
    "baseline": "A",
    "steps": [
        {"candidate_percent": 10, "bake_seconds": 300},
        {"candidate_percent": 50, "bake_seconds": 300, "manual": True},
        {"candidate_percent": 100, "bake_seconds": 300},
    ],
    "gates": {"error_rate_margin": 0.01, "min_invocations": 50},
}


def test_a_staged_shift_is_proposed_through_the_api_as_a_plan(api, token_for, bearer, endpoint):
    token = token_for("Operator")
    proposed = api.post(
        "/api/v1/plans",
        {"endpoint_id": endpoint.pk, "spec": PLAN, "reason": "canary B"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="plan-1",
        **bearer(token),
    )
    assert proposed.status_code == 201, proposed.content
    body = proposed.json()
    assert body["change_type"] == "plan" and body["state"] == "pending"
    plan = ShiftProposal.objects.get(pk=body["id"])
    assert [s["candidate_percent"] for s in plan.spec["steps"]] == [10, 50, 100]
    assert plan.spec["steps"][1]["manual"] is True
    assert AuditEntry.objects.filter(action="shift.propose", outcome="ok").count() == 1

    # The plan's own checks answer as the form's do: nothing saved, the reason said.
    bad = api.post(
        "/api/v1/plans",
        {
            "endpoint_id": endpoint.pk,
            "spec": {**PLAN, "steps": [{"candidate_percent": 50, "bake_seconds": 300}] * 2},
            "reason": "again",
        },
        content_type="application/json",
        **bearer(token),
    )
    assert bad.status_code in (400, 409)
    assert bad["Content-Type"] == "application/problem+json" and bad.json()["detail"]
    assert ShiftProposal.objects.count() == 1
