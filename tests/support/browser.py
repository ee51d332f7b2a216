"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against the live
test server, for every browser test of the suite (a pytest plugin of tests/conftest.py:
one Playwright per session, whichever directory the test lives in). A missing browser
fails the run: `make test` installs it first."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

PHONE = {"width": 390, "height": 844}
CHROMIUM = os.environ.get("OPSPORTAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
# still synchronous, so Django's async-safety guard must be told.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        # `make test` installs it; a browser test that cannot run is a failure, not a skip.
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make browser` (apt-get chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    errors: list[str] = []
    opened = context.new_page()
    opened.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    context.close()
    csp = [e for e in errors if "Content Security Policy" in e]
    assert not csp, f"CSP violations in the browser: {csp}"


@pytest.fixture
def login(page, live_server, user_factory):
    """Log in through the real login form as a new user with the given role."""

    def do(role: str) -> object:
        username = f"browser-{role.lower()}"
        user_factory(username, role)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", f"pw-{username}")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    return do


def _context_page(browser: Any, viewport: dict[str, int]) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(15_000)
    errors: list[str] = []
    opened = context.new_page()
    opened.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, opened, errors


@pytest.fixture
def second_page(browser):
    """Another person's browser: its own context, so its own cookies and session."""
    context, opened, errors = _context_page(browser, {"width": 1400, "height": 900})
    yield opened
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors


@pytest.fixture
def phone_page(browser):
    """A phone's browser, 390 px wide."""
    context, opened, errors = _context_page(browser, PHONE)
    yield opened
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors


def log_in(page: Any, live_server: Any, user_factory: Any, username: str, role: str) -> None:
    """Log `page` in through the login form as a new user with the given role."""
    user_factory(username, role)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"pw-{username}")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def assert_no_sideways_scroll(page: Any) -> None:
    """The page fits its viewport's width (a phone must never scroll sideways)."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.body.scrollWidth, innerWidth]"
    )
    assert max(widths[:2]) <= widths[2], f"{page.url} scrolls sideways: {widths}"
