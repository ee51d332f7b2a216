"""An asynchronous endpoint in the browser: its page shows the output and failure paths and
the queue waiting with no instance, offers no real-time test invoke, and fits a laptop's and
a phone's width without scrolling sideways."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from core.targets import target_by_name
from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from tests.support.async_inference import (
    FAILURE_PATH,
    OUTPUT_PATH,
    feed_backlog,
    make_async_endpoint,
)
from tests.support.browser import assert_no_sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
REGION = "ap-southeast-2"


@pytest.fixture
def claims(sandbox, transactional_db) -> Endpoint:
    cache.clear()
    name = make_async_endpoint(sandbox.url, REGION, prefix="claims-scoring-async-with-a-long-name")
    feed_backlog(
        sandbox,
        REGION,
        name,
        sizes=[12, 40, 90, 160, 240],
        oldest_seconds=560,
        without_capacity=True,
    )
    assert inventory_sync(target=target_by_name("sandbox"), region=REGION).ok
    return Endpoint.objects.get(region=REGION, name=name)


@pytest.mark.parametrize("width", [1366, 390])
def test_the_async_card_shows_the_queue_and_fits_the_width(
    login, live_server, claims, width: int
) -> None:
    page = login("Operator")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/endpoints/{claims.pk}/")
    card = page.locator("[data-testid=async-inference]")
    card.wait_for()
    text = card.inner_text()
    assert OUTPUT_PATH in text and FAILURE_PATH in text
    assert card.locator("[data-testid=async-backlog-size]").inner_text().startswith("240 requests")
    assert card.locator("[data-testid=async-backlog-oldest]").inner_text() == "waiting 9 min"
    assert card.locator("[data-testid=async-no-capacity]").is_visible()
    # No real-time test invoke for an endpoint that takes InvokeEndpointAsync only.
    assert page.locator("nav.tabs [data-tab=invoke]").count() == 0
    assert page.locator("nav.tabs [data-tab=detail]").count() == 1
    assert_no_sideways_scroll(page)
