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
MAX_TARGET_MODEL_LENGTH = 1024  # InvokeEndpoint's TargetModel: 1 to 1024 characters
_PRINTABLE = frozenset(chr(c) for c in range(0x20, 0x7F))


def checked_target_model(value: str) -> str:
    r"""A TargetModel as SageMaker takes it (pattern \A\S[\p{Print}]*\z: printable ASCII,
    not starting with a space, at most 1024 characters), or a ValidationError saying why not."""
    if len(value) > MAX_TARGET_MODEL_LENGTH:
        raise forms.ValidationError(
            f"The target model is {len(value)} characters long; SageMaker takes at most "
            f"{MAX_TARGET_MODEL_LENGTH}."
        )
    if value and value[0] == " ":
        raise forms.ValidationError("The target model cannot start with a space.")
    unprintable = sorted({c for c in value if c not in _PRINTABLE})
    if unprintable:
        shown = ", ".join(repr(c) for c in unprintable[:5])
        raise forms.ValidationError(
            f"The target model may hold only printable ASCII characters, not {shown}."
        )
    return value


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
    # A multi-model endpoint answers only a request naming the model under its prefix.
    target_model = forms.CharField(
        required=False,
        strip=False,
        label="Target model",
        help_text="The model's path under the endpoint's S3 prefix, e.g. model-a.tar.gz.",
    )
    stream = forms.BooleanField(
        required=False,
        label="Stream the answer (InvokeEndpointWithResponseStream)",
    )
    payload = forms.CharField(widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}))

    def __init__(
        self,
        *args: Any,
        variants: list[str],
        components: list[str] | None = None,
        multi_model: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if multi_model:
            self.fields["target_model"].required = True
            self.fields["target_model"].error_messages["required"] = (
                "A multi-model endpoint needs a target model: the path of a model under its "
                "S3 prefix."
            )
        else:
            del self.fields["target_model"]
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

    def clean_target_model(self) -> str:
        return checked_target_model(self.cleaned_data["target_model"])

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
