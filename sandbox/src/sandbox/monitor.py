"""Model Monitor: data-quality schedules, their executions, and the clock that fires them.

moto has no monitoring schedules at all. Here a schedule holds its job definition and its
cadence; at each scheduled time it gets an execution (a processing job on AWS) that reads the
endpoint's data capture for the window before that time from S3, exactly as
``sandbox/capture.py`` wrote it, checks the rows against the baseline with the engine the
portal uses too (``dataquality``), writes ``statistics.json`` and ``constraint_violations.json``
to ``<S3Output.S3Uri>/<endpoint>/<schedule>/yyyy/mm/dd/hh/`` and publishes per-feature
CloudWatch metrics, which is what the SageMaker-provided analyzer does.

An execution goes Pending -> InProgress -> Completed, CompletedWithViolations or Failed. With
no captured rows in its window it fails with AWS's "Job inputs had no data"; a baseline that
cannot be read fails it with a reason naming the object. A schedule without a baseline only
profiles the data (statistics.json, no violations), as on AWS.

Time: AWS starts an execution at each scheduled hour (up to 20 minutes late). The sandbox's
schedule clock can run ``speed`` times faster than the wall clock, so a demo sees an hourly
schedule fire every 3600/speed real seconds. The report's hour folder and the processing job's
name are on that clock (it runs ahead of the wall clock when speed > 1, which keeps every
execution's folder distinct); ScheduledTime is the wall-clock moment that schedule time stands
for, so no execution is ever dated in the future. The capture window is mapped back to real
time, so an execution reads the last 3600/speed real seconds of capture, and metrics are
stamped with the real start of that window. With speed 1 the two clocks are the same.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sandbox import moto_bridge
from sandbox.capture import DataCapture, bucket_and_prefix
from sandbox.endpoints import EndpointStore
from sandbox.metric_store import MetricStore, SeriesKey, dimensions_key
from sandbox.model_data import split_s3_url

logger = logging.getLogger(__name__)

HOUR = 3600
MAX_WINDOW_SECONDS = 24 * HOUR
MAX_CLOCK_SPEED = 3600.0
METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
NO_DATA = "Job inputs had no data"
STATISTICS_FILE = "statistics.json"
VIOLATIONS_FILE = "constraint_violations.json"
_HOURLY = "cron(0 * ? * * *)"
_CRON = re.compile(r"^cron\(0 (\*|\d{1,2})(?:/(\d{1,2}))? \? \* \* \*\)$")
_OFFSET = re.compile(r"^-P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_CAPTURE_HOUR = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]+$")


class ScheduleStatus(StrEnum):
    PENDING = "Pending"
    FAILED = "Failed"
    SCHEDULED = "Scheduled"
    STOPPED = "Stopped"


class ExecutionStatus(StrEnum):
    PENDING = "Pending"
    COMPLETED = "Completed"
    COMPLETED_WITH_VIOLATIONS = "CompletedWithViolations"
    IN_PROGRESS = "InProgress"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"


class CadenceError(ValueError):
    """A ScheduleExpression or analysis offset Model Monitor does not accept; says why."""


class ScheduleClock:
    """The time schedules run on: the wall clock, sped up ``speed`` times from an anchor.

    Before the anchor (the seed's history) the two clocks agree, so a day of past executions
    stays a day long whatever the speed.
    """

    def __init__(
        self,
        speed: float = 1.0,
        real: Callable[[], float] = time.time,
        anchor: float | None = None,
    ) -> None:
        if not 1.0 <= speed <= MAX_CLOCK_SPEED:
            raise ValueError(f"clock_speed must be between 1 and {MAX_CLOCK_SPEED:g}; got {speed}.")
        self.speed = speed
        self.real = real
        self.anchor = real() if anchor is None else anchor

    def now(self) -> float:
        real = self.real()
        return real if real <= self.anchor else self.anchor + (real - self.anchor) * self.speed

    def real_time(self, schedule_time: float) -> float:
        """The wall-clock moment a schedule-clock moment stands for."""
        if schedule_time <= self.anchor:
            return schedule_time
        return self.anchor + (schedule_time - self.anchor) / self.speed


@dataclass(frozen=True)
class Cadence:
    """When a schedule fires: at the top of the listed UTC hours, or once (``NOW``)."""

    expression: str
    hours: frozenset[int]

    @property
    def once(self) -> bool:
        return not self.hours

    def next_after(self, moment: float) -> float | None:
        """The first firing strictly after ``moment``; None for a one-time schedule."""
        if self.once:
            return None
        candidate = (int(moment) // HOUR + 1) * HOUR
        while (candidate % 86400) // HOUR not in self.hours:
            candidate += HOUR
        return float(candidate)

    def previous_before(self, moment: float) -> float:
        """The last firing strictly before ``moment`` (the start of its default window)."""
        candidate = (int(-(-moment // HOUR)) - 1) * HOUR
        while (candidate % 86400) // HOUR not in self.hours:
            candidate -= HOUR
        return float(candidate)


def parse_cadence(expression: str) -> Cadence:
    """Model Monitor's expressions: hourly, daily at an hour, every N hours from an hour, NOW."""
    text = expression.strip()
    if text == "NOW":
        return Cadence("NOW", frozenset())
    match = _CRON.match(text)
    if match is None:
        raise CadenceError(
            f"Schedule expression '{expression}' is not supported. Use {_HOURLY} (hourly), "
            "cron(0 H ? * * *) (daily at hour H UTC), cron(0 H/N ? * * *) (every N hours from "
            "hour H) or NOW (once, immediately)."
        )
    start = 0 if match.group(1) == "*" else int(match.group(1))
    step = int(match.group(2)) if match.group(2) else (1 if match.group(1) == "*" else 24)
    if not 0 <= start <= 23 or not 1 <= step <= 24:
        raise CadenceError(
            f"Schedule expression '{expression}': the hour must be 0-23 and the rate a whole "
            "number of hours between 1 and 24."
        )
    return Cadence(text, frozenset(range(start, 24, step)))


def parse_offset(text: str, member: str) -> float:
    """An ISO 8601 duration before the scheduled time ("-PT1H") in seconds, negative or 0."""
    match = _OFFSET.match(text.strip())
    if match is None or text.strip() in ("-P", "-PT"):
        raise CadenceError(
            f"{member} '{text}' must be an ISO 8601 duration before the scheduled time, e.g. "
            "-PT1H or -PT0H."
        )
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return -float(days * 86400 + hours * HOUR + minutes * 60 + seconds)


@dataclass(frozen=True)
class JobDefinition:
    """What every execution of a schedule runs, taken from MonitoringJobDefinition."""

    endpoint_name: str
    input_local_path: str
    output_uri: str
    output_local_path: str
    statistics_uri: str | None
    constraints_uri: str | None
    publish_metrics: bool
    role_arn: str
    image_uri: str
    cluster: Mapping[str, Any]
    environment: Mapping[str, str]
    max_runtime_seconds: int
    kms_key_id: str | None = None


@dataclass
class Schedule:
    """One monitoring schedule as DescribeMonitoringSchedule shows it, plus its next firing."""

    account_id: str
    region: str
    name: str
    arn: str
    monitoring_type: str
    cadence: Cadence
    definition: JobDefinition
    config: dict[str, Any]
    creation_time: float
    last_modified_time: float
    start_offset: float | None = None
    end_offset: float | None = None
    job_definition_name: str | None = None
    status: ScheduleStatus = ScheduleStatus.SCHEDULED
    failure_reason: str | None = None
    # Schedule-clock time of the next execution; None when none is due (stopped, or done).
    next_due: float | None = None

    def window(self, scheduled_time: float) -> tuple[float, float]:
        """The schedule-clock span an execution at ``scheduled_time`` analyses."""
        if self.start_offset is not None:
            start = scheduled_time + self.start_offset
        else:
            start = self.cadence.previous_before(scheduled_time)
        end = scheduled_time + (self.end_offset or 0.0)
        return start, end


@dataclass
class Execution:
    """One monitoring execution and the processing job that ran it."""

    account_id: str
    region: str
    schedule_name: str
    schedule_arn: str
    monitoring_type: str
    job_definition_name: str | None
    definition: JobDefinition
    # Wall-clock time (ScheduledTime); `window` is on the schedule clock.
    scheduled_time: float
    window: tuple[float, float]
    processing_job_name: str
    processing_job_arn: str
    report_uri: str
    # The captured data it reads: the endpoint's folder under the capture destination.
    input_uri: str
    creation_time: float
    last_modified_time: float
    status: ExecutionStatus = ExecutionStatus.PENDING
    failure_reason: str | None = None
    exit_message: str | None = None
    start_time: float | None = None
    end_time: float | None = None
    violations: int = 0

    @property
    def endpoint_name(self) -> str:
        return self.definition.endpoint_name


class DuplicateSchedule(Exception):
    """A schedule of that name already exists in the account and region."""


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def report_uri(definition: JobDefinition, schedule: str, scheduled_time: float) -> str:
    """``<S3Output.S3Uri>/<endpoint>/<schedule>/yyyy/mm/dd/hh``, the hour of the scheduled time."""
    hour = datetime.fromtimestamp(scheduled_time, tz=UTC).strftime("%Y/%m/%d/%H")
    base = definition.output_uri.rstrip("/")
    return f"{base}/{definition.endpoint_name}/{schedule}/{hour}"


def processing_job_name(scheduled_time: float) -> str:
    """AWS's naming: ``model-monitoring-<yyyymmddHHMM>-<24 hex>``."""
    stamp = datetime.fromtimestamp(scheduled_time, tz=UTC).strftime("%Y%m%d%H%M")
    return f"model-monitoring-{stamp}-{uuid.uuid4().hex[:24]}"


class MonitorStore:
    """Every account's schedules and executions; decides which executions are due."""

    def __init__(self, clock: ScheduleClock | None = None) -> None:
        self.clock = clock or ScheduleClock()
        self._schedules: dict[tuple[str, str, str], Schedule] = {}
        self._executions: list[Execution] = []
        self._lock = threading.Lock()

    def add(self, schedule: Schedule) -> None:
        key = (schedule.account_id, schedule.region, schedule.name)
        with self._lock:
            if key in self._schedules:
                raise DuplicateSchedule()
            if schedule.cadence.once:
                schedule.next_due = self.clock.now()
            else:
                schedule.next_due = schedule.cadence.next_after(self.clock.now())
            self._schedules[key] = schedule

    def get(self, account_id: str, region: str, name: str) -> Schedule | None:
        with self._lock:
            return self._schedules.get((account_id, region, name))

    def schedules(self, account_id: str, region: str) -> list[Schedule]:
        with self._lock:
            return [
                s
                for s in self._schedules.values()
                if (s.account_id, s.region) == (account_id, region)
            ]

    def remove(self, account_id: str, region: str, name: str) -> Schedule | None:
        """Delete a schedule; its executions stay listed, as AWS keeps the history."""
        with self._lock:
            return self._schedules.pop((account_id, region, name), None)

    def set_running(self, schedule: Schedule, running: bool) -> None:
        """StartMonitoringSchedule / StopMonitoringSchedule; the next firing follows now."""
        with self._lock:
            now = self.clock.now()
            if running and schedule.status == ScheduleStatus.STOPPED:
                schedule.status = ScheduleStatus.SCHEDULED
                schedule.next_due = schedule.cadence.next_after(now)
                schedule.last_modified_time = self.clock.real()
            elif not running and schedule.status != ScheduleStatus.STOPPED:
                schedule.status = ScheduleStatus.STOPPED
                schedule.next_due = None
                schedule.last_modified_time = self.clock.real()

    def due(self) -> list[tuple[Schedule, float]]:
        """Schedules whose time has come, each with the latest scheduled time it missed.

        A scheduler that fell behind (a paused process) runs the latest slot only, as AWS does
        not catch up on hours it skipped.
        """
        found: list[tuple[Schedule, float]] = []
        with self._lock:
            now = self.clock.now()
            for schedule in self._schedules.values():
                if schedule.status != ScheduleStatus.SCHEDULED or schedule.next_due is None:
                    continue
                if schedule.next_due > now:
                    continue
                if schedule.cadence.once:
                    found.append((schedule, schedule.next_due))
                    schedule.next_due = None
                    continue
                latest = schedule.cadence.previous_before(now + 1e-6)
                found.append((schedule, max(latest, schedule.next_due)))
                schedule.next_due = schedule.cadence.next_after(now)
        return found

    def all_schedules(self) -> list[Schedule]:
        with self._lock:
            return list(self._schedules.values())

    def running(
        self, *, name: str | None = None, region: str | None = None, account_id: str | None = None
    ) -> list[Schedule]:
        """Scheduled (not stopped) schedules, filtered by name, region and account."""
        with self._lock:
            return [
                s
                for s in self._schedules.values()
                if s.status == ScheduleStatus.SCHEDULED
                and (name is None or s.name == name)
                and (region is None or s.region == region)
                and (account_id is None or s.account_id == account_id)
            ]

    def add_execution(self, execution: Execution) -> None:
        with self._lock:
            self._executions.append(execution)

    def update(self, execution: Execution, **changes: Any) -> None:
        """Change an execution's fields under the lock, so readers never see half an update."""
        with self._lock:
            for name, value in changes.items():
                setattr(execution, name, value)

    def executions(self, account_id: str, region: str) -> list[Execution]:
        with self._lock:
            return [
                replace(e)
                for e in self._executions
                if (e.account_id, e.region) == (account_id, region)
            ]

    def execution_for_job(self, account_id: str, region: str, job_name: str) -> Execution | None:
        with self._lock:
            for execution in self._executions:
                if (execution.account_id, execution.region, execution.processing_job_name) == (
                    account_id,
                    region,
                    job_name,
                ):
                    return replace(execution)
        return None

    def last_execution(self, schedule: Schedule) -> Execution | None:
        """The schedule's most recent execution (latest scheduled, then latest created)."""
        with self._lock:
            key = (schedule.account_id, schedule.region, schedule.arn)
            mine = [e for e in self._executions if (e.account_id, e.region, e.schedule_arn) == key]
            latest = max(mine, key=lambda e: (e.scheduled_time, e.creation_time), default=None)
            return replace(latest) if latest is not None else None

    def clear(self) -> None:
        with self._lock:
            self._schedules.clear()
            self._executions.clear()


class ExecutionFailure(Exception):
    """Why an execution failed, in the words its FailureReason uses."""


@dataclass
class Analysis:
    """What an execution found: the report documents and the per-feature metric values."""

    statistics: dict[str, Any]
    violations: dict[str, Any] | None
    drift: dict[str, float] = field(default_factory=dict)

    @property
    def violation_count(self) -> int:
        return len((self.violations or {}).get("violations") or [])


def _read_json(account_id: str, region: str, uri: str, what: str) -> dict[str, Any]:
    location = split_s3_url(uri)
    found = (
        moto_bridge.read_s3_object(account_id, region, *location) if location is not None else None
    )
    if found is None:
        raise ExecutionFailure(
            f"ClientError: Could not read the baseline {what} from {uri}: no such object. "
            "Please ensure the object exists and the role can read it."
        )
    try:
        document = json.loads(found.data)
    except ValueError:
        raise ExecutionFailure(f"ClientError: The baseline {what} at {uri} is not JSON.") from None
    if not isinstance(document, dict):
        raise ExecutionFailure(f"ClientError: The baseline {what} at {uri} is not a JSON object.")
    return document


def captured_lines(
    account_id: str, region: str, capture_uri: str, endpoint: str, start: float, end: float
) -> list[str]:
    """Capture lines of the endpoint whose inferenceTime is in [start, end) (real time).

    Files live in hour folders (the hour of every record in them), so only folders that
    overlap the window are read.
    """
    location = bucket_and_prefix(capture_uri)
    if location is None:
        return []
    bucket, prefix = location
    folder = f"{prefix}/{endpoint}/" if prefix else f"{endpoint}/"
    keys = moto_bridge.list_s3_keys(account_id, region, bucket, folder) or []
    first_second = int(start // 1)
    lines: list[str] = []
    for key in keys:
        match = _CAPTURE_HOUR.search(key)
        if match is None:
            continue
        year, month, day, hour = (int(part) for part in match.groups())
        hour_start = datetime(year, month, day, hour, tzinfo=UTC).timestamp()
        if hour_start >= end or hour_start + HOUR <= start:
            continue
        found = moto_bridge.read_s3_object(account_id, region, bucket, key)
        if found is None:
            continue
        for line in found.data.decode("utf-8", errors="replace").splitlines():
            moment = _inference_time(line)
            if moment is not None and first_second <= moment < end:
                lines.append(line)
    return lines


def _inference_time(line: str) -> float | None:
    try:
        stamp = json.loads(line)["eventMetadata"]["inferenceTime"]
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except (ValueError, KeyError, TypeError):
        return None


def analyse(
    rows: Sequence[Sequence[str]],
    baseline_statistics: dict[str, Any] | None,
    constraints: dict[str, Any] | None,
) -> Analysis:
    """Profile the rows, and check them against the baseline when there is one."""
    import dataquality as quality

    if not rows:
        raise ExecutionFailure(NO_DATA)
    if baseline_statistics is not None:
        columns = [str(f["name"]) for f in baseline_statistics.get("features") or []]
    else:
        columns = [f"_c{index}" for index in range(max(len(row) for row in rows))]
    if baseline_statistics is None or constraints is None:
        return Analysis(quality.profile(rows=list(rows), columns=columns), None)
    result = quality.check(
        rows=list(rows),
        columns=columns,
        baseline_statistics=baseline_statistics,
        constraints=constraints,
    )
    # The distances the check judged by, computed from the rows (drift_metrics would
    # re-estimate them from the statistics' buckets).
    return Analysis(result.statistics, result.violations_document(), dict(result.drift))


def feature_metrics(analysis: Analysis) -> dict[str, float]:
    """Per feature: ``feature_data_<f>`` (completeness), ``feature_non_null_<f>`` (values
    present) and, against a baseline, ``feature_baseline_drift_<f>`` (distribution distance)."""
    values: dict[str, float] = {}
    for feature in analysis.statistics.get("features") or []:
        name = str(feature.get("name"))
        block = feature.get("numerical_statistics") or feature.get("string_statistics") or {}
        common = block.get("common") or {}
        present = float(common.get("num_present") or 0)
        missing = float(common.get("num_missing") or 0)
        total = present + missing
        values[f"feature_data_{name}"] = present / total if total else 0.0
        values[f"feature_non_null_{name}"] = present
    for name, distance in analysis.drift.items():
        values[f"feature_baseline_drift_{name}"] = float(distance)
    return values


class ModelMonitor:
    """Runs executions: the scheduler's due ones, on demand ones, and the seed's history."""

    def __init__(
        self,
        store: MonitorStore,
        endpoints: EndpointStore,
        capture: DataCapture,
        metrics: MetricStore,
    ) -> None:
        self.store = store
        self.endpoints = endpoints
        self.capture = capture
        self.metrics = metrics
        self._running = threading.Lock()

    @property
    def clock(self) -> ScheduleClock:
        return self.store.clock

    def run_due(self) -> list[Execution]:
        """Run every execution whose scheduled time has come (the background scheduler)."""
        due = self.store.due()
        if not due:
            return []
        return self._run_all(due)

    def run_now(
        self, *, name: str | None = None, region: str | None = None, account_id: str | None = None
    ) -> list[Execution]:
        """Run one execution now for each Scheduled schedule (or the named ones), synchronously.

        Its scheduled time is now, so the window is the period just ended and includes traffic
        sent a moment ago: what a test or a demo wants from "run it now".
        """
        now = self.clock.now()
        chosen = [
            (schedule, now)
            for schedule in self.store.running(name=name, region=region, account_id=account_id)
        ]
        return self._run_all(chosen)

    def _run_all(self, due: Iterable[tuple[Schedule, float]]) -> list[Execution]:
        with self._running:
            # Publish the capture buffers first: the window ends now, not at the last flush.
            self.capture.flush(include_current=True)
            return [self.run(schedule, scheduled_time) for schedule, scheduled_time in due]

    def run(
        self,
        schedule: Schedule,
        scheduled_time: float,
        *,
        rows: Sequence[Sequence[str]] | None = None,
        timeline: tuple[float, float, float] | None = None,
    ) -> Execution:
        """Create and run one execution; ``rows`` and ``timeline`` are for the seed's history.

        ``timeline`` is (created, started, ended) in real time for an execution that ran in
        the past; without it the execution runs now.
        """
        created = timeline[0] if timeline else self.clock.real()
        window = schedule.window(scheduled_time)
        name = processing_job_name(scheduled_time)
        execution = Execution(
            account_id=schedule.account_id,
            region=schedule.region,
            schedule_name=schedule.name,
            schedule_arn=schedule.arn,
            monitoring_type=schedule.monitoring_type,
            job_definition_name=schedule.job_definition_name,
            definition=schedule.definition,
            scheduled_time=self.clock.real_time(scheduled_time),
            window=window,
            processing_job_name=name,
            processing_job_arn=schedule.arn.split(":monitoring-schedule/")[0]
            + f":processing-job/{name}",
            report_uri=report_uri(schedule.definition, schedule.name, scheduled_time),
            input_uri=self._input_uri(schedule),
            creation_time=created,
            last_modified_time=created,
        )
        self.store.add_execution(execution)
        started = timeline[1] if timeline else self.clock.real()
        self.store.update(
            execution,
            status=ExecutionStatus.IN_PROGRESS,
            start_time=started,
            last_modified_time=started,
        )
        try:
            analysis = self._analyse(execution, rows)
            self._publish(execution, analysis)
        except ExecutionFailure as failure:
            self._finish(execution, ExecutionStatus.FAILED, timeline, failure=str(failure))
        except Exception:
            logger.exception("Monitoring execution %s crashed", execution.processing_job_name)
            self._finish(
                execution,
                ExecutionStatus.FAILED,
                timeline,
                failure="InternalServerError: The sandbox failed while running the analysis.",
            )
        else:
            count = analysis.violation_count
            status = (
                ExecutionStatus.COMPLETED_WITH_VIOLATIONS if count else ExecutionStatus.COMPLETED
            )
            self._finish(execution, status, timeline, violations=count)
        return execution

    def _input_uri(self, schedule: Schedule) -> str:
        endpoint = schedule.definition.endpoint_name
        record = self.endpoints.get(schedule.account_id, schedule.region, endpoint)
        capture = (record.data_capture or {}) if record is not None else {}
        destination = str(capture.get("DestinationS3Uri", "")).rstrip("/")
        return f"{destination}/{endpoint}" if destination else ""

    def _analyse(self, execution: Execution, rows: Sequence[Sequence[str]] | None) -> Analysis:
        definition = execution.definition
        account, region = execution.account_id, execution.region
        statistics = constraints = None
        if definition.statistics_uri:
            statistics = _read_json(account, region, definition.statistics_uri, "statistics")
        if definition.constraints_uri:
            constraints = _read_json(account, region, definition.constraints_uri, "constraints")
        if constraints is not None and statistics is None:
            raise ExecutionFailure(
                "ClientError: BaselineConfig has ConstraintsResource but no StatisticsResource; "
                "the data quality check compares against the baseline statistics too."
            )
        if rows is None:
            rows = self._captured_rows(execution)
        return analyse(rows, statistics, constraints)

    def _captured_rows(self, execution: Execution) -> list[list[str]]:
        import dataquality as quality

        record = self.endpoints.get(execution.account_id, execution.region, execution.endpoint_name)
        if record is None:
            raise ExecutionFailure(
                f"ClientError: Endpoint {execution.endpoint_name} does not exist."
            )
        capture = record.data_capture or {}
        start, end = (self.clock.real_time(moment) for moment in execution.window)
        lines = captured_lines(
            execution.account_id,
            execution.region,
            str(capture.get("DestinationS3Uri", "")),
            execution.endpoint_name,
            start,
            end,
        )
        return list(quality.rows_from_capture(lines=lines))

    def _publish(self, execution: Execution, analysis: Analysis) -> None:
        """Write the report files and, when enabled, the per-feature CloudWatch metrics."""
        bucket, _, prefix = execution.report_uri.removeprefix("s3://").partition("/")
        documents = [(STATISTICS_FILE, analysis.statistics)]
        if analysis.violations is not None:
            documents.append((VIOLATIONS_FILE, analysis.violations))
        for file_name, document in documents:
            body = json.dumps(document, indent=2).encode()
            if not moto_bridge.write_s3_object(
                execution.account_id,
                execution.region,
                bucket,
                f"{prefix}/{file_name}",
                body,
                "application/json",
            ):
                raise ExecutionFailure(
                    f'ClientError: The output bucket "{bucket}" does not exist in region '
                    f"{execution.region}."
                )
        if not execution.definition.publish_metrics:
            return
        metric_time = self.clock.real_time(execution.window[0])
        dimensions = dimensions_key(
            {"Endpoint": execution.endpoint_name, "MonitoringSchedule": execution.schedule_name}
        )
        for metric, value in feature_metrics(analysis).items():
            key = SeriesKey(
                execution.account_id, execution.region, METRICS_NAMESPACE, metric, dimensions
            )
            self.metrics.put_values(key, metric_time, [value])

    def _finish(
        self,
        execution: Execution,
        status: ExecutionStatus,
        timeline: tuple[float, float, float] | None,
        *,
        failure: str | None = None,
        violations: int = 0,
    ) -> None:
        ended = timeline[2] if timeline else self.clock.real()
        if status == ExecutionStatus.FAILED:
            exit_message = None
        elif violations:
            exit_message = (
                f"CompletedWithViolations: Job completed successfully with {violations} "
                f"violation{'s' if violations != 1 else ''}."
            )
        else:
            exit_message = "Completed: Job completed successfully with no violations."
        self.store.update(
            execution,
            status=status,
            failure_reason=failure,
            exit_message=exit_message,
            violations=violations,
            end_time=ended,
            last_modified_time=ended,
        )
