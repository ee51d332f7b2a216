"""CloudTrail ingestion against the sandbox over HTTP: the cursor and its overlap, late
delivery, throttling survived without loss, 2 calls a second never exceeded by two runs at
once, failures that leave the cursor alone, runs out of time, the lock, the beat task and
the backfill command."""

from __future__ import annotations

import contextlib
import io
import itertools
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from django.core.management import CommandError, call_command
from django.utils import timezone

from apihistory import rate_limit, tasks
from apihistory.models import IngestCursor, TrailEvent
from apihistory.services import trail_backfill, trail_ingest
from core.aws import cloudtrail as aws_cloudtrail
from core.models import SyncStatus
from sandbox.testing import MARIA_KEY, keyed_client
from tests.apihistory import (
    ACCOUNT,
    LookupArrivals,
    SendTimes,
    at_once,
    cloudtrail_settings,
    most_in_any_window,
    quiet_collector,
    record_events,
    target_for,
)

pytestmark = pytest.mark.django_db


def _stored_ids(region: str) -> list[str]:
    return list(TrailEvent.objects.filter(region=region).values_list("event_id", flat=True))


def _cursor(region: str) -> IngestCursor:
    return IngestCursor.objects.get(account_id=ACCOUNT, region=region)


def _health(region: str) -> SyncStatus:
    return SyncStatus.objects.get(kind="cloudtrail", target="sandbox", region=region)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(int(epoch), UTC)


def test_first_run_stores_the_window_and_the_next_rereads_only_the_overlap(sandbox, settings):
    region = "me-south-1"
    target = target_for(region)
    start = time.time() - 3600
    ids = record_events(sandbox, region=region, count=120, start=start, step=10)

    first = trail_ingest(target=target, region=region)

    assert first.ok and first.complete, first.summary()
    assert (first.pages, first.read, first.stored) == (3, 120, 120)
    assert sorted(_stored_ids(region)) == sorted(ids)
    cursor = _cursor(region)
    assert cursor.newest_event_time == _at(start + 119 * 10)
    assert cursor.events_stored == 120
    assert _health(region).last_success_at and not _health(region).last_error
    row = TrailEvent.objects.get(event_id=ids[0])
    assert (row.target, row.account_id, row.region) == ("sandbox", ACCOUNT, region)
    assert row.event_name == "DescribeEndpoint" and row.read_only is True
    assert row.principal_name == "maria.data-scientist" and row.endpoint_name == "ep-0"

    second = trail_ingest(target=target, region=region)

    overlap = timedelta(seconds=settings.OPSPORTAL_CLOUDTRAIL_OVERLAP_SECONDS)
    assert second.start == cursor.newest_event_time - overlap
    assert second.stored == 0 and second.read == 91  # the 15 minutes before the newest
    assert TrailEvent.objects.filter(region=region).count() == 120
    assert _cursor(region).events_stored == 120


def test_an_event_delivered_after_a_newer_one_is_caught_by_the_overlap(sandbox):
    region = "ap-northeast-2"
    target = target_for(region)
    with cloudtrail_settings(sandbox.url, lag_seconds=300):
        late_call = time.time()
        keyed_client(sandbox.url, "sagemaker", region, MARIA_KEY).list_endpoints(
            NameContains="delivered-late"
        )
        time.sleep(1.05)
        (already_there,) = record_events(sandbox, region=region, count=1, start=time.time())

        first = trail_ingest(target=target, region=region)

        assert first.ok and _stored_ids(region) == [already_there]
        cursor = _cursor(region)
        assert cursor.newest_event_time > _at(late_call)
        # CloudTrail delivers the earlier call only now.
        sandbox.state.cloudtrail.lag_seconds = 0

        second = trail_ingest(target=target, region=region)

    assert second.ok and second.stored == 1
    late = TrailEvent.objects.get(region=region, event_name="ListEndpoints")
    assert late.event_time < cursor.newest_event_time
    assert late.record["requestParameters"] == {"nameContains": "delivered-late"}
    assert TrailEvent.objects.filter(region=region).count() == 2


