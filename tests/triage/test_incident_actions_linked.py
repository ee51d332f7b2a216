"""A change request made during an incident is linked from the incident's "Actions
taken": the page links it to the change request's own page, and the post-mortem gives its
number and its path, so whoever reads either can open what was done."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.aws.clients import forget_clients
from monitoring.models import Alarm
from tests.shifts.helpers import make_endpoint
from tests.support.world import shift
from triage.incidents import incidents_sync
from triage.models import Incident

pytestmark = pytest.mark.django_db


def test_a_change_request_in_actions_taken_links_to_its_page(
    role_client, user_factory, monkeypatch
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # impact: not read, said so
    forget_clients()
    endpoint = make_endpoint("checkout")
    Alarm.objects.create(
        target="sandbox",
        account_id=endpoint.account_id,
        region=endpoint.region,
        name="checkout-5xx-rate",
        state="ALARM",
        reason="Threshold Crossed",
        endpoint_name=endpoint.name,
        state_updated_at=timezone.now() - timedelta(minutes=5),
        synced_at=timezone.now(),
    )
    incidents_sync()
    incident = Incident.objects.get()
    proposal_id = shift(endpoint, user_factory("alice", "Operator"))
    detail = reverse("shifts:detail", args=[proposal_id])
    assert detail == f"/shifts/{proposal_id}/"

    viewer = role_client("Viewer")
    page = viewer.get(reverse("triage:incident", args=[incident.pk]))
    actions = page.content.decode().split('data-testid="incident-actions"', 1)[1]
    actions = actions.split("</ol>", 1)[0]
    link = re.search(r'<a href="([^"]+)" data-testid="action-link">([^<]+)</a>', actions)
    assert link is not None, actions
    assert link.group(1) == detail
    assert link.group(2).startswith(f"change request #{proposal_id} (pending)")
    assert viewer.get(link.group(1)).status_code == 200

    markdown = viewer.get(reverse("triage:incident_postmortem", args=[incident.pk]))
    text = markdown.content.decode()
    section = text.split("## Actions taken", 1)[1].split("\n## ", 1)[0]
    [line] = [row for row in section.splitlines() if "change request" in row]
    assert f"change request #{proposal_id} (pending)" in line
    assert line.endswith(f"(`/shifts/{proposal_id}/`)")
    assert "alice" in line
