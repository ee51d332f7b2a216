"""Every write service enforces its app's policy itself, so a management command, a task or
the coming API cannot do what the page's role check would have refused: a role too low is
refused with the policy's reason, the refusal is audited, and nothing changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from core.aws.types import TransformSpec
from core.errors import Refused
from endpoints import services as endpoint_services
from endpoints.models import Endpoint
from monitoring import services as monitoring_services
from monitoring.models import CheckRun
from transforms import services as transform_services
from transforms.models import TransformJob, TransformStatus
from triage import services as triage_services
from triage.models import IncidentOwnership

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint() -> Endpoint:
    now = timezone.now()
    return Endpoint.objects.create(
        target="sandbox",
        account_id="123456789012",
        region="us-east-1",
        name="guarded",
        arn="arn:aws:sagemaker:us-east-1:123456789012:endpoint/guarded",
        status="InService",
        status_changed_at=now,
        creation_time=now,
        last_modified_time=now,
        synced_at=now,
        data_capture={"enabled": True, "destination_s3_uri": "s3://bucket/capture"},
    )


@pytest.fixture
def running_job() -> TransformJob:
    return TransformJob.objects.create(
        target="sandbox",
        account_id="123456789012",
        region="us-east-1",
        name="opsportal-guarded",
        model_name="m",
        input_uri="s3://bucket/in",
        output_path="s3://bucket/out",
        instance_type="ml.m5.xlarge",
        status=TransformStatus.IN_PROGRESS,
    )


def _launch() -> transform_services.TransformLaunch:
    return transform_services.TransformLaunch(
        target="sandbox",
        region="us-east-1",
        spec=TransformSpec(
            model_name="m", input_uri="s3://b/in", content_type="text/csv", output_path="s3://b/o"
        ),
    )


CALLS = {
    "inventory.refresh": (
        "Refreshing an endpoint needs the Operator role.",
        lambda actor, endpoint, job: endpoint_services.endpoint_refresh_request(
            endpoint=endpoint, actor=actor
        ),
    ),
    "endpoint.test_invoke": (
        "Sending a test request to an endpoint needs the Operator role.",
        lambda actor, endpoint, job: endpoint_services.endpoint_test_invoke(
            endpoint=endpoint, actor=actor, payload="1,2", content_type="text/csv"
        ),
    ),
    "monitoring.check_now": (
        "Running a data-quality check needs the Operator role.",
        lambda actor, endpoint, job: monitoring_services.check_run_request(
            endpoint=endpoint,
            start=timezone.now() - timedelta(hours=1),
            end=timezone.now(),
            baseline_uri="s3://bucket/baseline",
            actor=actor,
        ),
    ),
    "transform.launch": (
        "Launching a batch transform job needs the Operator role.",
        lambda actor, endpoint, job: transform_services.transform_job_launch(
            launch=_launch(), actor=actor
        ),
    ),
    "transform.stop": (
        "Stopping a batch transform job needs the Operator role.",
        lambda actor, endpoint, job: transform_services.transform_job_stop(job=job, actor=actor),
    ),
    "incident.take": (
        "Taking ownership of an incident needs the Operator role.",
        lambda actor, endpoint, job: triage_services.incident_take(
            endpoint_id=endpoint.pk, actor=actor, note="mine"
        ),
    ),
    "incident.release": (
        "Releasing an incident needs the Operator role.",
        lambda actor, endpoint, job: triage_services.incident_release(
            endpoint_id=endpoint.pk, actor=actor
        ),
    ),
}


@pytest.mark.parametrize("action", CALLS)
@pytest.mark.parametrize("role", ["Viewer", None])
def test_a_role_too_low_is_refused_and_audited_by_the_service(
    action, role, endpoint, running_job, user_factory
):
    why, call = CALLS[action]
    actor = user_factory("someone", role)
    before = AuditEntry.objects.count()
    with pytest.raises(Refused, match=why):
        call(actor, endpoint, running_job)
    entries = list(AuditEntry.objects.order_by("id")[before:])
    assert [(e.action, e.outcome, e.error, e.username) for e in entries] == [
        (action, "denied", why, "someone")
    ]
    # Nothing changed.
    assert not CheckRun.objects.exists() and not IncidentOwnership.objects.exists()
    assert TransformJob.objects.get().status == TransformStatus.IN_PROGRESS


def test_the_system_itself_is_no_operator(endpoint):
    """Code running as nobody (actor None) gets no role by default either."""
    with pytest.raises(Refused):
        endpoint_services.endpoint_refresh_request(endpoint=endpoint, actor=None)
    assert AuditEntry.objects.get().username == "system"