def test_throttling_is_waited_out_and_the_same_page_asked_again(sandbox):
    region = "ap-south-1"
    ids = record_events(sandbox, region=region, count=200, start=time.time() - 1800)
    # CloudTrail allowing half our rate: every other call is refused.
    with cloudtrail_settings(sandbox.url, lookup_rate=1), LookupArrivals(sandbox) as arrivals:
        result = trail_ingest(target=target_for(region), region=region)

    assert result.ok and result.complete, result.summary()
    assert result.throttled > 0 and arrivals.refused(region) == result.throttled
    assert result.pages == 4
    assert sorted(_stored_ids(region)) == sorted(ids)


def test_a_colleague_hammering_lookup_events_delays_ingest_but_loses_nothing(sandbox):
    region = "ap-southeast-1"
    ids = record_events(sandbox, region=region, count=150, start=time.time() - 1800)
    colleague = keyed_client(sandbox.url, "cloudtrail", region, "testing")
    stop = threading.Event()

    def hammer() -> None:
        until = time.monotonic() + 2.5
        while not stop.is_set() and time.monotonic() < until:
            with contextlib.suppress(ClientError):
                colleague.lookup_events(MaxResults=1)

    worker = threading.Thread(target=hammer)
    with LookupArrivals(sandbox) as arrivals:
        worker.start()
        time.sleep(0.2)
        try:
            result = trail_ingest(target=target_for(region), region=region)
        finally:
            stop.set()
            worker.join()

    assert result.ok and result.complete, result.summary()
    assert result.throttled > 0 and arrivals.refused(region) > 0
    assert sorted(_stored_ids(region)) == sorted(ids)


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_stay_within_two_calls_a_second(sandbox):
    region = "af-south-1"
    target = target_for(region)
    ids = record_events(sandbox, region=region, count=200, start=time.time() - 3000, step=5)

    with (
        quiet_collector(),
        SendTimes((target, region)) as sent,
        LookupArrivals(sandbox) as arrivals,
    ):
        results = at_once(
            lambda: trail_ingest(target=target, region=region),
            lambda: trail_backfill(
                target=target, region=region, since=timezone.now() - timedelta(hours=2)
            ),
        )

    assert all(not isinstance(r, Exception) and r.ok for r in results), results
    arrived = arrivals.times(region)
    assert len(sent.times) == len(arrived) == sum(r.pages for r in results) == 8
    assert most_in_any_window(sent.times, 1.0) <= 2
    assert most_in_any_window(arrived, 1.0) <= 2
    assert arrivals.refused(region) == 0
    stored = _stored_ids(region)
    assert len(stored) == len(set(stored)) and sorted(stored) == sorted(ids)


def test_a_failure_mid_window_leaves_the_cursor_and_the_next_run_resumes(sandbox):
    region = "eu-central-1"
    target = target_for(region)
    ids = record_events(sandbox, region=region, count=120, start=time.time() - 1800)
    gateway = aws_cloudtrail._cloudtrail(target, region)
    calls = itertools.count(1)

    def drop_second_call(**_: object) -> None:
        if next(calls) == 2:
            raise EndpointConnectionError(endpoint_url=sandbox.url)

    gateway.meta.events.register("before-send.cloudtrail.LookupEvents", drop_second_call)
    try:
        failed = trail_ingest(target=target, region=region)
    finally:
        gateway.meta.events.unregister("before-send.cloudtrail.LookupEvents", drop_second_call)

    assert not failed.ok and "EndpointConnectionError" in failed.error
    cursor = _cursor(region)
    assert cursor.newest_event_time is None and _health(region).last_success_at is None
    assert "Could not connect" in _health(region).last_error
    assert _health(region).failing_since is not None
    assert TrailEvent.objects.filter(region=region).count() == 50  # the page it did read

    resumed = trail_ingest(target=target, region=region)

    assert resumed.ok and resumed.stored == 70
    cursor = _cursor(region)
    assert _health(region).last_error == "" and _health(region).failing_since is None
    assert cursor.newest_event_time is not None and cursor.events_stored == 120
    assert sorted(_stored_ids(region)) == sorted(ids)


