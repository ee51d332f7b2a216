"""Alarms: an injected fault fires a sandbox alarm; the portal syncs it, shows its state
and history on the endpoint, and lists the endpoint on the overview."""

from __future__ import annotations

import json
import urllib.request

import boto3
import pytest
from django.conf import settings
from django.urls import reverse

from endpoints.services import inventory_sync
from monitoring.models import Alarm
from monitoring.services import alarm_sync
from tests.aws_actor import create_endpoint, flush_metrics, invoke

pytestmark = pytest.mark.django_db
TARGET = settings.OPSPORTAL_TARGETS[0]


def _post(url: str, body: dict | None = None) -> None:
    data = json.dumps(body or {}).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request)


@pytest.fixture
def firing(sandbox):
    """A fresh endpoint whose 5XX alarm fires after an injected 100 % error rate."""
    name = create_endpoint(sandbox.url, weights=(1.0,))
    cloudwatch = boto3.client(
        "cloudwatch",
        endpoint_url=sandbox.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    cloudwatch.put_metric_alarm(
        AlarmName=f"{name}-5xx-rate",
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[
            {"Name": "EndpointName", "Value": name},
            {"Name": "VariantName", "Value": "v0"},
        ],
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0.05,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    _post(f"{sandbox.url}/_sandbox/evaluate-alarms")
    _post(
        f"{sandbox.url}/_sandbox/faults", {"endpoint": name, "error_rate": 1.0, "error_kind": "5xx"}
    )
    try:
        for _ in range(5):
            with pytest.raises(Exception):  # noqa: B017 - every call fails by design
                invoke(sandbox.url, name)
    finally:
        _post(f"{sandbox.url}/_sandbox/faults", {"endpoint": name, "clear": True})
    flush_metrics(sandbox.url)
    _post(f"{sandbox.url}/_sandbox/evaluate-alarms")
    return name


def test_fired_alarm_is_synced_with_history_and_shown(firing, role_client):
    inventory_sync(target=TARGET, region="us-east-1")
    report = alarm_sync(target=TARGET, region="us-east-1")
    assert not report.error

    alarm = Alarm.objects.get(name=f"{firing}-5xx-rate")
    assert alarm.state == "ALARM" and alarm.endpoint_name == firing and alarm.variant_name == "v0"
    assert "Threshold Crossed" in alarm.reason
    assert any("to ALARM" in h["summary"] for h in alarm.history)

    client = role_client("Viewer")
    overview = client.get(reverse("overview")).content.decode()
    assert firing in overview and f"{firing}-5xx-rate" in overview
    from endpoints.models import Endpoint

    endpoint = Endpoint.objects.get(name=firing)
    page = client.get(reverse("monitoring:endpoint_metrics", args=[endpoint.pk])).content.decode()
    assert f'data-alarm="{firing}-5xx-rate"' in page and "ALARM" in page


def test_alarm_sync_failure_keeps_last_alarms(firing, monkeypatch):
    alarm_sync(target=TARGET, region="us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    from core.aws import clients

    clients.forget_clients()
    report = alarm_sync(target=TARGET, region="us-east-1")
    assert report.error
    assert Alarm.objects.filter(name=f"{firing}-5xx-rate", state="ALARM").exists()
    from core.models import SyncStatus

    assert SyncStatus.objects.get(
        kind="alarms", target=TARGET.name, region="us-east-1"
    ).failing_since
