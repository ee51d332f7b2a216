"""Every page on a phone, 390 px wide, in a real headless Chromium: after the bad-deploy
drill (an incident, alarms, API history, container logs) on top of the synced demo world,
no page scrolls sideways, the navigation folds behind a Menu button that opens, and a skip
link leads to the page's main content."""

from __future__ import annotations

import os
from contextlib import suppress

import pytest
from django.urls import reverse
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from apihistory.models import TrailEvent
from core.targets import target_by_name
from endpoints.models import Endpoint
from endpoints.services import inventory_sync_configured
from shifts.services import shift_propose
from tests.browser.test_incident_browser import (  # noqa: F401 (a fixture)
    drill_endpoint,
    stage_bad_deploy,
)
from tests.support import world
from tests.support.browser import assert_no_sideways_scroll, log_in
from transforms.models import TransformJob
from transforms.services import transform_jobs_sync
from triage.incidents import incidents_sync
from triage.models import Incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# OPSPORTAL_PHONE_SHOTS=/some/dir saves screenshots of every page there, at 390 px and at
# 1,366 px, for a person to look at.
SHOTS = os.environ.get("OPSPORTAL_PHONE_SHOTS", "")


def _world(sandbox, drill_endpoint, settings, user_factory) -> dict[str, str]:  # noqa: F811
    """The synced demo world plus the drill's incident; returns the pages to visit."""
    endpoint, _ = stage_bad_deploy(sandbox.url, drill_endpoint, settings)
    assert all(report.ok for report in inventory_sync_configured())
    target = target_by_name("sandbox")
    for region in target.regions:
        transform_jobs_sync(target=target, region=region)
    job = TransformJob.objects.order_by("-creation_time").first() or world.transform_job()
    incidents_sync()  # what the beat does: the alarm opens an incident
    incident = Incident.objects.filter(endpoint=endpoint).first() or world.incident(endpoint)
    # The endpoint with the most to show: two variants, data capture, auto scaling.
    tumor = Endpoint.objects.get(name="tumor-classifier")
    proposer = user_factory("phone-proposer", "Operator")
    names = list(tumor.variants.order_by("position").values_list("name", flat=True))
    proposal = shift_propose(
        endpoint_id=tumor.pk,
        actor=proposer,
        desired={names[0]: 50.0, names[1]: 50.0},
        reason="even split while we compare the two model versions on live traffic",
    )
    trail_event = TrailEvent.objects.order_by("-event_time").first() or world.trail_event()
    pages = {
        "overview": reverse("overview"),
        "incident board": reverse("triage:board"),
        "incident history": reverse("triage:incidents"),
        "incident": reverse("triage:incident", kwargs={"pk": incident.pk}),
        "incident summary": reverse("triage:summary", kwargs={"pk": endpoint.pk}),
        "endpoint list": reverse("endpoints:list"),
        "change requests": reverse("shifts:list"),
        "change request": reverse("shifts:detail", kwargs={"pk": proposal.pk}),
        "batch jobs": reverse("transforms:list"),
        "batch job launch": reverse("transforms:launch"),
        "batch job": reverse("transforms:detail", kwargs={"pk": job.pk}),
        "API history": reverse("apihistory:list"),
        "API call": reverse("apihistory:detail", kwargs={"pk": trail_event.pk}),
        "audit": reverse("audit:list"),
    }
    for subject in (endpoint, tumor):
        for name in (
            "endpoints:detail",
            "monitoring:endpoint_metrics",
            "monitoring:endpoint_logs",
            "monitoring:endpoint_monitoring",
            "shifts:endpoint",
            "shifts:changes",
            "apihistory:endpoint_changes",
            "triage:endpoint_timeline",
            "triage:what_changed",
            "endpoints:invoke",
            "shifts:propose",
            "shifts:plan_propose",
        ):
            pages[f"{name} of {subject.name}"] = reverse(name, kwargs={"pk": subject.pk})
        for kind in ("capacity", "autoscaling", "deploy", "rollback"):
            pages[f"{kind} change of {subject.name}"] = reverse(
                "shifts:change_propose", kwargs={"pk": subject.pk, "kind": kind}
            )
    return pages


