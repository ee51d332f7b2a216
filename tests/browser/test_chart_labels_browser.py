"""Names that come from AWS reach the charts as text: an alarm called `<b>…</b><a …>` is
shown as those characters, never as bold or as a link inside the chart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring.models import Alarm
from tests.support.world import matrix_endpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = '<b>bold</b><a href="javascript:alert(1)">x</a> 100%{y}'


def test_timeline_markers_show_aws_names_as_text(login, live_server, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # no metrics: markers only
    endpoint = matrix_endpoint()
    when = timezone.now() - timedelta(minutes=30)
    Alarm.objects.create(
        target="sandbox",
        account_id=endpoint.account_id,
        region=endpoint.region,
        name=HOSTILE,
        state="ALARM",
        endpoint_name=endpoint.name,
        history=[{"time": when.isoformat(), "type": "StateUpdate", "summary": "to ALARM"}],
        synced_at=timezone.now(),
    )
    page = login("Viewer")
    page.goto(f"{live_server.url}/endpoints/{endpoint.pk}/timeline")
    page.wait_for_function("() => document.getElementById('timeline-chart').data")
    text = page.evaluate("() => document.getElementById('timeline-chart').data.at(-1).text[0]")
    assert "&lt;b&gt;bold&lt;/b&gt;&lt;a href=" in text and "&#37;{y}" in text
    # What plotly draws for it holds no markup made from the name.
    chart = page.locator("#timeline-chart")
    assert chart.locator("a").count() == 0
    box = chart.locator(".scatterlayer .trace").last.locator("path.point").first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#timeline-chart .hoverlayer text")
    hover = page.locator("#timeline-chart .hoverlayer text").first.text_content() or ""
    assert "<b>bold</b>" in hover and "100%{y}" in hover
    assert page.locator("#timeline-chart .hoverlayer a").count() == 0
