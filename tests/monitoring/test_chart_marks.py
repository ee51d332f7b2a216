"""The Metrics tab marks the deploys, traffic shifts and scaling the inventory saw, from
the endpoint's recorded states (monitoring may not read shifts or triage)."""

from __future__ import annotations

import json
from datetime import timedelta
from html import unescape

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from endpoints.models import EndpointSnapshot
from monitoring.live import metrics
from monitoring.selectors import change_marks
from tests.monitoring.chart_world import FakeCloudWatch, chart_endpoint, hour_range

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _state(endpoint, minutes_ago, *, config="c1", weights=(1.0, 1.0), counts=(1, 1), model="m1"):
    at = timezone.now() - timedelta(minutes=minutes_ago)
    variants = {
        name: {
            "position": index,
            "weight": weights[index],
            "desired_weight": weights[index],
            "current_instance_count": counts[index],
            "desired_instance_count": counts[index],
            "instance_type": "ml.m5.large",
            "model_name": model if name == "B" else "m1",
            "image": "img",
            "serverless": None,
            "is_shadow": False,
        }
        for index, name in enumerate(("A", "B"))
    }
    return EndpointSnapshot.objects.create(
        endpoint=endpoint,
        observed_at=at,
        status="InService",
        config_name=config,
        variants=variants,
        fingerprint=f"{config}-{at.timestamp()}",
    )


def test_deploys_shifts_and_scaling_become_marks_with_what_changed():
    endpoint = chart_endpoint("changing", variants={"A": False, "B": False})
    _state(endpoint, 120)
    deploy = _state(endpoint, 50, config="c2", model="m2")
    _state(endpoint, 40, config="c2", model="m2", weights=(1.0, 3.0))
    _state(endpoint, 30, config="c2", model="m2", weights=(1.0, 3.0), counts=(1, 3))

    marks = change_marks(
        endpoint=endpoint, start=timezone.now() - timedelta(hours=1), end=timezone.now()
    )

    assert [(m["kind"], m["label"]) for m in marks] == [
        ("deploy", "deploy"),
        ("traffic", "traffic shift"),
        ("scaling", "scale out"),
    ]
    assert marks[0]["time"] == deploy.observed_at.isoformat()
    assert "endpoint config c1 → c2" in marks[0]["detail"]
    assert "variant B model m1 → m2" in marks[0]["detail"]
    assert "variant B weight 1 (50.0%) → 3 (75.0%)" in marks[1]["detail"]
    assert marks[2]["detail"] == "variant B instances 1 → 3"


def test_the_first_state_seen_is_not_a_change():
    endpoint = chart_endpoint("found", variants={"A": False, "B": False})
    _state(endpoint, 10)
    now = timezone.now()
    assert change_marks(endpoint=endpoint, start=now - timedelta(hours=1), end=now) == []


def test_the_panel_carries_the_marks_for_its_range(role_client, monkeypatch):
    endpoint = chart_endpoint("marked", variants={"A": False, "B": False})
    _state(endpoint, 300)
    _state(endpoint, 90, weights=(1.0, 3.0))  # before the range: not drawn
    _state(endpoint, 20, weights=(1.0, 3.0), counts=(2, 1))
    monkeypatch.setattr(metrics.aws_cloudwatch, "get_metric_data", FakeCloudWatch(hour_range()))

    body = (
        role_client("Viewer")
        .get(reverse("monitoring:endpoint_metrics_panel", args=[endpoint.pk]), {"range": "1h"})
        .content.decode()
    )

    marks = json.loads(unescape(body.split('data-marks="')[1].split('"')[0]))
    assert [(m["kind"], m["label"]) for m in marks] == [("scaling", "scale out")]
