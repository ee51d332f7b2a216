"""The one UTC time field and the page-cursor field every form uses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django import forms
from hypothesis import given
from hypothesis import strategies as st

from core.forms import KeysetCursorField, UtcDateTimeField, parse_utc
from core.paging import Keyset


class _Times(forms.Form):
    at = UtcDateTimeField(required=False)
    before = KeysetCursorField(keyset=Keyset(time_field="event_time"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27T10:15", datetime(2026, 11, 27, 10, 15, tzinfo=UTC)),
        ("2026-11-27 10:15:30", datetime(2026, 11, 27, 10, 15, 30, tzinfo=UTC)),
        ("2026-11-27T10:15Z", datetime(2026, 11, 27, 10, 15, tzinfo=UTC)),
        ("2026-11-27T12:15+02:00", datetime(2026, 11, 27, 10, 15, tzinfo=UTC)),
        ("  2026-11-27T10:15  ", datetime(2026, 11, 27, 10, 15, tzinfo=UTC)),
    ],
)
def test_times_are_read_as_utc_whatever_their_spelling(text, expected):
    form = _Times({"at": text})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["at"] == expected
    assert form.cleaned_data["at"].tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("yesterday", "Not a date and time"),
        ("2026-13-45T10:00", "Not a date and time"),
        ("0001-01-01T00:00", "out of range"),
        ("9999-12-31T23:59", "out of range"),
        ("2026-11-27T10:00" + "0" * 100, "Not a date and time"),
    ],
)
def test_a_bad_time_gets_a_message_that_says_what_to_type(text, message):
    form = _Times({"at": text})
    assert not form.is_valid()
    assert message in " ".join(form.errors["at"])


@given(st.text(max_size=300))
def test_no_text_makes_the_fields_fail_other_than_with_a_form_error(text):
    form = _Times({"at": text, "before": text})
    if form.is_valid():
        value = form.cleaned_data["at"]
        assert value is None or (value.tzinfo is UTC and value == parse_utc(text))
    else:
        assert set(form.errors) <= {"at", "before"}


def test_a_cursor_names_a_position_and_a_forged_one_is_refused():
    keyset = Keyset(time_field="event_time")
    form = _Times({"before": "1764000000000000_42"})
    assert form.is_valid()
    assert form.cleaned_data["before"] == (datetime.fromtimestamp(1764000000, UTC), 42)
    for forged in ("1764000000000000", "abc_1", "1_" + "9" * 30, "9" * 30 + "_1"):
        form = _Times({"before": forged})
        assert not form.is_valid()
        assert "page link is malformed" in form.errors["before"][0]
    assert Keyset().parse("42") == (None, 42) and Keyset().parse("-1") is None
    assert keyset.parse("") is None
