"""The audit page's filters. Every field is optional; a bad value is reported on the
form and the page lists nothing rather than a silently wider result."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from audit.models import Outcome
from audit.selectors import AUDIT_KEYSET
from core.forms import BoundedDateField, KeysetCursorField

_ACTION_PREFIX = re.compile(r"^[a-z0-9_.]*$")


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150, label="Actor (username)")
    action = forms.CharField(required=False, max_length=100, label="Action prefix")
    outcome = forms.ChoiceField(
        required=False, choices=[("", "any"), *Outcome.choices], label="Outcome"
    )
    target = forms.CharField(required=False, max_length=512, label="Target contains")
    date_from = BoundedDateField(
        required=False, label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = BoundedDateField(
        required=False, label="To (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )
    before = KeysetCursorField(keyset=AUDIT_KEYSET)
    after = KeysetCursorField(keyset=AUDIT_KEYSET)

    def clean_action(self) -> str:
        value: str = self.cleaned_data["action"].strip()
        if not _ACTION_PREFIX.match(value):
            raise forms.ValidationError(
                "Use lowercase letters, digits, dots and underscores, e.g. auth. or "
                "inventory.refresh."
            )
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The From date is after the To date.")
        if data.get("before") and data.get("after"):
            raise forms.ValidationError("Page either forwards or backwards, not both.")
        return data
