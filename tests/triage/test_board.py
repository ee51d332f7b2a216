"""The incident board ranks what needs attention, names the likely cause, and lets an
on-call engineer take the incident with a note (audited) and copy a summary."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from endpoints.models import Endpoint
from monitoring.models import Alarm
from shifts.models import ShiftProposal
from tests.apihistory.test_pages import event
from tests.shifts.helpers import make_endpoint
from triage.board import incident_board, runbook_url
from triage.models import IncidentOwnership
from triage.summary import incident_summary

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def ago(minutes: float):
    return NOW - timedelta(minutes=minutes)


def firing(endpoint: Endpoint, name: str, *, since):
    return Alarm.objects.create(
        target="sandbox",
        account_id=endpoint.account_id,
        region=endpoint.region,
        name=name,
        state="ALARM",
        reason="Threshold Crossed: 1 datapoint [0.31] was greater than the threshold (0.05).",
        endpoint_name=endpoint.name,
        state_updated_at=since,
        synced_at=NOW,
        history=[
            {
                "time": since.isoformat(),
                "type": "StateUpdate",
                "summary": "Alarm updated from OK to ALARM",
            }
        ],
    )


@pytest.fixture
def world(user_factory):
    """tumor-classifier: deployed by CI 12 min before its 5XX alarm; churn: Failed;
    fraud: healthy; iris: an emergency shift nobody acknowledged."""
    tumor = make_endpoint("tumor-classifier")
    event(
        "UpdateEndpoint",
        at=ago(32),
        endpoint="tumor-classifier",
        config="tumor-config-v3",
        principal="ci-deployer",
        identity="AssumedRole",
        params={"endpointName": "tumor-classifier", "endpointConfigName": "tumor-config-v3"},
    )
    event("UpdateEndpoint", at=ago(25), endpoint="tumor-classifier", error="AccessDenied")
    firing(tumor, "tumor-classifier-5xx-rate", since=ago(20))
    churn = make_endpoint("churn-serverless", status="Failed")
    Endpoint.objects.filter(pk=churn.pk).update(
        failure_reason="Model artifact not found", status_changed_at=ago(90)
    )
    make_endpoint("fraud-detection")
    iris = make_endpoint("iris-classifier")
    admin = user_factory("night-admin", "Admin")
    ShiftProposal.objects.create(
        endpoint=iris,
        proposer=admin,
        kind="emergency",
        state="applied",
        reason="latency",
        before_weights={"A": 50.0, "B": 50.0},
        desired_weights={"A": 100.0, "B": 0.0},
        created_at=ago(5),
        expires_at=ago(-60),
        updated_at=ago(5),
        finished_at=ago(5),
    )
    return {"tumor": tumor, "churn": churn, "iris": iris}


def test_board_ranks_alarms_first_and_names_the_deploy_as_likely_cause(world):
    entries = incident_board()
    assert [e.endpoint.name for e in entries] == [
        "tumor-classifier",
        "churn-serverless",
        "iris-classifier",
    ]
    tumor = entries[0]
    assert [s.kind for s in tumor.signals] == ["alarm"]
    # The failed call at -25 min changed nothing: the successful deploy at -32 is the cause.
    assert tumor.cause is not None
    assert tumor.cause.text == (
        "endpoint tumor-classifier updated to config tumor-config-v3 12 min before "
        "tumor-classifier-5xx-rate in ALARM, by role ci-deployer"
    )
    assert "Model artifact not found" in entries[1].signals[0].text
    assert entries[1].cause is None
    assert entries[2].signals[0].kind == "emergency"


def test_taking_ownership_shows_on_the_board_and_is_audited(world, role_client):
    operator = role_client("Operator")
    tumor = world["tumor"]
    response = operator.post(
        reverse("triage:take", args=[tumor.pk]), {"note": "rolling back B's deploy"}
    )
    assert response.status_code == 302
    owner = IncidentOwnership.objects.get(endpoint=tumor, released_at__isnull=True)
    assert owner.note == "rolling back B's deploy"
    entry = AuditEntry.objects.get(action="incident.take")
    assert entry.after == {"owner": owner.owner.get_username(), "note": "rolling back B's deploy"}
    viewer_page = role_client("Viewer").get(reverse("triage:board")).content.decode()
    card = viewer_page.split('data-endpoint="tumor-classifier"', 1)[1].split("</section>", 1)[0]
    assert f"owned by {owner.owner.get_username()}" in card
    assert "rolling back B&#x27;s deploy" in card


def test_overview_card_shows_the_most_urgent_without_a_query_per_incident(world, role_client):
    viewer = role_client("Viewer")
    url = reverse("overview")
    viewer.get(url)
    with CaptureQueriesContext(connection) as before:
        page = viewer.get(url).content.decode()
    card = page[page.index('data-testid="incidents-card"') :]
    assert card.index("tumor-classifier") < card.index("churn-serverless")
    assert "tumor-classifier-5xx-rate in ALARM" in card

    for number in range(4):
        make_endpoint(f"broken-{number}", status="Failed")
    with CaptureQueriesContext(connection) as after:
        page = viewer.get(url).content.decode()
    assert "7</p>" in page[page.index('data-testid="incidents-card"') :]
    assert len(after) == len(before)


def test_auto_scaling_alarms_firing_are_not_incidents(world, role_client):
    fraud = Endpoint.objects.get(name="fraud-detection")
    resource = f"endpoint/{fraud.name}/variant/A"
    firing(fraud, f"TargetTracking-{resource}-AlarmLow-5a1c", since=ago(30))
    assert "fraud-detection" not in [e.endpoint.name for e in incident_board()]
    viewer = role_client("Viewer")
    assert "fraud-detection" not in viewer.get(reverse("overview")).content.decode()

    tab = viewer.get(reverse("monitoring:endpoint_metrics", args=[fraud.pk])).content.decode()
    row = tab[tab.index(f'data-alarm="TargetTracking-{resource}') :]
    assert "its ALARM means scale in, not trouble" in row[: row.index("</tr>")]
    firing(fraud, "fraud-detection-5xx-rate", since=ago(5))
    tab = viewer.get(reverse("monitoring:endpoint_metrics", args=[fraud.pk])).content.decode()
    assert tab.index('data-alarm="fraud-detection-5xx-rate"') < tab.index(
        f'data-alarm="TargetTracking-{resource}'
    )


def test_taking_over_releases_the_previous_owner(world, user_factory):
    from triage.services import incident_take

    first, second = user_factory("first", "Operator"), user_factory("second", "Operator")
    incident_take(endpoint_id=world["tumor"].pk, actor=first, note="looking")
    incident_take(endpoint_id=world["tumor"].pk, actor=second, note="taking over, first is off")
    rows = list(IncidentOwnership.objects.filter(endpoint=world["tumor"]).order_by("taken_at"))
    assert [(r.owner, r.released_by) for r in rows] == [(first, second), (second, None)]


def test_ownership_needs_a_note_and_the_operator_role(world, role_client):
    tumor = world["tumor"]
    response = role_client("Operator").post(reverse("triage:take", args=[tumor.pk]), {"note": ""})
    assert response.status_code == 302
    assert not IncidentOwnership.objects.exists()
    assert (
        role_client("Viewer")
        .post(reverse("triage:take", args=[tumor.pk]), {"note": "x"})
        .status_code
        == 403
    )
    assert not IncidentOwnership.objects.exists()


def test_summary_has_what_since_when_the_change_and_the_actions(world, user_factory):
    from triage.services import incident_take

    incident_take(
        endpoint_id=world["tumor"].pk, actor=user_factory("sam", "Operator"), note="on it"
    )
    entry = next(e for e in incident_board() if e.endpoint.name == "tumor-classifier")
    text = incident_summary(entry=entry, now=NOW)
    assert text.startswith("**tumor-classifier** (us-east-1, account 123456789012)")
    assert "tumor-classifier-5xx-rate in ALARM" in text and "(20 min)" in text
    assert "UpdateEndpoint by ci-deployer (AssumedRole) — config tumor-config-v3" in text
    assert "sam took ownership: on it" in text
    assert "Threshold Crossed" in text


def test_summary_page_for_an_endpoint_not_on_the_board(world, role_client):
    fraud = Endpoint.objects.get(name="fraud-detection")
    body = role_client("Viewer").get(reverse("triage:summary", args=[fraud.pk])).content
    assert b'data-testid="no-incident"' in body


def test_runbook_from_tag_then_setting_then_template(world, settings):
    tumor = world["tumor"]
    settings.OPSPORTAL_RUNBOOK_URL_TEMPLATE = "https://wiki.example.com/{region}/{endpoint}"
    assert runbook_url(tumor) == "https://wiki.example.com/us-east-1/tumor-classifier"
    settings.OPSPORTAL_RUNBOOK_URLS = {"tumor-classifier": "https://wiki.example.com/tumor"}
    assert runbook_url(tumor) == "https://wiki.example.com/tumor"
    tumor.tags = {"Runbook": "https://runbooks/t"}
    assert runbook_url(tumor) == "https://runbooks/t"
    # A tag anyone with tagging rights can set never becomes a script or data link.
    for hostile in ("javascript:alert(1)", "data:text/html,<b>x</b>", " java\tscript:x"):
        tumor.tags = {"runbook": hostile}
        assert runbook_url(tumor) == "https://wiki.example.com/tumor"


def _snapshot(endpoint: Endpoint, *, at, config: str, models: dict[str, str]):
    from endpoints.models import EndpointSnapshot

    variants = {
        name: {
            "position": index,
            "weight": 50.0,
            "desired_weight": 50.0,
            "current_instance_count": 1,
            "desired_instance_count": 1,
            "instance_type": "ml.m5.large",
            "model_name": model,
            "image": "sagemaker-xgboost:1.7",
            "serverless": None,
            "is_shadow": False,
        }
        for index, (name, model) in enumerate(models.items())
    }
    return EndpointSnapshot.objects.create(
        endpoint=endpoint,
        observed_at=at,
        last_modified_time=at,
        status="InService",
        config_name=config,
        variants=variants,
        fingerprint=f"{config}-{at.timestamp()}",
    )


def test_likely_cause_names_the_model_the_deploy_put_on_a_variant(world):
    tumor = world["tumor"]
    _snapshot(
        tumor, at=ago(120), config="tumor-config-v2", models={"A": "tumor-v1", "B": "tumor-v2"}
    )
    _snapshot(
        tumor, at=ago(29), config="tumor-config-v3", models={"A": "tumor-v1", "B": "tumor-v3"}
    )
    cause = incident_board()[0].cause
    assert cause.text == (
        "variant B model tumor-v2 → tumor-v3 12 min before tumor-classifier-5xx-rate in ALARM, "
        "by role ci-deployer"
    )


def test_changes_without_snapshots_are_described_from_their_request(world):
    from triage.board import describe_change

    weights = event(
        "UpdateEndpointWeightsAndCapacities",
        endpoint="fraud-detection",
        params={
            "endpointName": "fraud-detection",
            "desiredWeightsAndCapacities": [
                {"variantName": "A", "desiredWeight": 90.0, "desiredInstanceCount": 2},
                {"variantName": "B", "desiredWeight": 10.0},
            ],
        },
    )
    config = event(
        "CreateEndpointConfig",
        config="fraud-config-v4",
        params={
            "endpointConfigName": "fraud-config-v4",
            "productionVariants": [{"variantName": "B", "modelName": "fraud-model-v4"}],
        },
    )
    assert describe_change(weights) == (
        "weights changed (A: weight 90.0, 2 instances; B: weight 10.0)"
    )
    assert describe_change(config) == "config fraud-config-v4 created (B → model fraud-model-v4)"


def test_summary_shows_aws_text_and_notes_as_typed_not_as_markdown(world, user_factory):
    from triage.services import incident_take

    fraud = Endpoint.objects.get(name="fraud-detection")
    firing(fraud, "*[urgent](javascript:alert(1))* `x`", since=ago(5))
    incident_take(endpoint_id=fraud.pk, actor=user_factory("kim", "Operator"), note="<b>me</b>")
    entry = next(e for e in incident_board() if e.endpoint.name == "fraud-detection")
    text = incident_summary(entry=entry, now=NOW)
    assert r"- \*\[urgent\](javascript:alert(1))\* \`x\` in ALARM" in text
    assert r"kim took ownership: \<b\>me\</b\>" in text
    assert "[urgent]" not in text and "<b>" not in text
