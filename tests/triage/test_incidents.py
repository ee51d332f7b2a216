"""Incidents as records: opened at the first symptom with the likely cause fixed, kept when
the alarm clears (cause and all) until someone resolves them, reopened when symptoms return
after a mitigation; moved on by Operators with notes, listed in the history, exported as a
post-mortem skeleton."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import AuditEntry
from core.aws.clients import forget_clients
from core.errors import Invalid, Refused
from monitoring.models import Alarm
from tests.apihistory.test_pages import event
from tests.shifts.helpers import make_endpoint
from triage.board import incident_board
from triage.incidents import incident_move, incidents_sync
from triage.models import Incident, IncidentState

pytestmark = pytest.mark.django_db


def _alarm(endpoint, *, minutes_ago: float) -> Alarm:
    since = timezone.now() - timedelta(minutes=minutes_ago)
    return Alarm.objects.create(
        target="sandbox",
        account_id=endpoint.account_id,
        region=endpoint.region,
        name=f"{endpoint.name}-5xx-rate",
        state="ALARM",
        reason="Threshold Crossed",
        endpoint_name=endpoint.name,
        state_updated_at=since,
        synced_at=timezone.now(),
    )


@pytest.fixture
def bad_deploy():
    """tumor-classifier: a deploy by CI 12 minutes before its 5XX alarm."""
    endpoint = make_endpoint("tumor-classifier")
    event(
        "UpdateEndpoint",
        at=timezone.now() - timedelta(minutes=20),
        endpoint="tumor-classifier",
        config="tumor-config-v3",
        principal="ci-deployer",
        identity="AssumedRole",
        params={"endpointName": "tumor-classifier", "endpointConfigName": "tumor-config-v3"},
    )
    alarm = _alarm(endpoint, minutes_ago=8)
    return endpoint, alarm


def test_an_incident_opens_at_the_first_symptom_with_its_cause_and_only_once(bad_deploy):
    endpoint, alarm = bad_deploy
    report = incidents_sync()
    assert report.opened == 1
    incident = Incident.objects.get(endpoint=endpoint)
    assert incident.state == IncidentState.OPEN
    assert incident.opened_at == alarm.state_updated_at
    assert "UpdateEndpoint" in incident.cause_text or "tumor-config-v3" in incident.cause_text
    assert incident.cause_note == "Found when the incident opened"
    assert [e.action for e in incident.events.all()] == ["open", "cause"]
    assert incidents_sync().opened == 0 and Incident.objects.count() == 1
    assert AuditEntry.objects.filter(action="incident.open").count() == 1


def test_when_the_alarm_clears_the_incident_stays_with_its_cause_until_resolved(
    bad_deploy, role_client
):
    endpoint, alarm = bad_deploy
    incidents_sync()
    cause = Incident.objects.get().cause_text
    alarm.state = "OK"
    alarm.save()
    assert incidents_sync().cleared == 1
    incident = Incident.objects.get()
    assert incident.signals_cleared_at is not None and incident.cause_text == cause
    # Still on the board, with the same cause: nobody has resolved it yet.
    [entry] = incident_board()
    assert entry.incident == incident and entry.cause is not None
    assert entry.cause.text == cause
    page = role_client("Viewer").get(reverse("triage:board")).content.decode()
    assert "symptoms cleared at" in page and f"Incident #{incident.pk}" in page


def test_symptoms_that_return_after_a_mitigation_reopen_it(bad_deploy, user_factory):
    endpoint, alarm = bad_deploy
    incidents_sync()
    operator = user_factory("oncall", "Operator")
    incident = Incident.objects.get()
    incident_move(incident_id=incident.pk, actor=operator, to="mitigated", note="shifted to B")
    alarm.state = "OK"
    alarm.save()
    incidents_sync()
    alarm.state = "ALARM"
    alarm.save()
    incidents_sync()
    incident.refresh_from_db()
    assert incident.state == IncidentState.OPEN
    assert [e.action for e in incident.events.all()][-3:] == [
        "symptoms cleared",
        "symptoms back",
        "reopen",
    ]


def test_people_move_it_on_with_notes_and_viewers_cannot(bad_deploy, user_factory):
    incidents_sync()
    incident = Incident.objects.get()
    viewer = user_factory("watcher", "Viewer")
    operator = user_factory("oncall", "Operator")
    with pytest.raises(Refused):
        incident_move(incident_id=incident.pk, actor=viewer, to="acknowledged")
    with pytest.raises(Invalid, match="needs a note"):
        incident_move(incident_id=incident.pk, actor=operator, to="resolved")
    incident_move(incident_id=incident.pk, actor=operator, to="acknowledged")
    incident_move(incident_id=incident.pk, actor=operator, to="resolved", note="rolled back to v2")
    incident.refresh_from_db()
    assert incident.state == IncidentState.RESOLVED and incident.resolved_at is not None
    assert AuditEntry.objects.filter(action="incident.resolved", username="oncall").exists()
    # Resolved: off the board (the alarm still fires, so a new incident would open on sync).
    assert all(e.incident is None for e in incident_board())


def test_history_lists_and_filters_incidents_and_bad_filters_are_refused(bad_deploy, role_client):
    incidents_sync()
    client = role_client("Viewer")
    page = client.get(reverse("triage:incidents"), {"state": "open", "endpoint": "tumor"})
    assert page.status_code == 200 and "tumor-classifier" in page.content.decode()
    page = client.get(reverse("triage:incidents"), {"state": "resolved"})
    assert "No incident matches." in page.content.decode()
    assert client.get(reverse("triage:incidents"), {"state": "nope"}).status_code == 400


@pytest.fixture
def viewer(role_client):
    return role_client("Viewer")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.dictionaries(st.sampled_from(["state", "endpoint", "since", "page"]), st.text()))
def test_any_history_query_gets_a_page_never_a_server_error(viewer, query):
    response = viewer.get(reverse("triage:incidents"), query)
    assert response.status_code in (200, 400)


def test_the_incident_page_and_its_post_mortem(bad_deploy, role_client, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # CloudWatch unreachable
    forget_clients()
    endpoint, _alarm_ = bad_deploy
    incidents_sync()
    incident = Incident.objects.get()
    client = role_client("Operator")
    page = client.get(reverse("triage:incident", args=[incident.pk])).content.decode()
    assert "Incident #" in page and "not read from CloudWatch" in page
    assert 'data-testid="move-acknowledged"' in page
    client.post(
        reverse("triage:incident_move", args=[incident.pk, "mitigated"]),
        {"note": "emergency shift to B"},
    )
    markdown = client.get(reverse("triage:incident_postmortem", args=[incident.pk]))
    assert markdown["Content-Type"].startswith("text/markdown")
    text = markdown.content.decode()
    for heading in ("## Impact", "## Likely cause", "## Timeline", "## Actions taken"):
        assert heading in text
    assert "emergency shift to B" in text and "# Incident #" in text