def test_a_run_out_of_time_leaves_a_backlog_that_the_next_runs_drain(sandbox, settings):
    settings.OPSPORTAL_CLOUDTRAIL_OVERLAP_SECONDS = 60
    region = "eu-west-3"
    target = target_for(region)
    ids = record_events(sandbox, region=region, count=130, start=time.time() - 7200, step=30)

    first = trail_ingest(target=target, region=region, budget_seconds=0)

    assert first.ok and not first.complete and first.stored == 50
    cursor = _cursor(region)
    assert cursor.backlog_start == first.start and cursor.backlog_end is not None
    assert cursor.newest_event_time is not None

    second = trail_ingest(target=target, region=region, budget_seconds=0)
    third = trail_ingest(target=target, region=region, budget_seconds=0)

    assert (second.complete, third.complete) == (False, True)
    assert first.stored + second.stored + third.stored == 130
    cursor = _cursor(region)
    assert cursor.backlog_start is None and cursor.backlog_end is None
    assert sorted(_stored_ids(region)) == sorted(ids)


def test_a_second_run_for_the_same_region_is_skipped(sandbox):
    region = "eu-south-1"
    target = target_for(region)
    record_events(sandbox, region=region, count=3, start=time.time() - 600)

    with rate_limit.exclusive(rate_limit.lookup_key(ACCOUNT, region), timeout=60) as held:
        assert held
        skipped = trail_ingest(target=target, region=region)

    assert skipped.skipped and skipped.ok and skipped.pages == 0
    assert "another ingest" in skipped.summary()
    ran = trail_ingest(target=target, region=region)
    assert not ran.skipped and ran.stored == 3


def test_the_beat_task_ingests_every_target_region(sandbox, settings):
    regions = ("il-central-1", "ap-southeast-3")
    settings.OPSPORTAL_TARGETS = (target_for(*regions),)
    for region in regions:
        record_events(sandbox, region=region, count=4, start=time.time() - 600)

    assert tasks.cloudtrail_ingest_all() == 2

    for region in regions:
        assert TrailEvent.objects.filter(region=region).count() == 4
        assert _health(region).last_success_at is not None
    entry = settings.CELERY_BEAT_SCHEDULE["cloudtrail-ingest-all"]
    assert entry["task"] == tasks.cloudtrail_ingest_all.name
    assert entry["schedule"] == float(settings.OPSPORTAL_CLOUDTRAIL_INTERVAL_SECONDS)


def test_the_backfill_command_reads_beyond_the_first_run(sandbox, settings):
    region = "ap-east-1"
    settings.OPSPORTAL_TARGETS = (target_for(region),)
    now = time.time()
    old = record_events(sandbox, region=region, count=3, start=now - 3 * 86400)
    recent = record_events(sandbox, region=region, count=2, start=now - 3600)

    first = trail_ingest(target=target_for(region), region=region)
    assert sorted(_stored_ids(region)) == sorted(recent)  # one day back, by default

    out = io.StringIO()
    call_command("ingest_cloudtrail", "--since", "4d", "--region", region, stdout=out)

    assert first.ok and f"sandbox/{region}: 5 events read" in out.getvalue()
    assert "3 new" in out.getvalue()
    assert sorted(_stored_ids(region)) == sorted(old + recent)

    out = io.StringIO()
    call_command("ingest_cloudtrail", "--target", "sandbox", stdout=out)
    assert "0 new" in out.getvalue()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--since", "7x"], "is not a duration: use a number and m, h or d"),
        (["--since", "seven days"], "is not a duration"),
        (["--since", "0h"], "must be longer than zero"),
        (["--since", "91d"], "beyond the 90 days"),
        (["--since", "1d", "--target", "nope"], "No target named 'nope'"),
        (["--since", "1d", "--region", "mars-north-1"], "is not one of target sandbox's"),
        (["--since", "1d", "--from-s3", "s3://bucket/x"], "not allowed with argument"),
    ],
)
def test_the_command_refuses_bad_input_with_a_clear_message(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("ingest_cloudtrail", *arguments, stdout=io.StringIO())
    assert not TrailEvent.objects.exists() and not IngestCursor.objects.exists()


def test_calls_in_the_same_second_keep_cloudtrails_order(sandbox):
    """CloudTrail's times are whole seconds; between calls in one second its own order (as
    LookupEvents pages them) is all there is, and pages show them in that order."""
    region = "ca-west-1"
    ids = record_events(sandbox, region=region, count=5, start=time.time() - 60, step=0.0)

    assert trail_ingest(target=target_for(region), region=region).ok

    newest_first = TrailEvent.objects.filter(region=region).order_by("-event_time", "-id")
    assert [e.event_id for e in newest_first] == ids[::-1]
