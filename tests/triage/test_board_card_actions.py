"""The incident board's card offers the moves that fit the endpoint: "Propose a shift…"
only where two or more production variants share traffic, "Scale…" on any InService
endpoint, and neither on a Failed one (nothing there to move or scale)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from endpoints.models import Endpoint, Variant
from monitoring.models import Alarm
from tests.shifts.helpers import make_endpoint

pytestmark = pytest.mark.django_db


def _alarm(endpoint: Endpoint) -> None:
    now = timezone.now()
    Alarm.objects.create(
        target="sandbox",
        account_id=endpoint.account_id,
        region=endpoint.region,
        name=f"{endpoint.name}-5xx-rate",
        state="ALARM",
        reason="Threshold Crossed",
        endpoint_name=endpoint.name,
        state_updated_at=now - timedelta(minutes=3),
        synced_at=now,
    )


def _card(html: str, name: str) -> str:
    """One endpoint's card on the board (the cards are sibling sections)."""
    for card in html.split('<section class="card incident"')[1:]:
        if f'data-endpoint="{name}"' in card.split(">", 1)[0]:
            return card.split("</section>", 1)[0]
    raise AssertionError(f"{name} is not on the board")


def _card_offers(html: str, name: str) -> list[str]:
    """The labels of the card's action buttons and links, as a person reads them."""
    actions = _card(html, name).split('<div class="actions">', 1)[1]
    return [
        re.sub(r"<[^>]+>", "", label).strip()
        for label in re.findall(r"<(?:a|button)\b[^>]*>(.*?)</(?:a|button)>", actions, re.S)
    ]


def test_the_card_offers_a_shift_only_where_traffic_can_move_and_nothing_on_a_failed_one(
    role_client,
):
    two = make_endpoint("two-variants", weights=(50.0, 50.0))
    one = make_endpoint("one-variant", weights=(100.0,))
    shadowed = make_endpoint("with-shadow", weights=(100.0,))
    Variant.objects.create(
        endpoint=shadowed,
        name="S",
        position=1,
        is_shadow=True,
        instance_type="ml.m5.large",
        current_weight=1.0,
        desired_weight=1.0,
        current_instance_count=1,
        desired_instance_count=1,
    )
    make_endpoint("broken", weights=(50.0, 50.0), status="Failed")
    for endpoint in (two, one, shadowed):
        _alarm(endpoint)

    html = role_client("Operator").get(reverse("triage:board")).content.decode()

    assert {"Propose a shift…", "Scale…"} <= set(_card_offers(html, "two-variants"))
    single = _card_offers(html, "one-variant")
    assert "Scale…" in single and "Propose a shift…" not in single
    shadow = _card_offers(html, "with-shadow")
    assert "Scale…" in shadow and "Propose a shift…" not in shadow
    assert "Emergency shift…" not in shadow
    broken = _card_offers(html, "broken")
    assert "Propose a shift…" not in broken and "Scale…" not in broken
    assert "Emergency shift…" not in broken
    assert "Timeline" in broken  # the card is there, with what still makes sense

    card = _card(html, "two-variants")
    shift_href = reverse("shifts:propose", args=[two.pk])
    scale_href = reverse("shifts:change_propose", args=[two.pk, "capacity"])
    assert f'data-testid="card-propose-shift" href="{shift_href}"' in card
    assert f'data-testid="card-capacity" href="{scale_href}"' in card


def test_a_viewer_is_offered_neither(role_client):
    _alarm(make_endpoint("two-variants"))
    html = role_client("Viewer").get(reverse("triage:board")).content.decode()
    offers = _card_offers(html, "two-variants")
    assert "Propose a shift…" not in offers and "Scale…" not in offers
