"""The Logs tab against the sandbox: an endpoint's container lines newest first, filtered by
text and variant, paged to older lines without repeating or skipping one, followed live,
stale or explained when CloudWatch Logs fails, and a clear message for any bad input."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.aws import clients
from core.aws import logs as aws_logs
from core.aws.logs import LogCursor, filter_log_events, filter_pattern, newest_log_events
from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from monitoring.live import logs as live_logs
from monitoring.live.logs import LogQuery, endpoint_logs, log_group
from sandbox.testing import control
from tests.aws_actor import create_endpoint, invoke

pytestmark = pytest.mark.django_db
TARGET = settings.OPSPORTAL_TARGETS[0]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _crash(url: str, name: str, variant: str, count: int) -> None:
    """`count` requests to a variant whose container crashes on every one."""
    status, answer = control(
        url,
        "faults",
        body={"endpoint": name, "variant": variant, "error_rate": 1.0, "error_kind": "model"},
    )
    assert status == 200, answer
    for _ in range(count):
        with pytest.raises(ClientError):
            invoke(url, name, variant=variant)
    control(url, f"faults?endpoint={name}", method="DELETE")


@pytest.fixture
def crashed(sandbox) -> Endpoint:
    """v0 served once (an access line), v1 crashed three times (three tracebacks)."""
    name = create_endpoint(sandbox.url)
    invoke(sandbox.url, name, variant="v0")
    _crash(sandbox.url, name, "v1", 3)
    inventory_sync(target=TARGET, region="us-east-1")
    return Endpoint.objects.get(name=name)


def _lines(client, endpoint: Endpoint, **params: str):
    response = client.get(reverse("monitoring:endpoint_logs_lines", args=[endpoint.pk]), params)
    assert response.status_code == 200, response.content.decode()[:500]
    return response, response.context["panel"]


def _everything(endpoint: Endpoint) -> list:
    """The endpoint's whole log, oldest first, straight from FilterLogEvents."""
    page = filter_log_events(
        target=TARGET,
        region="us-east-1",
        group=log_group(endpoint.name),
        start=timezone.now() - timedelta(hours=1),
        end=timezone.now() + timedelta(minutes=1),
    )
    assert page.next_token is None
    return list(page.events)


