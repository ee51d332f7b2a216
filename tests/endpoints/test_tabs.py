"""The endpoint pages' tabs come from the apps that own them (endpoints.registry): every
tab is on every tab page, in order, the current one marked, Test invoke only for those the
endpoints policy lets invoke, and the main menu says "Endpoints" whichever app renders it."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from endpoints.models import Endpoint

pytestmark = pytest.mark.django_db

TABS = [
    ("detail", "Configuration", "endpoints:detail"),
    ("metrics", "Metrics &amp; alarms", "monitoring:endpoint_metrics"),
    ("logs", "Logs", "monitoring:endpoint_logs"),
    ("monitoring", "Monitoring", "monitoring:endpoint_monitoring"),
    ("traffic", "Traffic", "shifts:endpoint"),
    ("change_requests", "Change requests", "shifts:changes"),
    ("changes", "API calls", "apihistory:endpoint_changes"),
    ("timeline", "Timeline", "triage:endpoint_timeline"),
    ("what_changed", "What changed", "triage:what_changed"),
]


@pytest.fixture
def endpoint() -> Endpoint:
    now = timezone.now()
    return Endpoint.objects.create(
        target="sandbox",
        account_id="123456789012",
        region="us-east-1",
        name="tabbed",
        arn="arn:aws:sagemaker:us-east-1:123456789012:endpoint/tabbed",
        status="InService",
        status_changed_at=now,
        creation_time=now,
        last_modified_time=now,
        synced_at=now,
    )


def _tabs(html: str) -> list[tuple[str, str, bool]]:
    nav = html.split('<nav class="tabs"', 1)[1].split("</nav>", 1)[0]
    return [
        (key, label, current == ' aria-current="page"')
        for href, key, current, label in re.findall(
            r'<a href="([^"]+)" data-tab="([^"]+)"( aria-current="page")?>([^<]+)</a>', nav
        )
    ]


@pytest.mark.parametrize(("key", "label", "url_name"), TABS)
def test_every_tab_page_shows_every_tab_with_its_own_marked(
    key, label, url_name, endpoint, role_client
):
    response = role_client("Viewer").get(reverse(url_name, args=[endpoint.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert _tabs(html) == [(k, lbl, k == key) for k, lbl, _ in TABS]
    menu = html.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    current = re.findall(r'aria-current="page">([^<]+)</a>', menu)
    in_changes = key in ("traffic", "change_requests")  # their URLs are under /shifts/
    assert current == (["Change requests"] if in_changes else ["Endpoints"])


def test_test_invoke_is_a_tab_for_those_who_may_invoke(endpoint, role_client):
    page = role_client("Operator").get(reverse("endpoints:detail", args=[endpoint.pk]))
    assert _tabs(page.content.decode())[-1] == ("invoke", "Test invoke", False)
