"""Small rows for tests that need one of each thing a page can show (no AWS behind them)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from endpoints.models import Endpoint, Variant


def matrix_endpoint(*, variants: int = 0) -> Endpoint:
    """An InService inventory endpoint called `matrix`, with variants A, B, … at equal
    weights if asked."""
    now = timezone.now()
    endpoint = Endpoint.objects.create(
        target="sandbox",
        account_id="123456789012",
        region="us-east-1",
        name="matrix",
        arn="arn:aws:sagemaker:us-east-1:123456789012:endpoint/matrix",
        status="InService",
        status_changed_at=now,
        creation_time=now,
        last_modified_time=now,
        synced_at=now,
    )
    for index in range(variants):
        Variant.objects.create(
            endpoint=endpoint,
            name="ABCDEFGH"[index],
            position=index,
            instance_type="ml.m5.large",
            current_weight=1.0,
            desired_weight=1.0,
            current_instance_count=1,
            desired_instance_count=1,
        )
    return endpoint


def shift(endpoint: Endpoint, proposer, *, kind: str = "normal") -> int:
    """A pending proposal (or an applied emergency shift) made by `proposer`."""
    from shifts.models import ShiftProposal

    now = timezone.now()
    return ShiftProposal.objects.create(
        endpoint=endpoint,
        proposer=proposer,
        kind=kind,
        state="pending" if kind == "normal" else "applied",
        reason="matrix",
        before_weights={},
        desired_weights={"A": 1.0},
        created_at=now,
        expires_at=now + timedelta(hours=1),
        updated_at=now,
    ).pk


def transform_job():
    """A completed portal job (its AWS calls go to a closed port and degrade)."""
    from transforms.models import TransformJob

    return TransformJob.objects.create(
        target="sandbox",
        account_id="123456789012",
        region="us-east-1",
        name="opsportal-matrix",
        model_name="m",
        input_uri="s3://bucket/in.csv",
        instance_type="ml.m5.xlarge",
        output_path="s3://bucket/out",
        status="Completed",
    )


def trail_event():
    from apihistory.models import TrailEvent

    return TrailEvent.objects.create(
        event_id="matrix-event",
        target="sandbox",
        account_id="123456789012",
        region="us-east-1",
        event_time=timezone.now(),
        event_source="sagemaker.amazonaws.com",
        event_name="UpdateEndpoint",
        read_only=False,
        identity_type="IAMUser",
        endpoint_name="matrix",
        record={"eventName": "UpdateEndpoint"},
        search_text="updateendpoint matrix",
    )


def check_run(endpoint: Endpoint):
    from monitoring.models import CheckRun

    now = timezone.now()
    return CheckRun.objects.create(
        endpoint=endpoint,
        window_start=now - timedelta(hours=1),
        window_end=now,
        capture_uri="s3://bucket/capture",
        statistics_uri="s3://bucket/baseline/statistics.json",
        constraints_uri="s3://bucket/baseline/constraints.json",
        created_at=now,
        status="completed",
    )


def incident(endpoint: Endpoint):
    """An open incident on the endpoint, opened a few minutes ago by an alarm."""
    from triage.models import Incident

    now = timezone.now()
    return Incident.objects.create(
        endpoint=endpoint,
        opened_at=now - timedelta(minutes=5),
        first_signal="matrix-5xx in ALARM",
        last_signal_at=now,
        updated_at=now,
    )
