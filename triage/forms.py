from __future__ import annotations

from django import forms

from triage.services import MAX_NOTE


class TakeOwnershipForm(forms.Form):
    note = forms.CharField(
        max_length=MAX_NOTE,
        label="Note",
        widget=forms.TextInput(attrs={"placeholder": "e.g. looking at variant B's deploy"}),
    )
