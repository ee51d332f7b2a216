"""Check now: run Model Monitor's data-quality check over an endpoint's captured data.

Model Monitor is closed to new customers, and an existing schedule only looks at the hour
before it fires; an on-call engineer wants "is the input drifting right now?" for any window,
on any capturing endpoint. The request is checked and recorded at once (bad input changes
nothing); the check itself runs in a Celery task because a day of capture can be large: the
capture objects are streamed line by line through ``quality.rows_from_capture`` into
``quality.check``, which keeps a fixed-size summary per feature.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

import dataquality as quality
from audit.services import audit_record, enforce
from core.aws import s3 as aws_s3
from core.aws.errors import AwsError
from core.errors import Invalid
from core.queue import enqueue_on_commit
from core.targets import Target, target_by_name
from monitoring import policy, selectors, tasks
from monitoring.models import CheckRun, CheckRunStatus

if TYPE_CHECKING:
    from endpoints.models import Endpoint

logger = logging.getLogger(__name__)

BASELINE_MAX_BYTES = 5 * 1024 * 1024
_HOUR_FOLDER = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]+$")
_INFERENCE_TIME = re.compile(rb'"inferenceTime"\s*:\s*"([0-9T:\-]+)(?:\.\d+)?Z"')


class CheckRejected(Invalid):
    """The check cannot run as asked; the message tells the operator what to change."""


class CheckFailed(Exception):
    """The check ran but could not judge the data; the message is shown on the run."""


@dataclass(frozen=True)
class Baseline:
    statistics_uri: str
    constraints_uri: str
    source: str


def _baseline(*, endpoint: Endpoint, baseline_uri: str) -> Baseline:
    """The form's baseline folder (or a file in it), else the endpoint's schedule's."""
    if baseline_uri.strip():
        try:
            location = aws_s3.parse_s3_uri(baseline_uri)
        except ValueError as exc:
            raise CheckRejected(f"Baseline: {exc}") from None
        folder = location.key.rstrip("/")
        if folder.endswith(".json"):
            folder = folder.rsplit("/", 1)[0] if "/" in folder else ""
        base = f"s3://{location.bucket}/{folder}".rstrip("/")
        return Baseline(f"{base}/statistics.json", f"{base}/constraints.json", base)
    schedule = selectors.schedule_with_baseline(endpoint=endpoint)
    if schedule is None:
        raise CheckRejected(
            "No baseline: this endpoint has no monitoring schedule with a baseline. Give the S3 "
            "URI of a baseline folder holding statistics.json and constraints.json."
        )
    return Baseline(schedule.statistics_uri, schedule.constraints_uri, f"schedule {schedule.name}")


def _capture_uri(endpoint: Endpoint) -> str:
    capture = endpoint.data_capture or {}
    destination = str(capture.get("destination_s3_uri") or "")
    if not capture.get("enabled") or not destination:
        raise CheckRejected(
            f"{endpoint.name} does not capture its data: enable data capture in its endpoint "
            "config (EnableCapture with an Input or InputAndOutput mode) to check it."
        )
    try:
        aws_s3.parse_s3_uri(destination)
    except ValueError as exc:
        raise CheckRejected(f"The data capture destination is unusable: {exc}") from None
    return destination


def capture_keys(
    *,
    target: Target,
    region: str,
    capture_uri: str,
    endpoint_name: str,
    variants: list[str],
    start: datetime,
    end: datetime,
    limit: int,
) -> list[tuple[str, str]]:
    """(bucket, key) of the capture objects in the window's hour folders, at most
    `limit` + 1 of them (one more tells the caller there are too many).

    Per variant and day, one listing of ``<dest>/<endpoint>/<variant>/yyyy/mm/dd/`` that
    starts after the hours before the window and stops at the first hour after it.
    """
    location = aws_s3.parse_s3_uri(capture_uri)
    root = location.key.strip("/")
    first_hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    found: list[tuple[str, str]] = []
    for variant in variants:
        day = first_hour.replace(hour=0)
        while day < end:
            folder = f"{endpoint_name}/{variant}/{day:%Y/%m/%d}/"
            prefix = f"{root}/{folder}" if root else folder
            skip = f"{prefix}{first_hour.hour:02d}" if day == first_hour.replace(hour=0) else ""
            for item in aws_s3.iter_keys(
                target=target,
                region=region,
                bucket=location.bucket,
                prefix=prefix,
                start_after=skip,
            ):
                match = _HOUR_FOLDER.search(item.key)
                if match is None:
                    continue
                year, month, dom, hour = (int(part) for part in match.groups())
                if datetime(year, month, dom, hour, tzinfo=UTC) >= end:
                    break
                found.append((location.bucket, item.key))
                if len(found) > limit:
                    return found
            day += timedelta(days=1)
    return found


