"""An endpoint hosting inference components in the browser: its page lists the components
and the test invoke form sends a request to the one chosen."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from core.targets import target_by_name
from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from sandbox.testing import holdout_rows, rows_to_csv
from tests.endpoints.test_inference_components_gateway import REGION, _component_endpoint

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
