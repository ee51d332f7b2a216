"""How times, ages and latencies read on the pages."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from core.templatetags.portal import ago, isotime, ms, signed


def test_ages_are_exact_under_a_minute_and_never_crash():
    now = timezone.now()
    assert ago(now - timedelta(seconds=42)) == "42 s ago"
    assert ago(now - timedelta(minutes=5, seconds=3)) == "5 min ago"
    assert ago(now - timedelta(hours=2, minutes=7)) == "2 h 7 min ago"
    assert ago(None) == "never" and ago("") == "never"


def test_stored_iso_times_read_like_page_times():
    assert isotime("2026-11-27T16:15:22.360584+00:00") == "2026-11-27 16:15:22 UTC"
    assert isotime("2026-11-27T17:15:22+01:00") == "2026-11-27 16:15:22 UTC"
    assert isotime("") == "–" and isotime("yesterday") == "yesterday"


def test_latencies_keep_the_precision_they_need():
    assert ms(0.0481) == "0.048 ms" and ms(3.214) == "3.21 ms" and ms(512.34) == "512.3 ms"
    assert ms(None) == "–"
    assert signed(1.5, "1") == "+1.5" and signed(-0.25, "2") == "-0.25"
