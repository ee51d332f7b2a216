"""The API history pages: filters and search return exactly the matching events, pages
walk the history without gaps or repeats, bad input is refused, and an endpoint's
Changes tab lists the writes on it and its configs with who, from where and what."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apihistory.models import TrailEvent
from apihistory.search import search_text_for
from apihistory.selectors import TRAIL_KEYSET, TrailFilters, trail_events_page
from core.targets import parse_targets
from endpoints.models import Endpoint

pytestmark = pytest.mark.django_db

ACCOUNT = "123456789012"
NOW = timezone.now().replace(microsecond=0)
_ids = itertools.count(1)


def event(
    name: str,
    *,
    minutes_ago: float = 0,
    endpoint: str = "",
    config: str = "",
    principal: str = "maria.data-scientist",
    identity: str = "IAMUser",
    error: str = "",
    read_only: bool | None = None,
    ip: str = "203.0.113.7",
    params: dict | None = None,
    region: str = "us-east-1",
    request_id: str = "",
    at: datetime | None = None,
    target: str = "sandbox",
) -> TrailEvent:
    """A stored event as ingestion would store it (columns plus the record)."""
    number = next(_ids)
    when = at or NOW - timedelta(minutes=minutes_ago)
    if read_only is None:
        read_only = name.startswith(("Describe", "List"))
    arn = (
        f"arn:aws:iam::{ACCOUNT}:user/{principal}"
        if identity == "IAMUser"
        else f"arn:aws:sts::{ACCOUNT}:assumed-role/{principal}/session-{number}"
    )
    params = params if params is not None else ({"endpointName": endpoint} if endpoint else {})
    record = {
        "eventID": f"ev-{number}",
        "eventName": name,
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "requestParameters": params,
        "sourceIPAddress": ip,
        "userIdentity": {"type": identity, "arn": arn},
        "errorCode": error or None,
    }
    words = [name, principal, arn, ip, endpoint, config, error, *map(str, params.values())]
    return TrailEvent.objects.create(
        event_id=f"ev-{number}",
        target=target,
        account_id=ACCOUNT,
        region=region,
        event_time=when,
        event_source="sagemaker.amazonaws.com",
        event_name=name,
        read_only=read_only,
        identity_type=identity,
        principal_arn=arn,
        principal_name=principal,
        source_ip=ip,
        endpoint_name=endpoint,
        endpoint_config_name=config,
        error_code=error,
        error_message=f"{error}: not allowed" if error else "",
        request_id=request_id,
        record=record,
        search_text=search_text_for(words),
    )


@pytest.fixture
def history() -> dict[str, TrailEvent]:
    return {
        "update": event(
            "UpdateEndpoint",
            minutes_ago=5,
            endpoint="tumor-classifier",
            config="tumor-config-v2",
            principal="ci-deployer",
            identity="AssumedRole",
            ip="198.51.100.20",
            params={"endpointName": "tumor-classifier", "endpointConfigName": "tumor-config-v2"},
        ),
        "config": event(
            "CreateEndpointConfig",
            minutes_ago=10,
            config="tumor-config-v2",
            principal="ci-deployer",
            identity="AssumedRole",
            params={
                "endpointConfigName": "tumor-config-v2",
                "productionVariants": [{"variantName": "B"}],
            },
        ),
        "describe": event("DescribeEndpoint", minutes_ago=20, endpoint="tumor-classifier"),
        "denied": event(
            "DeleteEndpoint", minutes_ago=30, endpoint="fraud-detection", error="AccessDenied"
        ),
        "weights": event(
            "UpdateEndpointWeightsAndCapacities",
            minutes_ago=60 * 30,
            endpoint="fraud-detection",
            params={
                "endpointName": "fraud-detection",
                "desiredWeightsAndCapacities": [{"variantName": "A", "desiredWeight": 90.0}],
            },
        ),
        "other_region": event(
            "UpdateEndpoint", minutes_ago=1, endpoint="tumor-classifier", region="eu-west-1"
        ),
    }


def ids(page) -> list[str]:
    return [row.event.event_id for row in page.rows]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (TrailFilters(endpoint="tumor-classifier"), ["other_region", "update", "describe"]),
        (TrailFilters(principal="ci-deployer"), ["update", "config"]),
        (
            TrailFilters(principal=f"arn:aws:iam::{ACCOUNT}:user/maria.data-scientist"),
            ["other_region", "describe", "denied", "weights"],
        ),
        (
            TrailFilters(event_names=("CreateEndpointConfig", "DeleteEndpoint")),
            ["config", "denied"],
        ),
        (TrailFilters(errors_only=True), ["denied"]),
        (TrailFilters(writes_only=True), ["other_region", "update", "config", "denied", "weights"]),
        (TrailFilters(text="198.51.100.20"), ["update"]),
        (TrailFilters(text="TUMOR-CONFIG-V2 ci-deployer"), ["update", "config"]),
        (TrailFilters(text="accessdenied"), ["denied"]),
        (
            TrailFilters(start=NOW - timedelta(hours=1)),
            ["other_region", "update", "config", "describe", "denied"],
        ),
        (TrailFilters(end=NOW - timedelta(hours=1)), ["weights"]),
        (TrailFilters(endpoint="fraud-detection", writes_only=True, errors_only=True), ["denied"]),
        (TrailFilters(text="no-such-word"), []),
        # Part of a hyphenated name finds it; part of a word does not.
        (TrailFilters(text="fraud"), ["denied", "weights"]),
        (TrailFilters(text="fraud-det"), []),
    ],
)
def test_filters_return_exactly_the_matching_events(history, filters, expected):
    page = trail_events_page(filters=filters)
    assert ids(page) == [history[key].event_id for key in expected]


def test_pages_walk_the_whole_history_newest_first_without_gaps_or_repeats():
    # Several events share a second, as a burst of calls does: ties are broken by id.
    made = [event("DescribeEndpoint", minutes_ago=i // 3) for i in range(23)]
    expected = [e.event_id for e in sorted(made, key=lambda e: (e.event_time, e.id), reverse=True)]
    seen: list[str] = []
    page = trail_events_page(filters=TrailFilters(), page_size=5)
    pages = [page]
    while page.older_than:
        page = trail_events_page(
            filters=TrailFilters(), before=TRAIL_KEYSET.parse(page.older_than), page_size=5
        )
        pages.append(page)
    for p in pages:
        seen.extend(ids(p))
    assert seen == expected
    assert len(pages) == 5 and pages[-1].older_than is None
    # And back: the page newer than the last one is the one before it.
    back = trail_events_page(
        filters=TrailFilters(), after=TRAIL_KEYSET.parse(pages[-1].newer_than), page_size=5
    )
    assert ids(back) == ids(pages[-2])


def test_viewer_reads_the_list_with_who_from_where_and_the_outcome(history, role_client):
    client = role_client("Viewer")
    response = client.get(reverse("apihistory:list"), {"endpoint": "fraud-detection"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "DeleteEndpoint" in body and "AccessDenied" in body
    assert "UpdateEndpointWeightsAndCapacities" in body
    assert "tumor-classifier" not in body.split('data-testid="trail-table"')[1]
    # Writes nobody made through the portal are marked as such.
    assert body.count('data-testid="outside-portal"') == 2


def test_several_event_names_filter_from_the_query_string(history, role_client):
    response = role_client("Viewer").get(
        reverse("apihistory:list"), {"event": ["CreateEndpointConfig", "DeleteEndpoint"]}
    )
    body = response.content.decode()
    assert f'data-event="{history["config"].event_id}"' in body
    assert f'data-event="{history["denied"].event_id}"' in body
    assert body.count("data-event=") == 2


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"event": "Update;Endpoint"}, "Not an API operation name"),
        ({"before": "yesterday"}, "malformed"),
        ({"start": "2026-11-27T10:00", "end": "2026-11-27T09:00"}, "From must be before To"),
        ({"range": "7d", "start": "2026-11-27T10:00"}, "either a preset range"),
        ({"range": "5y"}, "Select a valid choice"),
        ({"account": "prod"}, "Select a valid choice"),
    ],
)
def test_bad_filters_are_explained_and_list_nothing(history, role_client, query, message):
    response = role_client("Viewer").get(reverse("apihistory:list"), query)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "data-event=" not in body


def test_the_account_filter_shows_one_accounts_calls(history, role_client, settings):
    settings.OPSPORTAL_TARGETS = parse_targets(
        "sandbox=123456789012:us-east-1 staging=210987654321:us-east-1"
    )
    staging = event("UpdateEndpoint", endpoint="fraud-detection", target="staging")
    client = role_client("Viewer")

    body = client.get(reverse("apihistory:list"), {"account": "staging"}).content.decode()

    assert f'data-event="{staging.event_id}"' in body
    assert body.count("data-event=") == 1
    assert "staging · 210987654321" in body  # the filter names each account
    everyone = client.get(reverse("apihistory:list")).content.decode()
    for shown in (staging, history["update"], history["denied"]):
        assert f'data-event="{shown.event_id}"' in everyone


def test_detail_shows_the_pretty_printed_record(history, role_client):
    update = history["update"]
    client = role_client("Viewer")
    response = client.get(reverse("apihistory:detail", args=[update.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "&quot;endpointConfigName&quot;: &quot;tumor-config-v2&quot;" in body
    assert "198.51.100.20" in body and "ci-deployer" in body
    assert client.get(reverse("apihistory:detail", args=[99999])).status_code == 404


@pytest.fixture
def tumor(db) -> Endpoint:
    now = timezone.now()
    return Endpoint.objects.create(
        target="sandbox",
        account_id=ACCOUNT,
        region="us-east-1",
        name="tumor-classifier",
        arn=f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/tumor-classifier",
        status="InService",
        status_changed_at=now,
        config_name="tumor-config-v2",
        creation_time=now,
        last_modified_time=now,
        synced_at=now,
    )


def test_changes_tab_lists_writes_on_the_endpoint_and_its_configs(history, tumor, role_client):
    older_config = event(
        "CreateEndpointConfig",
        minutes_ago=90,
        config="tumor-config-v1",
        params={"endpointConfigName": "tumor-config-v1"},
    )
    event(  # deploying v1 once ties that config to the endpoint
        "CreateEndpoint",
        minutes_ago=80,
        endpoint="tumor-classifier",
        config="tumor-config-v1",
        params={"endpointName": "tumor-classifier", "endpointConfigName": "tumor-config-v1"},
    )
    unrelated = event("CreateEndpointConfig", minutes_ago=3, config="fraud-config-v9")
    response = role_client("Viewer").get(reverse("apihistory:endpoint_changes", args=[tumor.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    listed = [part.split('"', 1)[0] for part in body.split('data-event="')[1:]]
    assert listed[:2] == [history["update"].event_id, history["config"].event_id]
    assert older_config.event_id in listed
    # Reads, other endpoints' configs and the same name in another region are not changes.
    for absent in (history["describe"], unrelated, history["other_region"], history["weights"]):
        assert absent.event_id not in listed
    assert "ci-deployer" in body and "198.51.100.20" in body
    assert "endpoint config name" in body and "tumor-config-v2" in body