def check_run_request(
    *,
    endpoint: Endpoint,
    start: datetime,
    end: datetime,
    baseline_uri: str,
    actor: Any,
    request: HttpRequest | None = None,
) -> CheckRun:
    """Check the request, record it (audited) and queue the check (Operators); raises
    CheckRejected for input that cannot be checked, Refused for a role too low.

    Cheap AWS pre-flight (one listing per variant-day, one for the baseline) so that "no
    data in that window" and "no baseline there" are said on the form, not on a failed run.
    """
    enforce(
        policy.refusal_for("check_now", actor, endpoint),
        actor=actor,
        action="monitoring.check_now",
        target=endpoint.arn,
        request=request,
    )
    capture_uri = _capture_uri(endpoint)
    baseline = _baseline(endpoint=endpoint, baseline_uri=baseline_uri)
    target = target_by_name(endpoint.target)
    variants = sorted({v.name for v in endpoint.variants.all()})
    try:
        keys = capture_keys(
            target=target,
            region=endpoint.region,
            capture_uri=capture_uri,
            endpoint_name=endpoint.name,
            variants=variants,
            start=start,
            end=end,
            limit=1,
        )
        statistics = aws_s3.parse_s3_uri(baseline.statistics_uri)
        has_baseline = aws_s3.prefix_has_objects(
            target=target, region=endpoint.region, bucket=statistics.bucket, prefix=statistics.key
        )
    except AwsError as exc:
        raise CheckRejected(f"Could not look at the data in S3: {exc}") from None
    if not keys:
        raise CheckRejected(
            f"No captured data for {endpoint.name} between {start:%Y-%m-%d %H:%M} and "
            f"{end:%Y-%m-%d %H:%M} UTC under {capture_uri}."
        )
    if not has_baseline:
        raise CheckRejected(f"No baseline statistics at {baseline.statistics_uri}.")
    with transaction.atomic():
        run = CheckRun.objects.create(
            endpoint=endpoint,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
            window_start=start,
            window_end=end,
            capture_uri=capture_uri,
            statistics_uri=baseline.statistics_uri,
            constraints_uri=baseline.constraints_uri,
            baseline_source=baseline.source[:255],
            created_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            action="monitoring.check_now",
            target=endpoint.arn,
            after={
                "check_run": run.pk,
                "window_start": start.isoformat(),
                "window_end": end.isoformat(),
                "baseline": baseline.source,
                "statistics_uri": baseline.statistics_uri,
            },
            request=request,
        )
        enqueue_on_commit(tasks.check_run_execute, run.pk)
    return run


def check_run_execute(*, run_id: int) -> str:
    """Run one queued check and store its outcome; a run not pending is left alone, so a
    redelivered task does nothing."""
    with transaction.atomic():
        run = CheckRun.objects.select_for_update().select_related("endpoint").get(pk=run_id)
        if run.status != CheckRunStatus.PENDING:
            return run.status
        run.status = CheckRunStatus.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at"])
    try:
        result, counts, objects = _check(run)
    except (AwsError, CheckFailed, ValueError) as exc:
        outcome: dict[str, Any] = {"status": CheckRunStatus.FAILED, "error": str(exc)[:4000]}
    else:
        outcome = {
            "status": CheckRunStatus.COMPLETED,
            "violations": [v.as_dict() for v in result.violations],
            "violation_count": len(result.violations),
            "drift": {name: round(value, 6) for name, value in result.drift.items()},
            "rows": counts.rows,
            "malformed": counts.malformed,
            "objects_read": objects,
        }
    with transaction.atomic():
        # Store the outcome only if this is still the attempt the row is waiting for: a
        # sweep may have handed the run to another attempt meanwhile.
        current = CheckRun.objects.select_for_update().get(pk=run_id)
        if current.status != CheckRunStatus.RUNNING or current.started_at != run.started_at:
            return f"superseded: {current.status}"
        for name, value in outcome.items():
            setattr(current, name, value)
        current.finished_at = timezone.now()
        current.save()
        audit_record(
            actor=None,
            action="monitoring.check_now.finish",
            target=run.endpoint.arn,
            after={
                "check_run": current.pk,
                "status": current.status,
                "rows": current.rows,
                "violations": current.violation_count,
            },
            outcome="ok" if current.status == CheckRunStatus.COMPLETED else "failed",
            error=current.error,
        )
    return current.status


