"""Check now: an Operator checks an endpoint's captured data against a baseline, with or
without a monitoring schedule; bad input is refused with a message and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from monitoring import tasks
from monitoring.models import CheckRun
from monitoring.services import check_now
from monitoring.services.model_monitor import monitor_sync
from sandbox.testing import MONITORED_ENDPOINT, baseline_uri, bucket_name
from tests.monitoring.monitor_world import (
    DRIFTED_FEATURE,
    REQUESTS,
    capturing_endpoint,
    drift,
    send_traffic,
)

pytestmark = pytest.mark.django_db
TARGET = settings.OPSPORTAL_TARGETS[0]
REGION = "us-east-1"


@pytest.fixture
def post_check(django_capture_on_commit_callbacks):
    """POST the Check now form, running the queued task as a commit would."""

    def post(client, endpoint: Endpoint, **data):
        data.setdefault("window", "1h")
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("monitoring:endpoint_check_now", args=[endpoint.pk]), data)

    return post


def _run_from(response) -> CheckRun:
    assert response.status_code == 302, response.content.decode()[:2000]
    return CheckRun.objects.get(pk=int(response["Location"].split("check=")[1].split("#")[0]))


def test_check_with_the_schedules_baseline_finds_the_drifted_feature(
    sandbox, role_client, post_check
):
    inventory_sync(target=TARGET, region=REGION)
    monitor_sync(target=TARGET, region=REGION)
    endpoint = Endpoint.objects.get(name=MONITORED_ENDPOINT, region=REGION)
    with drift(sandbox):
        send_traffic(sandbox)
    client = role_client("Operator")
    run = _run_from(post_check(client, endpoint))
    run.refresh_from_db()
    assert run.status == "completed", run.error
    assert run.baseline_source.startswith("schedule ")
    assert run.rows >= 100 and run.objects_read >= 1
    assert {(v["feature_name"], v["constraint_check_type"]) for v in run.violations} == {
        (DRIFTED_FEATURE, "baseline_drift_check")
    }
    assert max(run.drift, key=run.drift.get) == DRIFTED_FEATURE
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"monitoring.check_now", "monitoring.check_now.finish"} <= actions

    status = client.get(reverse("monitoring:check_run_status", args=[endpoint.pk, run.pk]))
    page = status.content.decode()
    assert 'data-status="completed"' in page and "hx-trigger" not in page
    assert f'data-feature="{DRIFTED_FEATURE}" data-check="baseline_drift_check"' in page
    # The Recent checks table comes in the same answer, swapped out of band, so it never
    # says Running under a finished check.
    recent = page.split('id="check-runs"', 1)[1]
    assert recent.startswith(' data-testid="check-runs" hx-swap-oob="true"')
    assert f'href="?check={run.pk}#check-now"' in recent and run.get_status_display() in recent
    assert "Running" not in recent
    tab = client.get(
        reverse("monitoring:endpoint_monitoring", args=[endpoint.pk]), {"check": run.pk}
    )
    assert 'data-testid="check-run"' in tab.content.decode()


def test_check_of_an_endpoint_without_schedule_uses_the_given_baseline(
    sandbox, role_client, post_check
):
    name = capturing_endpoint(sandbox.url)
    send_traffic(sandbox, name)
    inventory_sync(target=TARGET, region=REGION)
    endpoint = Endpoint.objects.get(name=name, region=REGION)
    client = role_client("Operator")

    refused = post_check(client, endpoint)
    assert refused.status_code == 400 and "No baseline" in refused.content.decode()
    assert not CheckRun.objects.exists()

    run = _run_from(post_check(client, endpoint, baseline_uri=baseline_uri(REGION)))
    run.refresh_from_db()
    assert run.status == "completed", run.error
    assert run.rows == REQUESTS and run.violations == [] and run.violation_count == 0
    assert run.baseline_source == baseline_uri(REGION)
    # A file inside the baseline folder names the folder too.
    run = _run_from(
        post_check(client, endpoint, baseline_uri=f"{baseline_uri(REGION)}/statistics.json")
    )
    assert run.statistics_uri == f"{baseline_uri(REGION)}/statistics.json"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"baseline_uri": "http://bucket/baseline"}, "is not an S3 URI"),
        ({"baseline_uri": f"s3://{bucket_name(REGION)}/nothing/here"}, "No baseline statistics"),
        ({"window": "custom", "start": "2030-01-01T10:00", "end": "2030-01-01T09:00"}, "empty"),
        (
            {
                "window": "custom",
                "start": "2020-01-01T10:00",
                "end": "2020-01-01T11:00",
                "baseline_uri": baseline_uri(REGION),
            },
            "No captured",
        ),
        ({"window": "custom"}, "needs both a start and an end"),
    ],
    ids=["bad-uri", "missing-baseline", "empty-window", "no-data", "no-bounds"],
)
def test_bad_input_is_refused_and_changes_nothing(sandbox, role_client, post_check, data, message):
    inventory_sync(target=TARGET, region=REGION)
    endpoint = Endpoint.objects.get(name=MONITORED_ENDPOINT, region=REGION)
    client = role_client("Operator")
    audits = AuditEntry.objects.count()
    response = post_check(client, endpoint, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CheckRun.objects.exists() and AuditEntry.objects.count() == audits


def test_an_endpoint_without_data_capture_is_refused(sandbox, role_client, post_check):
    inventory_sync(target=TARGET, region=REGION)
    endpoint = Endpoint.objects.filter(region=REGION, data_capture__isnull=True).first()
    response = post_check(role_client("Operator"), endpoint, baseline_uri=baseline_uri(REGION))
    assert response.status_code == 400
    assert "does not capture its data" in response.content.decode()
    assert not CheckRun.objects.exists()


def _lost_endpoint() -> Endpoint:
    now = timezone.now()
    return Endpoint.objects.create(
        target="sandbox",
        account_id="123456789012",
        region=REGION,
        name="lost",
        arn="arn:aws:sagemaker:us-east-1:123456789012:endpoint/lost",
        status="InService",
        status_changed_at=now,
        creation_time=now,
        last_modified_time=now,
        synced_at=now,
    )


def _run(endpoint: Endpoint, **fields) -> CheckRun:
    now = timezone.now()
    return CheckRun.objects.create(
        endpoint=endpoint,
        window_start=now - timedelta(hours=1),
        window_end=now,
        capture_uri="s3://bucket/capture",
        statistics_uri="s3://bucket/b/statistics.json",
        constraints_uri="s3://bucket/b/constraints.json",
        **fields,
    )


def test_sweeper_requeues_a_lost_check(db, monkeypatch, django_capture_on_commit_callbacks):
    now = timezone.now()
    endpoint = _lost_endpoint()
    killed = _run(
        endpoint,
        created_at=now - timedelta(hours=2),
        started_at=now - timedelta(hours=1),
        status="running",
    )
    never_sent = _run(endpoint, created_at=now - timedelta(hours=1), status="pending")
    queued: list[int] = []
    monkeypatch.setattr(
        tasks.check_run_execute, "apply_async", lambda args, **options: queued.append(args[0])
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert check_now.check_run_sweep() == 2
    for run in (killed, never_sent):
        run.refresh_from_db()
        assert run.status == "pending"
    assert sorted(queued) == sorted([killed.pk, never_sent.pk])


def test_a_long_running_check_is_not_started_twice(
    db, monkeypatch, settings, django_capture_on_commit_callbacks
):
    """Requested long ago but started a minute ago: it is running, not lost."""
    now = timezone.now()
    settings.OPSPORTAL_CHECK_STUCK_SECONDS = 600
    run = _run(
        _lost_endpoint(),
        created_at=now - timedelta(hours=3),
        started_at=now - timedelta(minutes=1),
        status="running",
    )
    queued: list[int] = []
    monkeypatch.setattr(
        tasks.check_run_execute, "apply_async", lambda args, **options: queued.append(args[0])
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert check_now.check_run_sweep() == 0
        # Even a sweep run just past the stuck setting leaves it: the task time limit is the
        # longest a check can run.
        later = now + timedelta(seconds=601)
        settings.CELERY_TASK_TIME_LIMIT = 1800
        assert check_now.check_run_sweep(now=later) == 0
    run.refresh_from_db()
    assert run.status == "running" and queued == []


def test_a_superseded_attempt_does_not_overwrite_the_run(db, monkeypatch):
    """A worker that comes back after its run was handed to another attempt keeps quiet."""
    run = _run(_lost_endpoint(), created_at=timezone.now(), status="pending")

    def slow_check(started):
        # Meanwhile the sweeper handed the run to another attempt, which started it again.
        CheckRun.objects.filter(pk=run.pk).update(started_at=timezone.now() + timedelta(hours=1))
        raise check_now.CheckFailed("late")

    monkeypatch.setattr(check_now, "_check", slow_check)
    assert check_now.check_run_execute(run_id=run.pk) == "superseded: running"
    run.refresh_from_db()
    assert run.status == "running" and run.error == ""
