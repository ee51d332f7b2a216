"""A shadow test in the browser: the demo's tumor-screening endpoint shows its shadow beside
production, judged on the last hour, and offers its promotion as a filled-in deploy form;
on a phone the page fits the screen."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from core.targets import target_by_name
from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from sandbox.testing import wait_for_status
from tests.support.browser import assert_no_sideways_scroll, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHADOWED = "tumor-screening"


@pytest.fixture
def screening(sandbox, transactional_db) -> Endpoint:
    cache.clear()
    wait_for_status(sandbox.url, "us-east-1", SHADOWED, "InService")
    assert inventory_sync(target=target_by_name("sandbox"), region="us-east-1").ok
    return Endpoint.objects.get(region="us-east-1", name=SHADOWED)


def test_the_shadow_is_judged_and_its_promotion_proposed(login, live_server, screening):
    page = login("Operator")
    page.goto(f"{live_server.url}/endpoints/{screening.pk}/")
    variants = page.locator("[data-testid=variant-table]")
    assert "shadow" in variants.locator("tr[data-variant=v2-shadow]").inner_text()
    card = page.locator("[data-testid=shadow-test]")
    assert card.locator("[data-testid=sampling]").inner_text() == "50 %"
    # The demo's day of history: the shadow answered copies in the last hour.
    assert int(card.locator("[data-testid=shadow-invocations]").inner_text()) > 0
    assert card.locator("[data-testid=shadow-verdict]").is_visible()
    assert page.locator("text=Propose a shift").count() == 0  # one production variant
    card.locator("[data-testid=promote-shadow]").click()
    page.wait_for_url("**/changes/deploy?**")
    assert page.input_value("input[name=model]") == "tumor-model-v2"
    assert page.is_checked("input[name=end_shadow_test]")
    assert page.locator("select[name=variant]").input_value() == "v1"


def test_the_shadow_test_fits_a_phone(phone_page, live_server, user_factory, screening):
    log_in(phone_page, live_server, user_factory, "phone-viewer", "Viewer")
    phone_page.goto(f"{live_server.url}/endpoints/{screening.pk}/")
    phone_page.locator("[data-testid=shadow-test]").wait_for()
    assert_no_sideways_scroll(phone_page)
    assert phone_page.locator("[data-testid=promote-shadow]").count() == 0  # a Viewer