def test_the_tab_shows_the_newest_lines_first_with_variant_and_instance(crashed, role_client):
    client = role_client("Viewer")
    page = client.get(reverse("monitoring:endpoint_logs", args=[crashed.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-tab="logs" aria-current="page"' in body
    assert 'hx-trigger="load"' in body

    response, panel = _lines(client, crashed, range="1h")
    times = [line.time for line in panel.lines]
    assert times == sorted(times, reverse=True)
    assert len(panel.lines) == len(_everything(crashed))
    crashes = [line for line in panel.lines if "Traceback" in line.message]
    assert len(crashes) == 3 and {line.variant for line in crashes} == {"v1"}
    assert all(line.instance.startswith("i-0") for line in panel.lines)
    assert panel.lines[-1].message.startswith("Starting the inference server")
    html = response.content.decode()
    assert "RuntimeError: the model worker crashed" in html and 'data-testid="log-line"' in html
    assert panel.older is None and "logs-older" not in html


def test_text_and_variant_narrow_the_lines(crashed, role_client):
    client = role_client("Viewer")
    _, crashes = _lines(client, crashed, range="1h", text="RuntimeError")
    assert len(crashes.lines) == 3
    _, v0 = _lines(client, crashed, range="1h", variant="v0")
    assert v0.lines and {line.variant for line in v0.lines} == {"v0"}
    assert any("POST /invocations" in line.message for line in v0.lines)
    response, nothing = _lines(client, crashed, range="1h", variant="v0", text="Traceback")
    assert nothing.lines == []
    assert "No log lines in this window that match." in response.content.decode()


def test_older_pages_neither_repeat_nor_skip_lines_sharing_a_millisecond(crashed):
    everything = _everything(crashed)
    stamps = [event.timestamp_ms for event in everything]
    assert len(stamps) > len(set(stamps)), "a start-up's worker lines share their millisecond"

    seen = []
    cursor = None
    end = timezone.now() + timedelta(minutes=1)
    for _ in range(len(everything) + 1):
        page = newest_log_events(
            target=TARGET,
            region="us-east-1",
            group=log_group(crashed.name),
            start=end - timedelta(hours=1),
            end=end,
            count=2,
            cursor=cursor,
        )
        seen.extend(page.events)
        cursor = page.older
        if cursor is None:
            break
    assert [e.event_id for e in seen] == [e.event_id for e in reversed(everything)]


def test_the_window_is_read_backwards_in_growing_slices(crashed):
    clients.reset_call_counts()
    end = timezone.now() + timedelta(minutes=1)
    found = newest_log_events(
        target=TARGET,
        region="us-east-1",
        group=log_group(crashed.name),
        start=end - timedelta(days=7),
        end=end,
        count=1000,
        max_calls=2,
    )
    calls = clients.call_counts()[("logs", "FilterLogEvents")]
    assert calls == 2
    assert len(found.events) == len(_everything(crashed))  # all in the newest slice
    # 7 days / 64 for the first slice, four times that for the second: then the allowance
    # was spent, and the older lines (none here) are for the next page.
    span = 7 * 86400_000 // 64
    assert found.older == LogCursor(aws_logs._ms(end) - 1 - 5 * span, 0)
    assert "the most one page may read" in found.stopped
    rest = newest_log_events(
        target=TARGET,
        region="us-east-1",
        group=log_group(crashed.name),
        start=end - timedelta(days=7),
        end=end,
        count=1000,
        cursor=found.older,
    )
    assert rest.events == () and rest.older is None and not rest.stopped


def test_a_crowded_slice_is_read_again_narrower_so_the_newest_lines_win(crashed, monkeypatch):
    everything = _everything(crashed)
    monkeypatch.setattr(aws_logs, "SLICE_EVENT_CAP", 3)
    monkeypatch.setattr(aws_logs, "MIN_SLICE_MS", 1)
    end = timezone.now() + timedelta(minutes=1)
    found = newest_log_events(
        target=TARGET,
        region="us-east-1",
        group=log_group(crashed.name),
        start=end - timedelta(hours=1),
        end=end,
        count=2,
        max_calls=200,
    )
    assert [e.event_id for e in found.events] == [e.event_id for e in everything[::-1][:2]]


def test_an_endpoint_without_logs_says_so(sandbox, role_client):
    from tests.endpoints.test_views import make_endpoint

    quiet = make_endpoint("never-logged-anything", weights=(1, 1))
    response, panel = _lines(role_client("Viewer"), quiet, range="15m")
    assert panel.group_missing and panel.lines == [] and not panel.error
    body = response.content.decode()
    assert "No log lines in this window." in body
    assert "/aws/sagemaker/Endpoints/never-logged-anything does not exist" in body


def test_cloudwatch_logs_failing_shows_the_last_good_lines_marked_stale(crashed, monkeypatch):
    query = LogQuery.preset("1h")
    good = endpoint_logs(endpoint=crashed, query=query)
    assert good.lines and not good.error
    cache.delete(live_logs._cache_key(crashed, query, last_good=False))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    clients.forget_clients()

    stale = endpoint_logs(endpoint=crashed, query=query)
    assert stale.error and stale.stale_since == good.fetched_at
    assert stale.lines == good.lines
    # A follow a little later asks about a moved window: the same question all the same.
    later = LogQuery.preset("1h", now=timezone.now() + timedelta(seconds=30))
    assert endpoint_logs(endpoint=crashed, query=later).lines == good.lines


def test_cloudwatch_logs_failing_without_any_lines_is_explained(role_client, monkeypatch):
    from tests.endpoints.test_views import make_endpoint

    endpoint = make_endpoint("lonely-logs", weights=(1, 1))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    clients.forget_clients()
    client = role_client("Viewer")
    response, panel = _lines(client, endpoint, range="1h", follow="on")
    assert panel.error
    body = response.content.decode()
    assert "No log lines could be read: CloudWatch Logs did not answer." in body
    # Followed, it asks again less and less often while the failures go on.
    assert 'hx-trigger="every 10s"' in body and "failed=1" in body
    response, _ = _lines(client, endpoint, range="1h", follow="on", failed="1")
    assert 'hx-trigger="every 20s"' in response.content.decode()


def test_following_polls_the_newest_lines_of_a_preset_only(crashed, role_client):
    client = role_client("Viewer")
    response, _ = _lines(client, crashed, range="15m", follow="on")
    assert 'hx-trigger="every 5s"' in response.content.decode()
    response, _ = _lines(client, crashed, range="15m")
    assert "hx-trigger" not in response.content.decode()
    now = timezone.now()
    response, _ = _lines(
        client,
        crashed,
        range="custom",
        start=f"{now - timedelta(hours=1):%Y-%m-%dT%H:%M}",
        end=f"{now + timedelta(minutes=1):%Y-%m-%dT%H:%M}",
        follow="on",
    )
    body = response.content.decode()
    assert "hx-trigger" not in body and "of a preset range only" in body


def test_older_lines_are_a_link_that_keeps_the_question(crashed, role_client, monkeypatch):
    monkeypatch.setattr(live_logs, "PAGE_LINES", 2)
    client = role_client("Viewer")
    response, panel = _lines(client, crashed, range="1h", variant="v1", follow="on")
    older = response.context["older_query"]
    params = parse_qs(older)
    assert params["before"] == [panel.older.encode()]
    assert params["variant"] == ["v1"] and params["range"] == ["1h"] and "follow" not in params
    page = client.get(f"{reverse('monitoring:endpoint_logs', args=[crashed.pk])}?{older}")
    assert page.status_code == 200
    _, next_page = _lines(client, crashed, **{k: v[0] for k, v in params.items()})
    assert next_page.lines and next_page.lines[0].time <= panel.lines[-1].time
    assert not set(next_page.lines) & set(panel.lines)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"range": "custom", "start": "2026-11-27T10:00", "end": "2026-11-27T09:00"},
            "before the end",
        ),
        ({"range": "custom", "start": "2025-01-01T00:00", "end": "2025-03-01T00:00"}, "31 days"),
        ({"range": "custom"}, "needs both a start and an end"),
        ({"range": "2h"}, "Choose one of the ranges offered"),
        ({"variant": "nope"}, "no variant of that name"),
        ({"before": "yesterday"}, "link to older lines is damaged"),
        ({"text": "a\nb"}, "control characters"),
        ({"text": '"\\"'}, "besides quotes and backslashes"),
        ({"text": "x" * 201}, "at most 200 characters"),
    ],
)
def test_bad_input_gets_a_clear_message(params, message, role_client):
    from tests.endpoints.test_views import make_endpoint

    endpoint = make_endpoint("bad-input", weights=(1, 1))
    client = role_client("Viewer")
    for name in ("monitoring:endpoint_logs", "monitoring:endpoint_logs_lines"):
        response = client.get(reverse(name, args=[endpoint.pk]), params)
        assert response.status_code == 400
        assert message in response.content.decode()


