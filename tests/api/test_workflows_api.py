"""Whole flows through the API: the two-person rule from proposal to decision, incidents
taken and moved, and a batch job launched with the launch form's pre-flight checks."""

from __future__ import annotations

import pytest

from audit.models import AuditEntry
from shifts.models import ShiftProposal
from tests.support.world import incident
from tests.transforms.conftest import form_data, tumor_launch
from transforms.models import TransformJob


def _post(api, url, body, token, bearer, **headers):
    return api.post(url, body, content_type="application/json", **bearer(token), **headers)


@pytest.mark.django_db
def test_another_approver_decides_and_only_the_proposer_cancels(api, token_for, bearer, endpoint):
    operator, approver = token_for("Operator", "op"), token_for("Approver", "ap")
    body = {"endpoint_id": endpoint.pk, "weights": {"A": 70, "B": 30}, "reason": "canary"}
    first = _post(api, "/api/v1/shifts", body, operator, bearer).json()
    assert first["before"] == {"A": 50.0, "B": 50.0} and first["url"] == f"/shifts/{first['id']}/"
    assert (
        _post(api, f"/api/v1/shifts/{first['id']}/cancel", {}, approver, bearer).status_code == 403
    )
    rejected = _post(
        api, f"/api/v1/shifts/{first['id']}/reject", {"comment": "not now"}, approver, bearer
    )
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    assert "not now" in rejected.json()["outcome"]
    again = _post(api, f"/api/v1/shifts/{first['id']}/reject", {"comment": "x"}, approver, bearer)
    assert again.status_code == 409 and again["Content-Type"] == "application/problem+json"
    second = _post(api, "/api/v1/shifts", body, operator, bearer).json()
    cancelled = _post(
        api,
        f"/api/v1/shifts/{second['id']}/cancel",
        {"reason": "release postponed"},
        operator,
        bearer,
    )
    assert cancelled.json()["state"] == "cancelled"
    events = api.get(f"/api/v1/shifts/{second['id']}", **bearer(operator)).json()["events"]
    assert [e["to_state"] for e in events][-1] == "cancelled"
    assert events[-1]["comment"] == "release postponed"  # the reason is kept, not dropped
    assert AuditEntry.objects.filter(action__startswith="shift.", username="ap").exists()
    listed = api.get("/api/v1/shifts", {"state": "cancelled"}, **bearer(operator)).json()
    assert [s["id"] for s in listed["items"]] == [second["id"]]
    assert ShiftProposal.objects.count() == 2


@pytest.mark.django_db
def test_incident_taken_and_acknowledged_through_the_api(api, token_for, bearer, endpoint):
    token = token_for("Operator", "oncall")
    opened = incident(endpoint)
    listed = api.get("/api/v1/incidents", {"state": "open"}, **bearer(token)).json()["items"]
    assert [i["id"] for i in listed] == [opened.pk] and listed[0]["owner"] is None
    taken = _post(api, f"/api/v1/incidents/{opened.pk}/take", {"note": "on it"}, token, bearer)
    assert taken.json()["owner"] == "oncall"
    blank = _post(api, f"/api/v1/incidents/{opened.pk}/take", {"note": " "}, token, bearer)
    assert blank.status_code == 400 and blank.json()["detail"]
    moved = _post(api, f"/api/v1/incidents/{opened.pk}/move", {"to": "resolved"}, token, bearer)
    assert moved.status_code == 400  # resolving needs a note saying what was done
    moved = _post(api, f"/api/v1/incidents/{opened.pk}/move", {"to": "acknowledged"}, token, bearer)
    assert moved.json()["state"] == "acknowledged"
    assert moved.json()["events"][-1]["username"] == "oncall"


@pytest.mark.django_db(transaction=True)
def test_job_launch_runs_the_form_checks_and_is_idempotent(sandbox, api, token_for, bearer):
    token = token_for("Operator", "batch")
    wrong = form_data(tumor_launch(model_name="no-such-model"))
    refused = _post(api, "/api/v1/jobs", wrong, token, bearer)
    assert refused.status_code == 400 and "model_name" in refused.json()["errors"]
    data = form_data(tumor_launch())
    first = _post(api, "/api/v1/jobs", data, token, bearer, HTTP_IDEMPOTENCY_KEY="launch-1")
    assert first.status_code == 201, first.content
    retried = _post(api, "/api/v1/jobs", data, token, bearer, HTTP_IDEMPOTENCY_KEY="launch-1")
    assert retried.status_code == 201 and retried.json()["id"] == first.json()["id"]
    assert TransformJob.objects.count() == 1
    job = api.get(f"/api/v1/jobs/{first.json()['id']}", **bearer(token)).json()
    assert job["model_name"] == "tumor-model-v1" and job["created_by"] == "batch"
    listed = api.get("/api/v1/jobs", **bearer(token)).json()
    assert [j["id"] for j in listed["items"]] == [job["id"]]