def _check(run: CheckRun) -> tuple[quality.CheckResult, quality.CaptureCounts, int]:
    endpoint = run.endpoint
    target = target_by_name(endpoint.target)
    statistics, constraints = (
        aws_s3.read_json_object(
            target=target, region=endpoint.region, uri=uri, max_bytes=BASELINE_MAX_BYTES
        )
        for uri in (run.statistics_uri, run.constraints_uri)
    )
    columns = [str(f.get("name")) for f in statistics.get("features") or []]
    if not columns:
        raise CheckFailed(f"The baseline statistics at {run.statistics_uri} list no features.")
    limit = settings.OPSPORTAL_CHECK_MAX_OBJECTS
    keys = capture_keys(
        target=target,
        region=endpoint.region,
        capture_uri=run.capture_uri,
        endpoint_name=endpoint.name,
        variants=sorted({v.name for v in endpoint.variants.all()}),
        start=run.window_start,
        end=run.window_end,
        limit=limit,
    )
    if len(keys) > limit:
        raise CheckFailed(
            f"More than {limit} capture objects in the window: choose a shorter window."
        )
    counts = quality.CaptureCounts()
    lines = _window_lines(
        target=target, region=endpoint.region, keys=keys, start=run.window_start, end=run.window_end
    )
    result = quality.check(
        rows=quality.rows_from_capture(lines=lines, counts=counts),
        columns=columns,
        baseline_statistics=statistics,
        constraints=constraints,
    )
    if not counts.rows:
        raise CheckFailed(
            f"No captured request rows in the window ({len(keys)} capture objects read, "
            f"{counts.malformed} malformed events, {counts.without_input} without input)."
        )
    return result, counts, len(keys)


def _window_lines(
    *, target: Target, region: str, keys: list[tuple[str, str]], start: datetime, end: datetime
) -> Iterator[bytes]:
    """Capture lines whose inferenceTime falls in [start, end); lines without one are kept
    (rows_from_capture counts them if malformed)."""
    first = start.astimezone(UTC).replace(microsecond=0)
    for bucket, key in keys:
        for line in aws_s3.iter_object_lines(target=target, region=region, bucket=bucket, key=key):
            match = _INFERENCE_TIME.search(line)
            if match is not None:
                moment = datetime.strptime(match.group(1).decode(), "%Y-%m-%dT%H:%M:%S")
                moment = moment.replace(tzinfo=UTC)
                if not first <= moment < end:
                    continue
            yield line


def check_run_sweep(*, now: datetime | None = None) -> int:
    """Re-queue checks whose task was lost: pending past OPSPORTAL_CHECK_STUCK_SECONDS since
    they were requested (broker down at request time), or running past it since they
    started (worker killed). A check runs at most the task time limit, so one that started
    longer ago than both cannot still be running and is never started twice; a check still
    within them is left alone however old its request is."""
    now = now or timezone.now()
    stuck_after = timedelta(
        seconds=max(settings.OPSPORTAL_CHECK_STUCK_SECONDS, settings.CELERY_TASK_TIME_LIMIT)
    )
    lost = CheckRun.objects.filter(
        Q(status=CheckRunStatus.PENDING, created_at__lt=now - stuck_after)
        | Q(status=CheckRunStatus.RUNNING, started_at__lt=now - stuck_after)
        | Q(
            status=CheckRunStatus.RUNNING, started_at__isnull=True, created_at__lt=now - stuck_after
        )
    )
    requeued = 0
    for run_id in list(lost.values_list("pk", flat=True)):
        with transaction.atomic():
            # Only if it is still lost now that the row is locked (it may have finished).
            if lost.filter(pk=run_id).update(status=CheckRunStatus.PENDING):
                enqueue_on_commit(tasks.check_run_execute, run_id)
                requeued += 1
    return requeued
