"""A multi-model endpoint in the browser: its page lists the models under its prefix, and
the test invoke sends a request to the model named as TargetModel."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from core.targets import target_by_name
from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from sandbox.seed_multi_model import MULTI_MODEL_ENDPOINT, REGIONAL_MODELS
from sandbox.testing import holdout_rows, rows_to_csv, wait_for_status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def regional(sandbox, transactional_db) -> Endpoint:
    cache.clear()
    wait_for_status(sandbox.url, "us-east-1", MULTI_MODEL_ENDPOINT, "InService")
    assert inventory_sync(target=target_by_name("sandbox"), region="us-east-1").ok
    return Endpoint.objects.get(region="us-east-1", name=MULTI_MODEL_ENDPOINT)


def test_models_are_listed_and_one_is_invoked_by_target_model(login, live_server, regional):
    page = login("Operator")
    page.goto(f"{live_server.url}/endpoints/{regional.pk}/")
    section = page.locator("[data-testid=multi-model]")
    assert "MultiModel" in section.inner_text()
    assert section.locator("[data-testid=multi-model-count]").inner_text() == "3 models"
    listed = section.locator("tr[data-target-model]").evaluate_all(
        "rows => rows.map(r => r.dataset.targetModel)"
    )
    assert sorted(listed) == sorted(REGIONAL_MODELS)
    page.click("nav.tabs >> text=Test invoke")
    page.fill("textarea[name=payload]", rows_to_csv(holdout_rows("churn")[:2]))
    page.fill("[data-testid=target-model]", "churn-emea.tar.gz")
    page.click("button:has-text('Invoke')")
    variant = page.locator("[data-testid=invoked-variant]")
    variant.wait_for()
    assert variant.inner_text() == "AllTraffic"
    lines = page.locator("[data-testid=prediction]").inner_text().strip().splitlines()
    assert len(lines) == 2
