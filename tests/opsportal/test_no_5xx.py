"""No input makes a page fail: every query parameter of every page and every field of every
form, fed arbitrary text of any size and alphabet (hypothesis), is answered below 500 — a
clear message or the page's default — and nothing breaks. AWS is a closed port here, as
when it is down: pages that read it must degrade, not fail."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.pages import GET_PAGES, POST_FORMS, page_objects, page_url

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


@pytest.fixture
def admin_client(client, user_factory, endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    client.force_login(user_factory("fuzzer", "Admin"))
    client.objects = page_objects(endpoint, user_factory("colleague", "Operator"))
    return client


SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("name", [n for n, (_, fields) in GET_PAGES.items() if fields])
def test_no_query_parameter_makes_a_page_fail(name, admin_client):
    kwargs, fields = GET_PAGES[name]
    url = page_url(admin_client.objects, name, kwargs)

    @SETTINGS
    @given(values_for(fields))
    def check(params: dict[str, str]) -> None:
        response = admin_client.get(url, params)
        assert response.status_code < 500, (name, params, response.status_code)

    check()


@pytest.mark.parametrize("name", list(POST_FORMS))
def test_no_form_input_makes_a_form_fail(name, admin_client):
    kwargs, fields = POST_FORMS[name]
    url = page_url(admin_client.objects, name, kwargs)

    @SETTINGS
    @given(values_for(fields))
    def check(data: dict[str, str]) -> None:
        response = admin_client.post(url, data)
        assert response.status_code < 500, (name, {k: v[:80] for k, v in data.items()})

    check()


@pytest.mark.parametrize("name", [n for n, (_, fields) in GET_PAGES.items() if not fields])
def test_every_page_without_parameters_answers(name, admin_client):
    assert (
        admin_client.get(page_url(admin_client.objects, name, GET_PAGES[name][0])).status_code < 500
    )
