"""An Operator launches the classic tumor batch job in the browser and watches it reach
Completed on the same page (htmx polling, no reload), then reads the output preview."""

from __future__ import annotations

import time

import pytest

from tests.transforms.conftest import form_data, tumor_launch
from transforms import services
from transforms.models import TransformJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_launch_watch_completed_and_read_preview(login, live_server, sandbox, settings):
    settings.OPSPORTAL_TRANSFORM_POLL_SECONDS = 0.2  # the test steps the chain itself
    page = login("Operator")
    page.goto(f"{live_server.url}/transforms/")
    page.click("text=Launch a job")
    page.wait_for_url("**/transforms/launch")
    # The model choices come from ListModels of the chosen region.
    assert page.locator("#model-options option[value=tumor-model-v1]").count() == 1
    data = form_data(tumor_launch())
    for name in (
        "model_name",
        "input_uri",
        "output_path",
        "input_filter",
        "output_filter",
        "max_concurrent_transforms",
    ):
        page.fill(f"[name={name}]", str(data[name]))
    page.select_option("[name=instance_type]", "ml.m5.xlarge")
    page.select_option("[name=join_source]", "Input")
    page.select_option("[name=accept]", "text/csv")
    page.click("[data-testid=launch-form] button[type=submit]")
    page.wait_for_url("**/transforms/*/")
    job = TransformJob.objects.get()
    page.evaluate("window.notReloaded = true")

    # The worker's poll chain, one countdown at a time.
    deadline = time.monotonic() + 30
    while not job.is_terminal and time.monotonic() < deadline:
        services.transform_job_poll(job_id=str(job.pk))
        job.refresh_from_db()
        time.sleep(0.3)
    assert job.status == "Completed", job.failure_reason

    page.wait_for_selector("[data-testid=job-status]:has-text('Completed')", timeout=10_000)
    table = page.wait_for_selector("[data-testid=preview-table]", timeout=10_000)
    assert page.evaluate("window.notReloaded") is True
    headers = [h.inner_text() for h in table.query_selector_all("thead th")]
    assert headers == ["INPUT 1", "PREDICTION"] or headers == ["input 1", "prediction"]
    first = [c.inner_text() for c in table.query_selector_all("tbody tr:first-child td")]
    assert first[0] == "1001" and 0.0 <= float(first[1]) <= 1.0
    assert "Completed" in page.locator("[data-testid=timeline]").inner_text()
