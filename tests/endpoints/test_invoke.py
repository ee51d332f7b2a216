"""Test invoke: a real InvokeEndpoint through the sandbox, shown and audited."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from audit.models import AuditEntry
from core.aws import clients
from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from sandbox.testing import holdout_rows, rows_to_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def tumor(sandbox) -> Endpoint:
    inventory_sync(target=settings.OPSPORTAL_TARGETS[0], region="us-east-1")
    return Endpoint.objects.get(name="tumor-classifier")


def _post(client, endpoint, **data):
    return client.post(
        reverse("endpoints:invoke", args=[endpoint.pk]), data, HTTP_HX_REQUEST="true"
    )


def test_invoke_shows_prediction_and_invoked_variant(role_client, tumor):
    client = role_client("Operator")
    response = _post(
        client, tumor, content_type="text/csv", payload=rows_to_csv(holdout_rows("tumor")[:3])
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert result.ok and result.invoked_variant in {"A", "B"}
    probabilities = [float(line) for line in result.body.strip().splitlines()]
    assert len(probabilities) == 3 and all(0 <= p <= 1 for p in probabilities)
    assert f">{result.invoked_variant}<" in response.content.decode()
    entry = AuditEntry.objects.get(action="endpoint.test_invoke")
    assert entry.outcome == "ok" and entry.after["invoked_variant"] == result.invoked_variant
    assert "payload" not in entry.after  # only its size is recorded


def test_target_variant_is_honoured(role_client, tumor):
    response = _post(
        role_client("Operator"),
        tumor,
        content_type="text/csv",
        target_variant="B",
        payload=rows_to_csv(holdout_rows("tumor")[:1]),
    )
    assert response.context["result"].invoked_variant == "B"


def test_a_streamed_answer_shows_each_part_and_when_the_first_came(role_client, tumor):
    response = _post(
        role_client("Operator"),
        tumor,
        content_type="text/csv",
        target_variant="A",
        stream="on",
        payload=rows_to_csv(holdout_rows("tumor")[:4]),
    )
    result = response.context["result"]
    assert result.ok and result.invoked_variant == "A"
    assert len(result.parts) == 4 and "".join(result.parts) == result.body
    assert 0 < result.first_part_ms <= result.latency_ms
    page = response.content.decode()
    assert "4 parts, the first after" in page and page.count("<li><pre>") == 4
    entry = AuditEntry.objects.get(action="endpoint.test_invoke")
    assert entry.after["streamed"] is True and entry.outcome == "ok"


def test_a_streamed_invocation_fails_like_a_plain_one(role_client, tumor):
    response = _post(
        role_client("Operator"), tumor, content_type="text/csv", stream="on", payload="1,2,3"
    )
    result = response.context["result"]
    assert not result.ok and result.error_code == "ModelError" and not result.parts


def test_model_error_is_shown_and_audited_as_failed(role_client, tumor):
    response = _post(role_client("Operator"), tumor, content_type="text/csv", payload="1,2,3")
    result = response.context["result"]
    assert response.status_code == 200 and not result.ok
    assert result.error_code == "ModelError"
    assert "ModelError" in response.content.decode()
    assert AuditEntry.objects.get(action="endpoint.test_invoke").outcome == "failed"


def test_bad_json_is_refused_before_any_aws_call(role_client, tumor):
    clients.reset_call_counts()
    response = _post(
        role_client("Operator"), tumor, content_type="application/json", payload="{not json"
    )
    assert response.status_code == 400
    assert "Not valid JSON" in response.content.decode()
    assert clients.call_counts()[("sagemaker-runtime", "InvokeEndpoint")] == 0
    assert not AuditEntry.objects.filter(action="endpoint.test_invoke").exists()


def test_unknown_target_variant_is_refused(role_client, tumor):
    response = _post(
        role_client("Operator"), tumor, content_type="text/csv", target_variant="Z", payload="1"
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
