"""The metrics range picker: a preset or a custom start/end (UTC)."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from monitoring.metrics import RANGES, TimeRange

MAX_CUSTOM_RANGE = timedelta(days=455)  # CloudWatch keeps hourly data this long


class RangeForm(forms.Form):
    range = forms.ChoiceField(
        choices=[(k, k) for k in RANGES] + [("custom", "custom")], required=False
    )
    start = forms.DateTimeField(required=False, label="From (UTC)")
    end = forms.DateTimeField(required=False, label="To (UTC)")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("range") != "custom":
            return data
        start, end = data.get("start"), data.get("end")
        if not start or not end:
            raise forms.ValidationError("A custom range needs both a start and an end.")
        start, end = start.astimezone(UTC), end.astimezone(UTC)
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
