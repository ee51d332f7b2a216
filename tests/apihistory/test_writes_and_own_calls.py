"""API history defaults to writes (the portal's own polling reads would fill every first
page), reads come back by unticking "Writes only", links that name their filters keep
working, and "Hide the portal's own calls" leaves out the calls made as the portal's
principals (OPSPORTAL_AWS_PRINCIPALS and the targets' roles). No query string fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apihistory.own_calls import PortalPrincipal, portal_principals, principal_from
from apihistory.selectors import TrailFilters, trail_events_page
from core.targets import Target
from tests.apihistory.test_pages import ACCOUNT, event
from tests.shifts.helpers import make_endpoint

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def listed(body: str) -> list[str]:
    return [part.split('"', 1)[0] for part in body.split('data-event="')[1:]]


@pytest.fixture
def polled():
    """What CloudTrail holds in the demo: one change by a person, then the portal's own
    reads every 15 s in two regions, newer than it, and one write the portal made."""
    change = event(
        "UpdateEndpoint",
        minutes_ago=30,
        endpoint="tumor-classifier",
        principal="ci-deployer",
        identity="AssumedRole",
    )
    shift = event(
        "UpdateEndpointWeightsAndCapacities",
        minutes_ago=20,
        endpoint="tumor-classifier",
        principal="OpsPortal",
        identity="AssumedRole",
    )
    reads = [
        event(
            "DescribeEndpoint" if n % 2 else "ListEndpoints",
            minutes_ago=n / 4,
            endpoint="tumor-classifier" if n % 2 else "",
            principal="OpsPortal",
            identity="AssumedRole",
            region=("us-east-1", "eu-west-1")[n % 2],
        )
        for n in range(60)
    ]
    return {"change": change, "shift": shift, "reads": reads}


def test_a_bare_url_lists_writes_first_with_the_box_ticked(polled, role_client):
    response = role_client("Viewer").get(reverse("apihistory:list"))

    assert response.status_code == 200
    body = response.content.decode()
    assert listed(body) == [polled["shift"].event_id, polled["change"].event_id]
    assert 'name="writes" value="false"><input type="checkbox" name="writes"' in body
    box = body.split('type="checkbox" name="writes"', 1)[1].split(">", 1)[0]
    assert "checked" in box


def test_unticking_writes_only_brings_the_reads_back(polled, role_client):
    client = role_client("Viewer")
    # What the form sends with the box unticked: only the hidden "false".
    response = client.get(reverse("apihistory:list"), {"writes": "false", "q": ""})

    body = response.content.decode()
    shown = listed(body)
    assert len(shown) == 50 and shown[0] == polled["reads"][0].event_id
    assert 'rel="next"' in body  # more pages, and the next keeps reads in
    older = body.split('rel="next" href="?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert "writes=false" in older
    second = client.get(f"{reverse('apihistory:list')}?{older}")
    assert polled["change"].event_id in listed(second.content.decode())


def test_a_ticked_box_sends_false_then_on_and_reads_as_ticked(polled, role_client):
    response = role_client("Viewer").get(
        f"{reverse('apihistory:list')}?writes=false&writes=on&endpoint=tumor-classifier"
    )
    assert listed(response.content.decode()) == [
        polled["shift"].event_id,
        polled["change"].event_id,
    ]


@pytest.mark.parametrize(
    "query",
    [
        "range=24h",  # the preset buttons name only the range
        "writes=on",  # bookmarks made when writes were opt-in
        "endpoint=tumor-classifier&failed=&writes=on&q=",
        "principal=ci-deployer",
    ],
)
def test_links_naming_other_filters_keep_working_and_get_the_default(polled, role_client, query):
    response = role_client("Viewer").get(f"{reverse('apihistory:list')}?{query}")
    assert response.status_code == 200
    shown = listed(response.content.decode())
    assert polled["change"].event_id in shown
    assert not {r.event_id for r in polled["reads"]} & set(shown)


def test_a_page_of_only_reads_says_how_to_see_them(role_client):
    event("DescribeEndpoint", endpoint="tumor-classifier", principal="OpsPortal")
    body = role_client("Viewer").get(reverse("apihistory:list")).content.decode()
    assert "untick “Writes only” to see them" in body


def test_hide_the_portals_own_calls(polled, role_client):
    client = role_client("Viewer")
    response = client.get(reverse("apihistory:list"), {"hide_portal": "on", "writes": "false"})

    body = response.content.decode()
    assert listed(body) == [polled["change"].event_id]
    assert "Hide the portal&#x27;s own calls" in body and "(OpsPortal)" in body
    page = trail_events_page(filters=TrailFilters(hide_portal=True, writes_only=True))
    assert [row.event.event_id for row in page.rows] == [polled["change"].event_id]


def test_the_portals_principals_come_from_the_setting_and_the_targets_roles(settings):
    settings.OPSPORTAL_AWS_PRINCIPALS = (
        "opsportal-svc",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/Batch/one-session",
    )
    settings.OPSPORTAL_TARGETS = (
        Target("prod", "111122223333", ("us-east-1",), "arn:aws:iam::111122223333:role/ops/Read"),
        Target("dev", ACCOUNT, ("us-east-1",)),
    )
    assert portal_principals() == [
        PortalPrincipal(name="opsportal-svc"),
        PortalPrincipal(arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/Batch/one-session"),
        PortalPrincipal(name="Read", account_id="111122223333"),
    ]
    by_name = event("CreateModel", principal="opsportal-svc")
    by_session = event("CreateModel", principal="Batch", identity="AssumedRole")
    by_session.principal_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/Batch/one-session"
    by_session.save()
    other_batch_session = event("CreateModel", principal="Batch", identity="AssumedRole")
    by_prod_role = event("CreateModel", principal="Read", identity="AssumedRole")
    by_prod_role.account_id = "111122223333"
    by_prod_role.save()
    same_role_name_elsewhere = event("CreateModel", principal="Read", identity="AssumedRole")

    page = trail_events_page(filters=TrailFilters(hide_portal=True))

    shown = {row.event.event_id for row in page.rows}
    assert shown == {other_batch_session.event_id, same_role_name_elsewhere.event_id}
    assert not shown & {e.event_id for e in (by_name, by_session, by_prod_role)}


def test_no_principal_configured_hides_nothing(polled, settings):
    settings.OPSPORTAL_AWS_PRINCIPALS = ()
    page = trail_events_page(filters=TrailFilters(hide_portal=True, writes_only=True))
    assert len(page.rows) == 2


def test_principal_entries():
    assert principal_from("arn:aws-cn:iam::111122223333:role/Ops") == PortalPrincipal(
        name="Ops", account_id="111122223333"
    )
    assert principal_from(" OpsPortal ") == PortalPrincipal(name="OpsPortal")
    user = "arn:aws:iam::111122223333:user/ops"
    assert principal_from(user) == PortalPrincipal(arn=user)


def test_a_bad_principal_stops_start_up():
    env = {
        **os.environ,
        "OPSPORTAL_AWS_PRINCIPALS": "OpsPortal, not a principal!",
        "DJANGO_SETTINGS_MODULE": "opsportal.settings",
        "OPSPORTAL_SECURE": "false",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "OPSPORTAL_AWS_PRINCIPALS" in result.stderr and "'principal!'" in result.stderr


def test_endpoint_tab_defaults_to_writes_and_shows_reads_on_request(polled, role_client):
    endpoint = make_endpoint("tumor-classifier")
    url = reverse("apihistory:endpoint_changes", args=[endpoint.pk])
    client = role_client("Viewer")

    default = client.get(url).content.decode()
    assert listed(default) == [polled["shift"].event_id, polled["change"].event_id]
    assert "?endpoint=tumor-classifier&amp;writes=on" in default

    everything = client.get(url, {"writes": "false"}).content.decode()
    reads_here = [
        r.event_id for r in polled["reads"] if r.endpoint_name and r.region == "us-east-1"
    ]
    assert set(reads_here) <= set(listed(everything))
    assert "API calls on it" in everything and "writes=false" in everything

    mine_hidden = client.get(url, {"writes": "false", "hide_portal": "on"}).content.decode()
    assert listed(mine_hidden) == [polled["change"].event_id]


QUERY_TEXT = st.one_of(
    st.sampled_from(["", "on", "false", "true", "0", "\x00", "%", "&&==", "🙂" * 50, "x" * 5000]),
    st.text(max_size=200),
)
FIELDS = ["writes", "hide_portal", "range", "start", "end", "event", "principal", "endpoint"]
FIELDS += ["failed", "q", "before", "after", "zzz"]
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_no_query_string_makes_the_list_or_the_tab_fail(polled, role_client):
    client = role_client("Viewer")
    endpoint = make_endpoint("tumor-classifier")
    urls = (
        reverse("apihistory:list"),
        reverse("apihistory:endpoint_changes", args=[endpoint.pk]),
    )

    @SETTINGS
    @given(
        pairs=st.lists(st.tuples(st.sampled_from(FIELDS), QUERY_TEXT), max_size=6),
        raw=st.binary(max_size=120),
    )
    def check(pairs: list[tuple[str, str]], raw: bytes) -> None:
        query = "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)
        # Any bytes a client sends reach Django as WSGI's latin-1 string.
        for url in urls:
            for text in (query, raw.decode("latin-1")):
                response = client.get(url, QUERY_STRING=text)
                assert response.status_code < 500, (url, text, response.status_code)

    check()
