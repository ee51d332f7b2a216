"""The Logs tab in a real headless Chromium: after the bad-deploy drill, the broken variant's
tracebacks show newest first, naming the model version the deploy shipped; the text and
variant filters narrow them; and the timeline's alarm links to the logs of its minute."""

from __future__ import annotations

import pytest

from tests.browser.test_incident_browser import (  # noqa: F401 (a fixture)
    drill_endpoint,
    stage_bad_deploy,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _rows(page, selector: str = "[data-testid=log-line]"):
    rows = page.locator(selector)
    rows.first.wait_for()
    return rows


def test_the_logs_tab_shows_the_error_lines_of_a_bad_deploy(
    login,
    live_server,
    sandbox,
    drill_endpoint,  # noqa: F811
    settings,
):
    endpoint, drill = stage_bad_deploy(sandbox.url, drill_endpoint, settings)
    broken = drill["variant"]

    viewer = login("Viewer")
    viewer.goto(f"{live_server.url}/endpoints/{endpoint.pk}/")
    viewer.click("[data-tab=logs]")
    viewer.wait_for_url(f"**/endpoints/{endpoint.pk}/logs")
    rows = _rows(viewer)
    times = rows.locator("td:first-child").all_inner_texts()
    assert times == sorted(times, reverse=True), "newest first"
    crashes = viewer.locator(f"[data-testid=log-line][data-variant={broken}]", has_text="Traceback")
    assert crashes.count() > 0
    first = crashes.first.inner_text()
    assert "RuntimeError: the model worker crashed" in first and drill["model"] in first

    viewer.fill("input[name=text]", "RuntimeError")
    viewer.select_option("select[name=variant]", broken)
    viewer.click("button:has-text('Show')")
    viewer.wait_for_url("**text=RuntimeError**")
    filtered = _rows(viewer)
    assert filtered.count() >= crashes.count()
    variants = filtered.evaluate_all("rows => rows.map(r => r.dataset.variant)")
    assert set(variants) == {broken}
    assert all(
        "RuntimeError" in text for text in filtered.locator(".log-message").all_inner_texts()
    )

    # From the alarm on the timeline to the lines of its minute.
    viewer.goto(f"{live_server.url}/endpoints/{endpoint.pk}/timeline?range=1h")
    viewer.click("[data-testid=logs-link]")
    viewer.wait_for_url("**/logs?range=custom**")
    assert _rows(viewer).count() > 0
    assert viewer.locator("[data-testid=log-line]", has_text="Traceback").count() > 0
