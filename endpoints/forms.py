"""Endpoint list filters. Unknown values are errors shown on the form, not ignored."""

from __future__ import annotations

from typing import Any

from django import forms

from endpoints import selectors


class EndpointFilterForm(forms.Form):
    name = forms.CharField(required=False, max_length=63, label="Name contains")
    account = forms.ChoiceField(required=False)
    region = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False)
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in selectors.SORTS])
    deleted = forms.BooleanField(required=False, label="Include deleted")
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = selectors.filter_choices()
        self.fields["account"].choices = [("", "All accounts"), *choices["accounts"]]
        self.fields["region"].choices = [("", "All regions"), *choices["regions"]]
        self.fields["status"].choices = [("", "Any status"), *choices["statuses"]]
