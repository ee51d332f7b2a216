"""The Monitoring tab in the browser: the executions timeline, a run's violations and the
drift charts, drawn without CSP violations."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache

from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from monitoring.services.model_monitor import monitor_sync
from sandbox.testing import MONITORED_ENDPOINT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TARGET = settings.OPSPORTAL_TARGETS[0]


@pytest.fixture
def tumor(sandbox, transactional_db) -> Endpoint:
    cache.clear()
    inventory_sync(target=TARGET, region="us-east-1")
    assert not monitor_sync(target=TARGET, region="us-east-1").error
    return Endpoint.objects.get(name=MONITORED_ENDPOINT, region="us-east-1")


def test_monitoring_tab_shows_the_timeline_and_a_runs_violations(login, live_server, tumor):
    page = login("Viewer")
    page.goto(f"{live_server.url}/endpoints/{tumor.pk}/")
    page.click("nav.tabs >> text=Monitoring")
    page.wait_for_selector("#mm-chart-timeline .barlayer .trace")
    assert page.locator("[data-testid=schedules] tbody tr").count() >= 1

    page.click("[data-testid=executions] summary")
    page.locator("[data-testid=timeline] tr:has-text('CompletedWithViolations') a").first.click()
    page.wait_for_url("**/monitoring?execution=*")
    rows = page.locator("[data-testid=violations] tbody tr")
    assert rows.count() >= 1
    assert "mean_radius" in rows.first.inner_text()
    assert "baseline_drift_check" in page.locator("[data-testid=violations]").inner_text()

    page.wait_for_selector("#mm-chart-drift .scatterlayer .trace")
    page.wait_for_selector("#mm-chart-distribution .barlayer .trace")
    assert page.locator("[data-testid=feature-select]").input_value() == "mean_radius"