TEXT = st.one_of(
    st.sampled_from(["", "1h", "custom", "v0", "0.0", "1764000000000.3", "\x00", "🙂" * 300]),
    st.text(max_size=300),
)


@pytest.mark.parametrize("name", ["monitoring:endpoint_logs", "monitoring:endpoint_logs_lines"])
def test_no_query_parameter_makes_the_tab_fail(name, role_client, monkeypatch):
    from tests.endpoints.test_views import make_endpoint

    endpoint = make_endpoint("fuzzed", weights=(1, 1))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    clients.forget_clients()
    client = role_client("Viewer")
    url = reverse(name, args=[endpoint.pk])
    fields = ["range", "start", "end", "text", "variant", "before", "follow"]

    @hypothesis_settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.fixed_dictionaries({}, optional={field: TEXT for field in fields}))
    def check(params: dict[str, str]) -> None:
        response = client.get(url, params)
        assert response.status_code in (200, 400), (params, response.status_code)

    check()


def test_viewers_read_the_tab_and_anonymous_visitors_log_in(crashed, client, role_client):
    for name in ("monitoring:endpoint_logs", "monitoring:endpoint_logs_lines"):
        url = reverse(name, args=[crashed.pk])
        anonymous = client.get(url)
        assert anonymous.status_code == 302 and reverse("login") in anonymous["Location"]
    viewer = role_client("Viewer")
    for name in ("monitoring:endpoint_logs", "monitoring:endpoint_logs_lines"):
        assert viewer.get(reverse(name, args=[crashed.pk])).status_code == 200


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("Traceback", '"Traceback"'),
        ("worker crashed (signal 11)", '"worker crashed (signal 11)"'),
        ('said "no" twice', '"said " "no" " twice"'),
        ("C:\\temp\\x", '"C:" "temp" "x"'),
        ("ошибка модели", '"ошибка модели"'),
        ("", ""),
    ],
)
def test_text_becomes_quoted_phrases(text, pattern):
    assert filter_pattern(text) == pattern
