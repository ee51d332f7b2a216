"""Endpoint forms: list filters and test invoke. Unknown or unparseable values are errors
shown on the form, not ignored."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from core.forms import set_choices
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
        set_choices(self, "account", [("", "All accounts"), *choices["accounts"]])
        set_choices(self, "region", [("", "All regions"), *choices["regions"]])
        set_choices(self, "status", [("", "Any status"), *choices["statuses"]])


MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # InvokeEndpoint's limit


class TestInvokeForm(forms.Form):
    """A payload to send to the endpoint, optionally to one variant."""

    content_type = forms.ChoiceField(
        choices=[("text/csv", "text/csv"), ("application/json", "application/json")]
    )
    accept = forms.ChoiceField(
        required=False,
        choices=[
            ("", "default"),
            ("text/csv", "text/csv"),
            ("application/json", "application/json"),
        ],
    )
    target_variant = forms.ChoiceField(required=False, label="Target variant")
    # An endpoint hosting inference components answers only a request naming one.
    inference_component = forms.ChoiceField(required=False, label="Inference component")
    stream = forms.BooleanField(
        required=False,
        label="Stream the answer (InvokeEndpointWithResponseStream)",
    )
    payload = forms.CharField(widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}))

    def __init__(
        self, *args: Any, variants: list[str], components: list[str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if components:
            set_choices(self, "inference_component", [(c, c) for c in components])
            self.fields["inference_component"].required = True
        else:
            del self.fields["inference_component"]
        set_choices(
            self,
            "target_variant",
            [
                ("", "weighted routing"),
                *[(v, v) for v in variants],
            ],
        )

    def clean_payload(self) -> str:
        payload = self.cleaned_data["payload"]
        if len(payload.encode()) > MAX_PAYLOAD_BYTES:
            raise forms.ValidationError("The payload is over InvokeEndpoint's 6 MB limit.")
        if not payload.strip():
            raise forms.ValidationError("The payload is empty.")
        return payload

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("content_type") == "application/json" and data.get("payload"):
            try:
                json.loads(data["payload"])
            except ValueError as exc:
                self.add_error("payload", f"Not valid JSON: {exc}")
            except RecursionError:
                self.add_error("payload", "Not valid JSON: nested too deeply.")
        return data
