"""An open incident board and overview follow incidents without a reload: an alarm goes
into ALARM and its endpoint appears on both within a refresh, and a note being typed into
the board's ownership field survives the refreshes."""

from __future__ import annotations

import pytest
from django.utils import timezone

from monitoring.models import Alarm
from tests.shifts.helpers import make_endpoint
from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _alarm(endpoint, *, name: str) -> Alarm:
    now = timezone.now()
    return Alarm.objects.create(
        target="sandbox",
        account_id=endpoint.account_id,
        region=endpoint.region,
        name=name,
        state="ALARM",
        reason="Threshold Crossed: 3 datapoints were greater than the threshold (0.05).",
        endpoint_name=endpoint.name,
        state_updated_at=now,
        synced_at=now,
    )


def test_the_board_and_the_overview_show_a_new_incident_without_a_reload(
    login, second_page, live_server, user_factory, settings
):
    settings.OPSPORTAL_LIVE_REFRESH_SECONDS = 2
    checkout = make_endpoint("checkout")
    _alarm(checkout, name="checkout-latency-high")
    page = login("Operator")
    page.goto(f"{live_server.url}/incidents/")
    assert page.locator("[data-testid=incident]").count() == 1
    # Someone starts typing an ownership note; the board keeps refreshing around it.
    page.fill(f"#note-{checkout.pk}", "looking at the deploy")

    overview = second_page
    log_in(overview, live_server, user_factory, "overview-viewer", "Viewer")
    assert "checkout" in overview.locator("[data-testid=attention]").inner_text()

    search = make_endpoint("search")
    _alarm(search, name="search-5xx-rate")
    page.wait_for_selector("[data-testid=incident][data-endpoint=search]", timeout=10_000)
    overview.wait_for_function(
        "() => document.querySelector('[data-testid=attention]').innerText.includes('search')",
        timeout=10_000,
    )
    assert page.input_value(f"#note-{checkout.pk}") == "looking at the deploy"
    assert "Updated " in page.locator("[data-testid=board-updated]").inner_text()
