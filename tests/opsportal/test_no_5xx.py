"""No input makes a page fail: every query parameter of every page and every field of every
form, fed arbitrary text of any size and alphabet (hypothesis), is answered below 500 — a
clear message or the page's default — and nothing breaks. AWS is a closed port here, as
when it is down: pages that read it must degrade, not fail."""

from __future__ import annotations

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.world import check_run, shift, trail_event, transform_job

pytestmark = pytest.mark.django_db

NASTY = [
    "",
    " ",
    "²",
    "٣",
    "0001-01-01T00:00+05:00",
    "9999-12-31T23:59-05:00",
    "9999-12-31",
    "2026-02-30T25:61",
    "[" * 100_000,
    "{" * 5_000,
    "\x00",
    "a\x00b",
    "1e-320",
    "1e309",
    "-1",
    "NaN",
    "inf",
    "99999999999999999999999999",
    "1764000000000000_99999999999999999999",
    "<script>alert(1)</script>",
    "%00%ff",
    "../../etc/passwd",
    "s3://",
    "s3://bucket/" + "k" * 2000,
    "$..[?(@.a)]",
    "🙂" * 300,
    "x" * 70_000,
]
TEXT = st.one_of(st.sampled_from(NASTY), st.text(max_size=300))


def values_for(fields: list[str]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({name: TEXT for name in fields})


GET_PAGES = {
    "overview": ({}, []),
    "endpoints:list": ({}, ["name", "account", "region", "status", "sort", "deleted", "page"]),
    "endpoints:detail": ({"pk": "endpoint"}, []),
    "endpoints:invoke": ({"pk": "endpoint"}, []),
    "monitoring:endpoint_metrics": ({"pk": "endpoint"}, ["range", "start", "end"]),
    "monitoring:endpoint_metrics_panel": ({"pk": "endpoint"}, ["range", "start", "end"]),
    "monitoring:endpoint_monitoring": ({"pk": "endpoint"}, ["execution", "check"]),
    "monitoring:endpoint_monitoring_charts": ({"pk": "endpoint"}, ["execution", "feature"]),
    "monitoring:check_run_status": ({"pk": "endpoint", "run_id": "check_run"}, []),
    "triage:board": ({}, []),
    "triage:summary": ({"pk": "endpoint"}, []),
    "triage:endpoint_timeline": ({"pk": "endpoint"}, ["range", "start", "end"]),
    "triage:what_changed": ({"pk": "endpoint"}, ["from", "to"]),
    "apihistory:list": (
        {},
        ["range", "start", "end", "event", "principal", "endpoint", "failed", "writes", "q"]
        + ["before", "after"],
    ),
    "apihistory:detail": ({"pk": "trail_event"}, []),
    "apihistory:endpoint_changes": ({"pk": "endpoint"}, []),
    "audit:list": (
        {},
        ["actor", "action", "outcome", "target", "date_from", "date_to", "before", "after"],
    ),
    "shifts:list": ({}, ["endpoint", "state", "person", "page"]),
    "shifts:detail": ({"pk": "proposal"}, []),
    "shifts:endpoint": ({"pk": "endpoint"}, []),
    "shifts:propose": ({"pk": "endpoint"}, []),
    "transforms:list": ({}, ["text", "target_region", "status", "source", "page"]),
    "transforms:launch": ({}, ["copy"]),
    "transforms:models": ({}, ["target_region"]),
    "transforms:detail": ({"pk": "transform_job"}, []),
}
POST_FORMS = {
    "shifts:propose": (
        {"pk": "endpoint"},
        ["mode", "share_0", "share_1", "move_percent", "move_from", "move_to", "reason", "action"],
    ),
    "shifts:reject": ({"pk": "proposal"}, ["comment"]),
    "shifts:approve": ({"pk": "proposal"}, ["comment"]),
    "monitoring:endpoint_check_now": (
        {"pk": "endpoint"},
        ["window", "start", "end", "baseline_uri"],
    ),
    "transforms:launch": (
        {},
        [
            "target_region",
            "model_name",
            "input_uri",
            "content_type",
            "split_type",
            "compression_type",
            "batch_strategy",
            "max_payload_mb",
            "max_concurrent_transforms",
            "instance_type",
            "instance_count",
            "output_path",
            "accept",
            "assemble_with",
            "input_filter",
            "output_filter",
            "join_source",
            "kms_key_id",
            "environment",
        ],
    ),
    "triage:take": ({"pk": "endpoint"}, ["note"]),
    "endpoints:invoke": (
        {"pk": "endpoint"},
        ["content_type", "accept", "target_variant", "payload"],
    ),
}


@pytest.fixture
def admin_client(client, user_factory, endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    admin = user_factory("fuzzer", "Admin")
    client.force_login(admin)
    someone = user_factory("colleague", "Operator")
    objects = {
        "endpoint": endpoint.pk,
        "proposal": shift(endpoint, someone),
        "transform_job": transform_job().pk,
        "check_run": check_run(endpoint).pk,
        "trail_event": trail_event().pk,
    }
    client.objects = objects
    return client


def _url(client, name: str, kwargs: dict[str, str]) -> str:
    return reverse(name, kwargs={k: client.objects[v] for k, v in kwargs.items()})


SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("name", [n for n, (_, fields) in GET_PAGES.items() if fields])
def test_no_query_parameter_makes_a_page_fail(name, admin_client):
    kwargs, fields = GET_PAGES[name]
    url = _url(admin_client, name, kwargs)

    @SETTINGS
    @given(values_for(fields))
    def check(params: dict[str, str]) -> None:
        response = admin_client.get(url, params)
        assert response.status_code < 500, (name, params, response.status_code)

    check()


@pytest.mark.parametrize("name", list(POST_FORMS))
def test_no_form_input_makes_a_form_fail(name, admin_client):
    kwargs, fields = POST_FORMS[name]
    url = _url(admin_client, name, kwargs)

    @SETTINGS
    @given(values_for(fields))
    def check(data: dict[str, str]) -> None:
        response = admin_client.post(url, data)
        assert response.status_code < 500, (name, {k: v[:80] for k, v in data.items()})

    check()


@pytest.mark.parametrize("name", [n for n, (_, fields) in GET_PAGES.items() if not fields])
def test_every_page_without_parameters_answers(name, admin_client):
    assert admin_client.get(_url(admin_client, name, GET_PAGES[name][0])).status_code < 500
