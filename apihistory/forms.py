"""The API history filters. Every field is optional; a bad value is reported on the form
and the page lists nothing, rather than a silently wider result.

Writes only is the default: the portal's own polling (ListEndpoints, Describe… in every
region) would otherwise fill every first page with reads.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apihistory.selectors import TRAIL_KEYSET, TrailFilters
from core.forms import KeysetCursorField, UtcDateTimeField, set_choices

_EVENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,127}$")
RANGES = {
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}


class EventNamesField(forms.MultipleChoiceField):
    """Event names from the list, or typed (`?event=A&event=B` or "A, B"): any well-formed
    name is accepted, since a name nobody has called yet simply matches nothing."""

    def to_python(self, value: Any) -> list[str]:
        values = super().to_python(value)
        names: list[str] = []
        for item in values:
            names.extend(part.strip() for part in re.split(r"[,\s]+", item) if part.strip())
        return names

    def validate(self, value: list[str]) -> None:
        bad = [name for name in value if not _EVENT_NAME.match(name)]
        if bad:
            raise forms.ValidationError(
                f"Not an API operation name: {bad[0][:40]!r}. Use names like "
                "UpdateEndpoint or CreateEndpointConfig."
            )
        if len(value) > 20:
            raise forms.ValidationError("Choose at most 20 event names.")


class DefaultOnCheckbox(forms.CheckboxInput):
    """A checkbox ticked when the query does not mention it, so a bare URL (or a link that
    names other filters only) gets the default, while unticking it is still heard: a hidden
    `false` goes before the box, and a ticked box's `on`, sent after it, is the value read."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> bool:
        if name not in data:
            return True
        return bool(super().value_from_datadict(data, files, name))

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        hidden = format_html('<input type="hidden" name="{}" value="false">', name)
        return SafeString(hidden + super().render(name, value, attrs, renderer))


def writes_only_field() -> forms.BooleanField:
    return forms.BooleanField(required=False, label="Writes only", widget=DefaultOnCheckbox)


def hide_portal_field() -> forms.BooleanField:
    return forms.BooleanField(required=False, label="Hide the portal's own calls")


class EndpointCallsForm(forms.Form):
    """The endpoint's API calls tab: its writes by default, reads on request."""

    writes = writes_only_field()
    hide_portal = hide_portal_field()


class TrailFilterForm(forms.Form):
    range = forms.ChoiceField(
        required=False, choices=[("", "any time"), *((k, k) for k in RANGES)], label="Last"
    )
    start = UtcDateTimeField(required=False, label="From (UTC)")
    end = UtcDateTimeField(required=False, label="To (UTC)")
    event = EventNamesField(required=False, label="Event names")
    principal = forms.CharField(
        required=False, max_length=512, label="Principal (user, role or ARN)"
    )
    endpoint = forms.CharField(required=False, max_length=63, label="Endpoint")
    account = forms.ChoiceField(required=False, label="Account")
    failed = forms.BooleanField(required=False, label="Errors only")
    writes = writes_only_field()
    hide_portal = hide_portal_field()
    q = forms.CharField(required=False, max_length=200, label="Search")
    before = KeysetCursorField(keyset=TRAIL_KEYSET)
    after = KeysetCursorField(keyset=TRAIL_KEYSET)

    def __init__(self, *args: Any, event_names: list[str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        chosen = self.data.getlist("event") if hasattr(self.data, "getlist") else []
        names = sorted({*(event_names or []), *(n for n in chosen if _EVENT_NAME.match(n))})
        set_choices(self, "event", [(n, n) for n in names])
        accounts = [(t.name, f"{t.name} · {t.account_id}") for t in settings.OPSPORTAL_TARGETS]
        set_choices(self, "account", [("", "All accounts"), *accounts])

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("range") and (data.get("start") or data.get("end")):
            raise forms.ValidationError("Choose either a preset range or From/To, not both.")
        start, end = data.get("start"), data.get("end")
        if start and end and start >= end:
            raise forms.ValidationError("From must be before To.")
        if data.get("before") and data.get("after"):
            raise forms.ValidationError("Page either forwards or backwards, not both.")
        return data

    def filters(self) -> TrailFilters:
        data = self.cleaned_data
        start = data.get("start")
        if data.get("range"):
            start = timezone.now() - RANGES[data["range"]]
        return TrailFilters(
            start=start,
            end=data.get("end"),
            event_names=tuple(data.get("event") or ()),
            principal=(data.get("principal") or "").strip(),
            endpoint=(data.get("endpoint") or "").strip(),
            errors_only=bool(data.get("failed")),
            writes_only=bool(data.get("writes")),
            hide_portal=bool(data.get("hide_portal")),
            text=(data.get("q") or "").strip(),
            account=data.get("account") or "",
        )
