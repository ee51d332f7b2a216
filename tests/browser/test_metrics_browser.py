"""Metrics tab and test invoke in the browser."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from endpoints.models import Endpoint
from endpoints.services import inventory_sync_configured
from sandbox.testing import holdout_rows, rows_to_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tumor(sandbox, transactional_db) -> Endpoint:
    cache.clear()
    assert all(r.ok for r in inventory_sync_configured())
    return Endpoint.objects.get(name="tumor-classifier")


def _trace_count(page, chart: str) -> int:
    return page.evaluate(
        f"() => document.querySelectorAll('#chart-{chart} .scatterlayer .trace').length"
    )


def test_metrics_tab_draws_one_trace_per_variant_and_switches_range(login, live_server, tumor):
    page = login("Viewer")
    page.goto(f"{live_server.url}/endpoints/{tumor.pk}/")
    page.click("text=Metrics & alarms")
    page.wait_for_selector("#chart-invocations .scatterlayer .trace")
    assert _trace_count(page, "invocations") == 2  # variants A and B on the same axes
    assert _trace_count(page, "latency") == 8  # avg, p50, p90, p99 per variant
    assert "60 s period" in page.locator("[data-testid=metrics-meta]").inner_text()
    rows = page.locator("[data-testid=variant-comparison] tbody tr")
    assert rows.count() == 2

    page.click("[data-testid=range-picker] >> text=24h")
    page.wait_for_url("**/metrics?range=24h")
    page.wait_for_selector("#chart-invocations .scatterlayer .trace")
    assert "300 s period" in page.locator("[data-testid=metrics-meta]").inner_text()
    assert _trace_count(page, "invocations") == 2


def test_test_invoke_shows_the_invoked_variant(login, live_server, tumor):
    page = login("Operator")
    page.goto(f"{live_server.url}/endpoints/{tumor.pk}/")
    page.click("nav.tabs >> text=Test invoke")
    page.fill("textarea[name=payload]", rows_to_csv(holdout_rows("tumor")[:2]))
    page.select_option("select[name=target_variant]", "B")
    page.click("button:has-text('Invoke')")
    variant = page.locator("[data-testid=invoked-variant]")
    variant.wait_for()
    assert variant.inner_text() == "B"
    lines = page.locator("[data-testid=prediction]").inner_text().strip().splitlines()
    assert len(lines) == 2 and all(0 <= float(x) <= 1 for x in lines)
