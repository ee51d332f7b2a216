"""The API's documentation page renders in the browser under the portal's CSP (no inline
script, Swagger UI served from our own static files)."""

from __future__ import annotations

import pytest

from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_under_the_csp(page, live_server, user_factory):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    log_in(page, live_server, user_factory, "docs-reader", "Viewer")
    response = page.goto(f"{live_server.url}/api/v1/docs")
    assert response is not None and response.status == 200
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    assert page.locator(".swagger-ui .opblock").count() >= 10
    assert "Ops Portal API" in page.locator(".swagger-ui .title").inner_text()
    assert all(url.startswith(live_server.url) for url in requested), requested