def _shoot(page, label: str) -> None:
    """Screenshots of the whole page, 1,500 px of its height each (for a person to read)."""
    width, height = page.evaluate("() => [innerWidth, document.documentElement.scrollHeight]")
    for number, top in enumerate(range(0, height, 1500)):
        clip = {"x": 0, "y": top, "width": width, "height": min(1500, height - top)}
        name = f"{label} {width}px {number}.png"
        page.screenshot(path=os.path.join(SHOTS, name), clip=clip, full_page=True)


def _settle(page) -> None:
    """Wait for what the page loads by itself (htmx panels, charts)."""
    with suppress(PlaywrightTimeout):  # a page that polls often may never idle
        page.wait_for_load_state("networkidle", timeout=10_000)


def test_every_page_fits_a_phone(
    phone_page,
    live_server,
    sandbox,
    drill_endpoint,  # noqa: F811
    settings,
    user_factory,
):
    pages = _world(sandbox, drill_endpoint, settings, user_factory)
    page = phone_page
    log_in(page, live_server, user_factory, "phone-admin", "Admin")
    # The menu's badges are still there, behind the Menu button.
    page.click("[data-testid=menu-button]")
    for badge in ("incident-badge", "approval-badge"):
        page.locator(f"nav.mainnav [data-testid={badge}]").wait_for()

    too_wide = []
    for label, path in pages.items():
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status < 400, (label, path)
        _settle(page)
        if SHOTS:
            _shoot(page, label)
        try:
            assert_no_sideways_scroll(page)
        except AssertionError as exc:
            too_wide.append(f"{label}: {exc}")
    assert not too_wide, "\n".join(too_wide)

    # Lists of things are one card per row on a phone, each value under its column's name.
    for path, table in (
        ("/endpoints/", "endpoint-table"),
        ("/incidents/history/", "incident-table"),
        ("/shifts/", "history-table"),
        ("/transforms/", "transform-table"),
    ):
        page.goto(f"{live_server.url}{path}")
        locator = page.locator(f"[data-testid={table}]")
        assert not locator.locator("thead").is_visible(), path
        cells = locator.locator("td[data-label]")
        if cells.count():
            label = cells.first.evaluate("td => getComputedStyle(td, '::before').content")
            assert label.strip('"') == cells.first.get_attribute("data-label"), path
    if SHOTS:  # and the same pages on a laptop
        page.set_viewport_size({"width": 1366, "height": 800})
        for label, path in pages.items():
            page.goto(f"{live_server.url}{path}")
            _settle(page)
            _shoot(page, label)


def test_the_menu_opens_on_a_phone_and_the_skip_link_leads_to_main(
    phone_page, live_server, user_factory, transactional_db
):
    page = phone_page
    log_in(page, live_server, user_factory, "phone-viewer", "Viewer")

    skip = page.locator("a.skip-link")
    assert skip.get_attribute("href") == "#main"
    assert page.locator("main#main").count() == 1
    page.keyboard.press("Tab")  # the first thing a keyboard reaches
    assert page.evaluate("() => document.activeElement.classList.contains('skip-link')")
    assert skip.is_visible()
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "skip link.png"))
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"

    link = page.locator("nav.mainnav a", has_text="Endpoints")
    assert not link.is_visible()  # folded away on a phone
    menu = page.locator("[data-testid=menu-button]")
    assert menu.is_visible()
    menu.click()
    assert link.is_visible()
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "menu open.png"))
    assert page.locator(".who .username").is_visible()  # and who is logged in, with Log out
    link.click()
    page.wait_for_url("**/endpoints/")
    assert_no_sideways_scroll(page)

    # On a laptop there is no Menu button: the menu is the bar, as it always was.
    page.set_viewport_size({"width": 1366, "height": 800})
    assert not menu.is_visible()
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Overview").is_visible()
    assert page.locator(".who .username").is_visible()
    nav.get_by_role("link", name="Batch jobs").click()
    page.wait_for_url("**/transforms/")
