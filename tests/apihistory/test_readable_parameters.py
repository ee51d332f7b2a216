"""The API calls tab shows each request in words, one line per variant, and its times wrap
between date and time, never inside the date."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from apihistory.parameters import readable_parameters, words
from core.templatetags.portal import stamp
from tests.apihistory.test_pages import event
from tests.shifts.helpers import make_endpoint

WEIGHTS = {
    "endpointName": "tumor-classifier",
    "desiredWeightsAndCapacities": [
        {"variantName": "A", "desiredWeight": 0.9},
        {"variantName": "B", "desiredWeight": 0.1, "desiredInstanceCount": 2},
    ],
}


def as_dict(params, **kwargs):
    return {p.label: p.lines for p in readable_parameters(params, **kwargs)}


def test_a_weight_shift_reads_one_line_per_variant():
    shown = as_dict(WEIGHTS, leave_out=("endpointName",))
    assert shown == {
        "desired weights and capacities": [
            "A: desired weight 0.9",
            "B: desired weight 0.1, desired instance count 2",
        ]
    }


def test_scalars_flags_and_lists_read_as_words():
    shown = as_dict(
        {"endpointConfigName": "cfg-v2", "retainAllVariantProperties": True, "KmsKeyId": None}
    )
    assert shown == {
        "endpoint config name": ["cfg-v2"],
        "retain all variant properties": ["yes"],
        "kms key id": ["–"],
    }
    assert words("excludeRetainedVariantProperties") == "exclude retained variant properties"
    assert words("S3Uri") == "s3 uri"


def test_a_long_list_is_cut_with_a_count_of_the_rest():
    variants = [{"variantName": f"v{i}", "desiredWeight": 1} for i in range(25)]
    lines = as_dict({"desiredWeightsAndCapacities": variants})["desired weights and capacities"]
    assert len(lines) == 10 and lines[-1] == "… and 16 more"


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.text(),
        lambda inner: (
            st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=20), inner, max_size=5)
        ),
        max_leaves=30,
    )
)
def test_any_request_shape_reads_without_error_and_stays_short(params):
    for parameter in readable_parameters(params):
        assert all(len(line) <= 300 for line in parameter.lines)


def test_times_wrap_between_date_and_time_only():
    html = stamp(datetime(2026, 12, 4, 15, 20, 19, tzinfo=UTC))
    assert re.sub(r"<[^>]+>", "", html) == "2026-12-04 15:20:19"
    assert "<span>2026-12-04</span> <span>15:20:19</span>" in html
    assert 'datetime="2026-12-04T15:20:19+00:00"' in html
    assert re.sub(r"<[^>]+>", "", stamp(datetime(2026, 12, 4, 15, 20, tzinfo=UTC), "minutes")) == (
        "2026-12-04 15:20"
    )
    assert stamp(None) == "–"


@pytest.mark.django_db
def test_the_endpoint_tab_shows_the_shift_in_words(role_client):
    endpoint = make_endpoint("tumor-classifier")
    event(
        "UpdateEndpointWeightsAndCapacities",
        minutes_ago=3,
        endpoint="tumor-classifier",
        params=WEIGHTS,
    )
    url = reverse("apihistory:endpoint_changes", args=[endpoint.pk])
    body = role_client("Viewer").get(url).content.decode()
    cell = body.split('data-testid="call-parameters"', 1)[1].split("</td>", 1)[0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip()
    assert "A: desired weight 0.9" in text and "desired instance count 2" in text
    assert "{" not in text and "endpointName" not in text


def test_nested_settings_read_as_words_not_json():
    shown = as_dict(
        {
            "dataCaptureConfig": {
                "enableCapture": True,
                "captureOptions": [{"captureMode": "InputAndOutput"}],
                "captureContentTypeHeader": {"csvContentTypes": ["text/csv"]},
            }
        }
    )
    assert shown == {
        "data capture config": [
            "enable capture yes, capture options (capture mode InputAndOutput), "
            "capture content type header (csv content types text/csv)"
        ]
    }
