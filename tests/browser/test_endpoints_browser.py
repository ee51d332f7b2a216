"""What a person sees in the browser: log in, filter endpoints, open one, and the stale
data banner when AWS (the sandbox) is down."""

from __future__ import annotations

import pytest

from endpoints.services import inventory_sync_configured
from tests.conftest import restart_sandbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def synced(sandbox, transactional_db):
    reports = inventory_sync_configured()
    assert all(r.ok for r in reports)
    return reports


def test_login_then_overview_counts_endpoints(login, live_server, synced):
    page = login("Viewer")
    assert page.locator("[data-testid=endpoint-total]").inner_text().strip().isdigit()
    assert "sentiment-legacy" in page.locator("[data-testid=attention]").inner_text()
    assert page.locator(".role-badge").inner_text() == "Viewer"


def test_wrong_password_is_refused_with_a_message(page, live_server, user_factory):
    user_factory("browser-someone", "Viewer")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "browser-someone")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert "/accounts/login/" in page.url
    assert page.locator(".errorlist, .error, [role=alert]").first.is_visible()


def test_filter_the_endpoint_list_as_you_type(login, live_server, synced):
    page = login("Viewer")
    page.click("nav >> text=Endpoints")
    page.wait_for_url("**/endpoints/")
    page.wait_for_load_state("load")
    table = page.locator("[data-testid=endpoint-table]")
    assert "fraud-detection" in table.inner_text()
    page.fill("input[name=name]", "tumor-class")
    page.wait_for_function(
        "() => !document.querySelector('#endpoint-table').innerText.includes('fraud-detection')"
    )
    rows = page.locator("[data-testid=endpoint-table] tbody tr")
    assert rows.count() == 1
    assert "80.0%" in rows.first.inner_text() and "20.0%" in rows.first.inner_text()
    assert "name=tumor-class" in page.url  # the filter is in the address bar, to be shared
    page.select_option("select[name=region]", "eu-west-1")
    page.wait_for_function(
        "() => document.querySelector('#endpoint-table').innerText.includes('No endpoints match')"
    )


def test_open_an_endpoint_and_read_its_configuration(login, live_server, synced):
    page = login("Viewer")
    page.goto(f"{live_server.url}/endpoints/?name=tumor-classifier")
    page.click("text=tumor-classifier")
    assert page.locator("h1").inner_text().startswith("tumor-classifier")
    variants = page.locator("[data-testid=variant-table]").inner_text()
    assert "80.0%" in variants and "ml.m5.large" in variants
    assert "s3://" in page.locator("[data-testid=data-capture]").inner_text()
    assert (
        "SageMakerVariantInvocationsPerInstance"
        in page.locator("[data-testid=autoscaling]").inner_text()
    )
    page.click("text=Last DescribeEndpoint")
    assert (
        '"EndpointName": "tumor-classifier"'
        in page.locator("[data-testid=describe-json]").inner_text()
    )


def test_banner_when_the_sandbox_is_stopped(login, live_server, synced, sandbox_server):
    page = login("Operator")
    page.goto(f"{live_server.url}/endpoints/?name=fraud-detection")
    page.click("text=fraud-detection")
    assert page.locator("[data-testid=aws-unreachable]").count() == 0
    sandbox_server.stop()
    try:
        page.click("text=Refresh now")
        banner = page.locator("[data-testid=aws-unreachable]").first
        assert "AWS unreachable since" in banner.inner_text()
        # Pages still render from the database.
        assert "fraud-detection" in page.locator("h1").inner_text()
        page.goto(f"{live_server.url}/endpoints/")
        assert "fraud-detection" in page.locator("[data-testid=endpoint-table]").inner_text()
    finally:
        restart_sandbox(sandbox_server)


def test_the_health_column_fills_after_the_list_and_survives_its_refresh(
    login, live_server, synced
):
    page = login("Viewer")
    page.goto(f"{live_server.url}/endpoints/?name=tumor")
    row = page.locator("tr[data-endpoint=tumor-classifier]")
    summary = row.locator("[data-testid=health-summary]")
    summary.wait_for()
    assert "req · 5XX" in summary.inner_text() or summary.inner_text() == "no requests"
    shown = summary.inner_text()
    # The list's own 15-second refresh swaps the table; the cell keeps what it showed
    # (no blank flash) until the next health answer replaces it.
    page.evaluate(
        "() => { document.querySelector('[data-testid=endpoint-table]').dataset.old = '1'; }"
    )
    page.evaluate(
        "() => htmx.ajax('GET', location.href, {target: '#endpoint-table', swap: 'innerHTML'})"
    )
    after_swap = page.wait_for_function(
        """() => {
            const table = document.querySelector('[data-testid=endpoint-table]');
            if (!table || table.dataset.old) return false;
            const cell = document.querySelector(
                'tr[data-endpoint=tumor-classifier] [data-testid=health-summary]');
            return cell ? cell.innerText : 'blank';
        }"""
    ).json_value()
    assert after_swap == shown
