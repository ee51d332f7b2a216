"""An endpoint hosting inference components in the browser: its page lists the components,
the test invoke form sends a request to the one chosen, and the Metrics tab charts each
component on a laptop's and a phone's width without scrolling sideways."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from core.targets import target_by_name
from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from sandbox.testing import control, holdout_rows, rows_to_csv
from tests.endpoints.test_inference_component_metrics import invoke
from tests.endpoints.test_inference_components_gateway import REGION, _component_endpoint
from tests.support.browser import assert_no_sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hosted(sandbox, transactional_db) -> tuple[Endpoint, str]:
    cache.clear()
    endpoint, component, _model = _component_endpoint(sandbox.url)
    assert inventory_sync(target=target_by_name("sandbox"), region=REGION).ok
    return Endpoint.objects.get(region=REGION, name=endpoint), component


def test_components_are_listed_and_invoked_by_name(login, live_server, hosted):
    endpoint, component = hosted
    page = login("Operator")
    page.goto(f"{live_server.url}/endpoints/{endpoint.pk}/")
    row = page.locator(f"[data-testid=inference-components] tr[data-component='{component}']")
    assert "2 / 2" in row.inner_text()
    page.click("nav.tabs >> text=Test invoke")
    page.fill("textarea[name=payload]", rows_to_csv(holdout_rows("tumor")[:2]))
    page.select_option("select[name=inference_component]", component)
    page.click("button:has-text('Invoke')")
    variant = page.locator("[data-testid=invoked-variant]")
    variant.wait_for()
    assert variant.inner_text() == "AllTraffic"
    lines = page.locator("[data-testid=prediction]").inner_text().strip().splitlines()
    assert len(lines) == 2 and all(0 <= float(x) <= 1 for x in lines)


@pytest.mark.parametrize("width", [1366, 390])
def test_the_metrics_tab_charts_each_component_and_fits_the_width(
    login, live_server, sandbox, hosted, width: int
) -> None:
    endpoint, component = hosted
    invoke(sandbox.url, endpoint=endpoint.name, component=component, times=2)
    control(sandbox.url, "flush-metrics")
    page = login("Viewer")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/endpoints/{endpoint.pk}/")
    card = page.locator(f"[data-testid=inference-components] tr[data-component='{component}']")
    assert "Not scaled" in card.inner_text()
    assert_no_sideways_scroll(page)
    page.click("nav.tabs >> text=Metrics & alarms")
    page.wait_for_selector("#chart-invocations .scatterlayer .trace")
    # One line per component (this endpoint hosts one), named by the component.
    names = page.evaluate(
        "() => document.getElementById('chart-invocations').data.map(t => t.name)"
    )
    assert names == [component]
    traces = page.evaluate(
        "() => document.querySelectorAll('#chart-invocations .scatterlayer .trace').length"
    )
    assert traces == 1
    assert page.locator("[data-chart=percopy]").count() == 1
    assert page.locator("[data-chart=perinstance]").count() == 0
    row = page.locator(f"[data-testid=component-comparison] tr[data-variant='{component}']")
    assert row.locator("td").nth(3).inner_text() == "2"  # invocations
    assert_no_sideways_scroll(page)
