"""What changed: the default window keeps to the recorded history and says so, a chosen
`from` before it gets the same note, and the state tables fit their cards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from endpoints.models import EndpointSnapshot
from tests.shifts.helpers import make_endpoint
from tests.support.browser import PHONE, assert_no_sideways_scroll, log_in
from triage.what_changed import comparison_window

IMAGE = (
    "763104351884.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:"
    "1.2-1-cpu-py3-with-a-very-long-tag-that-never-breaks-on-its-own-0123456789abcdef"
)


def _variant(model: str, position: int, weight: float) -> dict:
    return {
        "position": position,
        "weight": weight,
        "desired_weight": weight,
        "current_instance_count": 1,
        "desired_instance_count": 1,
        "instance_type": "ml.m5.large",
        "model_name": model,
        "image": IMAGE,
        "serverless": None,
        "is_shadow": False,
    }


def recorded(endpoint, *, hours_ago: float, models: tuple[str, str]) -> EndpointSnapshot:
    """A state as the inventory records it, with the long image names that used to push
    the right-hand table out of its card."""
    return EndpointSnapshot.objects.create(
        endpoint=endpoint,
        observed_at=timezone.now() - timedelta(hours=hours_ago),
        status="InService",
        config_name=f"tumor-config-{models[1]}",
        variants={
            "AllTraffic-primary-variant": _variant(models[0], 0, 50.0),
            "AllTraffic-canary-variant": _variant(models[1], 1, 50.0),
        },
        fingerprint=f"{hours_ago}",
    )


def _page(client, endpoint, **params: str):
    return client.get(reverse("triage:what_changed", kwargs={"pk": endpoint.pk}), params)


NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
FIRST = NOW - timedelta(hours=3)


def test_the_default_start_is_clamped_to_the_recorded_history():
    day = comparison_window(start=None, end=None, now=NOW, incident_at=None, history_start=FIRST)
    assert (day.start, day.end, day.basis, day.clamped) == (FIRST, NOW, "day", True)
    assert day.basis_text == (
        "Default: now compared with the first state the portal recorded (the usual default, "
        "24 hours earlier, lies before it)."
    )
    assert day.history_note == (
        "The portal's history of this endpoint starts at 2026-12-04 09:00:00 UTC; "
        "earlier changes are not known."
    )
    incident = comparison_window(
        start=None,
        end=None,
        now=NOW,
        incident_at=NOW - timedelta(minutes=150),
        history_start=FIRST,
    )
    assert (incident.start, incident.basis, incident.clamped) == (FIRST, "incident", True)
    assert "one hour before the first alarm" in incident.basis_text


def test_a_default_within_the_history_is_left_alone():
    recorded_long_ago = NOW - timedelta(days=30)
    day = comparison_window(
        start=None, end=None, now=NOW, incident_at=None, history_start=recorded_long_ago
    )
    assert (day.start, day.clamped, day.history_note) == (NOW - timedelta(hours=24), False, "")
    assert day.basis_text.startswith("Default: now compared with 24 hours earlier")


def test_a_chosen_start_before_the_history_is_kept_with_the_same_note():
    chosen = comparison_window(
        start=FIRST - timedelta(hours=5),
        end=None,
        now=NOW,
        incident_at=None,
        history_start=FIRST,
    )
    assert (chosen.start, chosen.basis, chosen.clamped) == (
        FIRST - timedelta(hours=5),
        "chosen",
        False,
    )
    assert chosen.history_note.startswith("The portal's history of this endpoint starts at")
    inside = comparison_window(
        start=FIRST + timedelta(minutes=1),
        end=None,
        now=NOW,
        incident_at=None,
        history_start=FIRST,
    )
    assert inside.history_note == ""


def test_a_window_ending_before_the_history_is_not_clamped_past_its_end():
    end = FIRST - timedelta(hours=1)
    window = comparison_window(start=None, end=end, now=NOW, incident_at=None, history_start=FIRST)
    assert (window.start, window.clamped) == (end - timedelta(hours=24), False)
    assert window.history_note  # it still says where the history begins


@pytest.fixture
def tumor():
    """The demo's story: the inventory first saw the endpoint three hours ago on v1, then
    variant B moved to v3; a day ago it knew nothing."""
    endpoint = make_endpoint("tumor-classifier")
    first = recorded(endpoint, hours_ago=3, models=("tumor-model-v1", "tumor-model-v1"))
    recorded(endpoint, hours_ago=1, models=("tumor-model-v1", "tumor-model-v3"))
    return endpoint, first


@pytest.mark.django_db
def test_default_page_diffs_from_the_first_recorded_state_and_says_so(tumor, role_client):
    endpoint, first = tumor
    response = _page(role_client("Viewer"), endpoint)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-kind="model" data-variant="AllTraffic-canary-variant"' in body
    assert "variant **AllTraffic-canary-variant** model `tumor-model-v1` → `tumor-model-v3`" in (
        body
    )
    assert "shown as new" not in body and 'data-kind="variant_added"' not in body
    note = body.split('data-testid="history-note">', 1)[1].split("</p>", 1)[0]
    assert note == (
        f"The portal&#x27;s history of this endpoint starts at "
        f"{first.observed_at:%Y-%m-%d %H:%M:%S} UTC; earlier changes are not known."
    )
    assert "Default: now compared with the first state the portal recorded" in body
    markdown = body.split('data-testid="diff-markdown">', 1)[1].split("</pre>", 1)[0]
    assert "earlier changes are not known" in markdown


@pytest.mark.django_db
def test_a_chosen_range_before_the_history_gets_the_note(tumor, role_client):
    endpoint, first = tumor
    start = first.observed_at - timedelta(hours=5)
    response = _page(role_client("Viewer"), endpoint, **{"from": start.isoformat()})

    body = response.content.decode()
    assert response.status_code == 200
    assert "Comparing the &#x27;from&#x27; time you chose with now." in body
    assert 'data-testid="history-note"' in body
    assert "so everything below is shown as new" in body
    assert "Compare from the first recorded state" in body


@pytest.mark.django_db
def test_a_chosen_range_within_the_history_has_no_note(tumor, role_client):
    endpoint, first = tumor
    start = first.observed_at + timedelta(minutes=5)
    response = _page(role_client("Viewer"), endpoint, **{"from": start.isoformat()})
    assert 'data-testid="history-note"' not in response.content.decode()


def _overflowing(page) -> list[tuple[str, int, int]]:
    """The cards whose content is wider than the card, with both widths."""
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('main section.card')].map(
            c => [c.dataset.testid || c.querySelector('h2')?.innerText || '?',
                  c.scrollWidth, c.clientWidth])"""
    )
    return [tuple(s) for s in sizes if s[1] > s[2]]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", [PHONE, {"width": 1366, "height": 900}], ids=["390", "1366"])
def test_the_state_tables_stay_inside_their_cards(
    tumor, browser, live_server, user_factory, viewport
):
    endpoint, _ = tumor
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        log_in(page, live_server, user_factory, "what-changed-viewer", "Viewer")
        page.goto(f"{live_server.url}/endpoints/{endpoint.pk}/what-changed")
        page.wait_for_selector("[data-testid=state-after] table")

        assert _overflowing(page) == []
        assert_no_sideways_scroll(page)
        if viewport["width"] >= 1366:
            # On a laptop the long image names wrap: nothing is left to scroll to.
            widths = page.evaluate(
                """() => [...document.querySelectorAll('.table-scroll')].map(
                    w => [w.scrollWidth, w.clientWidth])"""
            )
            assert widths and all(scroll <= client for scroll, client in widths), widths
    finally:
        context.close()
