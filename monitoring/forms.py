"""The metrics range picker (a preset or a custom start/end, UTC) and the Check now form."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from core.forms import UtcDateTimeField
from monitoring.live.metrics import RANGES, TimeRange

MAX_CUSTOM_RANGE = timedelta(days=455)  # CloudWatch keeps hourly data this long


class RangeForm(forms.Form):
    range = forms.ChoiceField(
        choices=[(k, k) for k in RANGES] + [("custom", "custom")], required=False
    )
    start = UtcDateTimeField(required=False, label="From (UTC)")
    end = UtcDateTimeField(required=False, label="To (UTC)")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("range") != "custom":
            return data
        start, end = data.get("start"), data.get("end")
        if not start or not end:
            raise forms.ValidationError("A custom range needs both a start and an end.")
        now = timezone.now()
        if start >= end:
            raise forms.ValidationError("The start must be before the end.")
        if end - start < timedelta(minutes=5):
            raise forms.ValidationError("A custom range must span at least 5 minutes.")
        if now - start > MAX_CUSTOM_RANGE:
            raise forms.ValidationError("CloudWatch keeps metrics for 455 days at most.")
        if start > now:
            raise forms.ValidationError("The range starts in the future.")
        data["start"], data["end"] = start, min(end, now + timedelta(minutes=1))
        return data

    def time_range(self) -> TimeRange:
        """The chosen range; call after is_valid()."""
        key = self.cleaned_data.get("range") or "3h"
        if key == "custom":
            return TimeRange(
                key="custom", start=self.cleaned_data["start"], end=self.cleaned_data["end"]
            )
        return TimeRange.preset(key)


CHECK_WINDOWS: dict[str, int] = {"1h": 1, "6h": 6, "24h": 24}


class CheckNowForm(forms.Form):
    """Check now: a window of captured data and, optionally, the baseline to check it
    against (a folder holding statistics.json and constraints.json)."""

    window = forms.ChoiceField(
        choices=[(k, f"last {k}") for k in CHECK_WINDOWS] + [("custom", "from / to")],
        initial="1h",
    )
    start = UtcDateTimeField(required=False, label="From (UTC)")
    end = UtcDateTimeField(required=False, label="To (UTC)")
    baseline_uri = forms.CharField(
        required=False,
        max_length=1024,
        label="Baseline S3 URI",
        help_text="Folder with statistics.json and constraints.json; empty: the schedule's.",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        now = timezone.now()
        window = data.get("window")
        if window in CHECK_WINDOWS:
            data["start"], data["end"] = now - timedelta(hours=CHECK_WINDOWS[window]), now
            return data
        if window != "custom":
            return data
        start, end = data.get("start"), data.get("end")
        if not start or not end:
            raise forms.ValidationError("A from / to window needs both a start and an end.")
        end = min(end, now)
        limit = settings.OPSPORTAL_CHECK_MAX_WINDOW_HOURS
        if start >= end:
            raise forms.ValidationError("The window is empty: the start must be before the end.")
        if end - start > timedelta(hours=limit):
            raise forms.ValidationError(f"The window may span {limit} hours at most.")
        data["start"], data["end"] = start, end
        return data
