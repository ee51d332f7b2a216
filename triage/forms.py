from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms

from core.forms import UtcDateTimeField
from triage.models import IncidentState
from triage.services import MAX_NOTE
from triage.what_changed import ComparisonWindow, comparison_window


class TakeOwnershipForm(forms.Form):
    note = forms.CharField(
        max_length=MAX_NOTE,
        label="Note",
        widget=forms.TextInput(attrs={"placeholder": "e.g. looking at variant B's deploy"}),
    )


class WhatChangedForm(forms.Form):
    """The two times to compare (`from`, `to`). Either may be left out: the defaults come
    from `comparison_window` (now, and shortly before the current incident or a day ago,
    but not before the endpoint's recorded history begins)."""

    def __init__(
        self,
        *args: Any,
        now: datetime,
        incident_at: datetime | None,
        history_start: datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.now = now
        self.incident_at = incident_at
        self.history_start = history_start
        self.window: ComparisonWindow | None = None
        # "from" is a Python keyword, so the fields are added here rather than declared.
        self.fields["from"] = UtcDateTimeField(required=False, label="From (UTC)")
        self.fields["to"] = UtcDateTimeField(required=False, label="To (UTC)")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        window = comparison_window(
            start=data.get("from"),
            end=data.get("to"),
            now=self.now,
            incident_at=self.incident_at,
            history_start=self.history_start,
        )
        if window.start >= window.end:
            raise forms.ValidationError(
                f"'From' ({window.start:%Y-%m-%d %H:%M:%S}) must be before "
                f"'to' ({window.end:%Y-%m-%d %H:%M:%S}) UTC."
            )
        self.window = window
        return data


class IncidentNoteForm(forms.Form):
    note = forms.CharField(
        required=False, max_length=MAX_NOTE, widget=forms.Textarea(attrs={"rows": 2})
    )


class IncidentFilterForm(forms.Form):
    state = forms.ChoiceField(
        required=False,
        choices=[("", "any state"), *IncidentState.choices],
    )
    endpoint = forms.CharField(required=False, max_length=63, label="Endpoint contains")
    since = UtcDateTimeField(required=False, label="Opened since (UTC)")
