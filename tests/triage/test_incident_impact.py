"""An incident's impact is what its endpoint's callers saw: the requests answered with a
5XX while it lasted, out of all requests, and the minutes that had errors, read from
CloudWatch and shown the same on the incident page and in its post-mortem."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from sandbox.testing import control, replay_traffic
from tests.aws_actor import create_endpoint
from triage.models import Incident

pytestmark = pytest.mark.django_db
TARGET = settings.OPSPORTAL_TARGETS[0]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _minutes_of_traffic(url: str, name: str, plan: list[float]) -> list[dict]:
    """One replayed minute per entry of `plan` (v1's 5XX rate that minute), the last one
    two minutes ago; what the sandbox published for each."""
    now = time.time()
    minute = now - now % 60
    answers = []
    for back, error_rate in zip(range(len(plan) + 1, 1, -1), plan, strict=False):
        if error_rate:
            status, answer = control(
                url, "faults", body={"endpoint": name, "variant": "v1", "error_rate": error_rate}
            )
            assert status == 200, answer
        answers.append(replay_traffic(url, endpoint=name, requests=300, at=minute - 60 * back + 5))
        control(url, f"faults?endpoint={name}", method="DELETE")
    return answers


def test_the_impact_counts_the_errored_requests_and_the_minutes_they_fell_in(sandbox, role_client):
    name = create_endpoint(sandbox.url)
    # A quiet minute, two minutes where v1 fails every request, one where it fails a
    # fifth, and a quiet one: 3 minutes with errors.
    answers = _minutes_of_traffic(sandbox.url, name, [0.0, 1.0, 1.0, 0.2, 0.0])
    errors = sum(v["errors_5xx"] for a in answers for v in a["variants"].values())
    calls = sum(v["invocations"] for a in answers for v in a["variants"].values())
    bad = sum(1 for a in answers if any(v["errors_5xx"] for v in a["variants"].values()))
    assert bad == 3 and errors > 0 and calls == 1500

    inventory_sync(target=TARGET, region="us-east-1")
    endpoint = Endpoint.objects.get(name=name)
    now = timezone.now()
    incident = Incident.objects.create(
        endpoint=endpoint,
        state="open",
        opened_at=now - timedelta(minutes=10),
        first_signal=f"{name}-5xx-rate in ALARM",
        last_signal_at=now,
        updated_at=now,
    )

    viewer = role_client("Viewer")
    page = viewer.get(reverse("triage:incident", args=[incident.pk])).content.decode()
    shown = re.search(r'data-testid="incident-impact">(.*?)</dd>', page, re.S)
    assert shown is not None
    assert shown.group(1) == (
        f"{errors} requests with a 5XX error of {calls}, in 3 minutes with errors"
    )

    text = viewer.get(reverse("triage:incident_postmortem", args=[incident.pk])).content.decode()
    impact = text.split("## Impact", 1)[1].split("\n## ", 1)[0].strip()
    assert impact == (
        f"{errors:,} requests answered with a 5XX error out of {calls:,}, in 3 minutes with errors."
    )
