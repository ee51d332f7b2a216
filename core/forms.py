"""Form fields and helpers every app's forms share.

The portal shows every time in UTC, so every time a person types is read as UTC by one
field with one parser; page cursors are read by one field; and a service's `Invalid`
lands on the form fields it names.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django import forms

from core.errors import NON_FIELD, PortalError
from core.paging import Keyset, Position

# The portal has no business with times outside these (and date arithmetic near
# datetime's own limits overflows).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
# Longer than any date, time or cursor: refused before parsing.
MAX_TEXT = 64
# Up to 18 ASCII digits: always within a 64-bit id column.
_ID = re.compile(r"[0-9]{1,18}")


def parse_utc(text: str) -> datetime | None:
    """An ISO date and time (a `datetime-local` value, with or without seconds, `T` or a
    space, `Z` or an offset) as an aware UTC datetime; a time without a zone is UTC.
    None when the text is not a date and time or lies outside EARLIEST..LATEST."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # an offset can push year 1 or 9999 out of range
        return None
    return parsed if EARLIEST <= parsed < LATEST else None


class UtcDateTimeField(forms.CharField):
    """A date and time read as UTC (see `parse_utc`), whatever the server's or the
    browser's time zone; shown as a `datetime-local` input."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"})
    default_error_messages = {
        "invalid": "Not a date and time: use YYYY-MM-DDTHH:MM (UTC).",
        "range": "That time is out of range: use a time between 1970 and 2200 (UTC).",
    }

    def to_python(self, value: Any) -> datetime | None:  # type: ignore[override]
        text = (super().to_python(value) or "").strip()
        if not text:
            return None
        if len(text) > MAX_TEXT:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        parsed = parse_utc(text)
        if parsed is None:
            try:
                datetime.fromisoformat(text.replace(" ", "T", 1))
            except (ValueError, OverflowError):
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid"
                ) from None
            raise forms.ValidationError(self.error_messages["range"], code="range")
        return parsed

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
        return value


class BoundedDateField(forms.DateField):
    """A day (UTC) within EARLIEST..LATEST, so "the day after" never overflows."""

    default_error_messages = {
        "range": "That date is out of range: use a date between 1970 and 2199.",
    }

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and not EARLIEST.date() <= value < LATEST.date():
            raise forms.ValidationError(self.error_messages["range"], code="range")


class KeysetCursorField(forms.CharField):
    """A `?before=` / `?after=` page cursor, read into a position of `keyset`."""

    widget = forms.HiddenInput
    default_error_messages = {
        "invalid": "That page link is malformed; start from the first page.",
    }

    def __init__(self, *, keyset: Keyset, **kwargs: Any) -> None:
        self.keyset = keyset
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Position | None:  # type: ignore[override]
        text = (super().to_python(value) or "").strip()
        if not text:
            return None
        position = self.keyset.parse(text) if len(text) <= MAX_TEXT else None
        if position is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return position


def parse_id(text: str | None) -> int | None:
    """A row id from a query parameter: ASCII digits that fit a 64-bit column, else None
    (the page then shows its default rather than failing)."""
    value = (text or "").strip()
    if not _ID.fullmatch(value):
        return None
    return int(value)


def set_choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    """Give a choice field of the form the choices known only at request time."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField), f"{name} is not a choice field"
    field.choices = choices


def add_errors(form: forms.Form, exc: PortalError) -> None:
    """Show a service's refusal on the form: each message on the field it names, the
    rest above the form."""
    for field, messages in exc.errors.items():
        name = field if field != NON_FIELD and field in form.fields else None
        for message in messages:
            form.add_error(name, message)
