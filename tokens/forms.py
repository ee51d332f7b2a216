"""The form that creates an API token."""

from __future__ import annotations

from django import forms

from tokens.services import MAX_EXPIRY_DAYS, MAX_NAME


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=MAX_NAME, help_text="Where the token is used, e.g. 'deploy pipeline'."
    )
    expires_days = forms.IntegerField(
        label="Expires after (days)", min_value=1, max_value=MAX_EXPIRY_DAYS, initial=90
    )
