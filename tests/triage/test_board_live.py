"""The board and the overview keep themselves current (htmx polls for the live part alone,
with the time it was read), and the likely cause is only a change made shortly before the
first symptom: an older one is not blamed, and the card says none was found in the window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from endpoints.models import Endpoint
from tests.apihistory.test_pages import event
from tests.shifts.helpers import make_endpoint
from triage.board import incident_board

pytestmark = pytest.mark.django_db


def _failed(name: str, *, minutes_ago: float) -> Endpoint:
    endpoint = make_endpoint(name, status="Failed")
    Endpoint.objects.filter(pk=endpoint.pk).update(
        failure_reason="Model artifact not found",
        status_changed_at=timezone.now() - timedelta(minutes=minutes_ago),
    )
    return Endpoint.objects.get(pk=endpoint.pk)


def test_a_change_outside_the_window_is_not_blamed_and_the_card_says_so(role_client, settings):
    settings.OPSPORTAL_CAUSE_WINDOW_MINUTES = 60
    endpoint = _failed("churn", minutes_ago=5)
    event("CreateEndpoint", at=timezone.now() - timedelta(minutes=95), endpoint="churn")
    [entry] = incident_board()
    assert entry.cause is None
    page = role_client("Viewer").get(reverse("triage:board")).content.decode()
    assert "no change to this endpoint or its configs in the 60 min before it became Failed" in (
        page
    )
    settings.OPSPORTAL_CAUSE_WINDOW_MINUTES = 120
    [entry] = incident_board()
    assert entry.cause is not None and entry.cause.event.event_name == "CreateEndpoint"
    assert endpoint.name == entry.endpoint.name


def test_the_cause_line_does_not_repeat_the_failure_reason(role_client):
    _failed("churn", minutes_ago=5)
    event("UpdateEndpoint", at=timezone.now() - timedelta(minutes=12), endpoint="churn")
    [entry] = incident_board()
    assert entry.cause is not None
    assert entry.cause.text.count("Model artifact not found") == 0
    assert "before it became Failed" in entry.cause.text
    page = role_client("Viewer").get(reverse("triage:board")).content.decode()
    assert page.count("Model artifact not found") == 1  # on the signal's own line


def test_an_htmx_poll_gets_the_board_alone_with_when_it_was_read(role_client):
    _failed("churn", minutes_ago=5)
    client = role_client("Viewer")
    polled = client.get(reverse("triage:board"), headers={"HX-Request": "true"})
    body = polled.content.decode()
    assert polled.status_code == 200 and "<html" not in body
    assert body.startswith('<div id="board"') and 'hx-trigger="every 10s"' in body
    assert "Updated " in body and 'data-endpoint="churn"' in body
    full = client.get(reverse("triage:board")).content.decode()
    assert "<html" in full and 'id="board"' in full


def test_an_htmx_poll_gets_the_overview_alone(role_client):
    _failed("churn", minutes_ago=5)
    polled = role_client("Viewer").get(reverse("overview"), headers={"HX-Request": "true"})
    body = polled.content.decode()
    assert "<html" not in body and body.startswith('<div id="overview"')
    assert 'data-testid="overview-updated"' in body and "churn" in body
