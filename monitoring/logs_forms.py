"""The Logs tab's question: a window (a preset ending now, or from / to in UTC), a text the
lines must contain, a variant, and where older lines continue."""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import Any, cast

from django import forms
from django.utils import timezone

from core.forms import UtcDateTimeField
from monitoring.live.logs import DEFAULT_RANGE, LOG_RANGES, LogCursor, LogQuery

MAX_TEXT = 200  # FilterLogEvents takes patterns of up to 1,024 characters, quotes included
MAX_CUSTOM_RANGE = timedelta(days=31)
_CONTROL = ("Cc", "Cs")  # control characters, lone surrogates


class LogsForm(forms.Form):
    range = forms.ChoiceField(
        choices=[(k, k) for k in LOG_RANGES] + [("custom", "custom")],
        required=False,
        error_messages={"invalid_choice": "Choose one of the ranges offered, or custom."},
    )
    start = UtcDateTimeField(required=False, label="From (UTC)")
    end = UtcDateTimeField(required=False, label="To (UTC)")
    text = forms.CharField(
        required=False,
        max_length=MAX_TEXT,
        label="Lines containing",
        help_text="Case-sensitive, as CloudWatch Logs compares.",
    )
    variant = forms.ChoiceField(
        required=False,
        error_messages={"invalid_choice": "This endpoint has no variant of that name."},
    )
    before = forms.CharField(required=False, max_length=40)
    follow = forms.BooleanField(required=False, label="Follow")

    def __init__(self, data: Any = None, *, variants: list[str]) -> None:
        super().__init__(data)
        variant = cast(forms.ChoiceField, self.fields["variant"])
        variant.choices = [("", "all variants")] + [(v, v) for v in variants]

    def clean_text(self) -> str:
        text: str = self.cleaned_data.get("text", "")
        if any(unicodedata.category(c) in _CONTROL for c in text):
            raise forms.ValidationError(
                "The text cannot hold control characters (line breaks, tabs and the like)."
            )
        if text and not text.replace('"', "").replace("\\", "").strip():
            raise forms.ValidationError(
                "Type some text to look for besides quotes and backslashes."
            )
        return text

    def clean_before(self) -> LogCursor | None:
        value: str = self.cleaned_data.get("before", "")
        if not value:
            return None
        cursor = LogCursor.decode(value)
        if cursor is None:
            raise forms.ValidationError(
                "That link to older lines is damaged: start again from the newest lines."
            )
        return cursor

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
        if start > now:
            raise forms.ValidationError("The range starts in the future.")
        if end - start > MAX_CUSTOM_RANGE:
            raise forms.ValidationError("The Logs tab searches 31 days at a time at most.")
        data["end"] = min(end, now + timedelta(minutes=1))
        return data

    def query(self) -> LogQuery:
        """The question asked; call after is_valid()."""
        data = self.cleaned_data
        key = data.get("range") or DEFAULT_RANGE
        text, variant, cursor = data.get("text", ""), data.get("variant", ""), data.get("before")
        if key == "custom":
            return LogQuery(key, data["start"], data["end"], text, variant, cursor)
        return LogQuery.preset(key, text=text, variant=variant, cursor=cursor)
