"""Container logs: what an endpoint's model containers write to CloudWatch Logs, as on AWS.

SageMaker sends whatever a model container prints to CloudWatch Logs, in the log group
``/aws/sagemaker/Endpoints/<EndpointName>`` with one stream per variant and instance,
``<VariantName>/<instance-id>``; the ModelError an invocation gets names that group. The
sandbox writes, per instance:

- start-up lines when a fleet's instances come up (the model server starting its workers,
  the model loaded, the first healthy ``GET /ping``), stamped just before the moment the
  fleet started serving;
- one line per failed invocation that reached the variant, with what went wrong: a Python
  traceback for a container crash (a model built to fail, such as the bad-deploy drill's, or
  a fault of kind "model"), the container's own refusal of a body it cannot use, and a line
  about the internal failure for a platform 5xx fault. Throttled requests write nothing: they
  never reached a container;
- an access-log line for the first successful invocation of a fleet and then one in every
  ``ACCESS_LOG_EVERY``: a healthy endpoint's log shows it serving, while the volume stays
  modest (a real container logs every request).

Instance ids are made up per fleet launch (a hash of the endpoint, its config, the variant,
the launch moment and the instance's index): stable while the fleet runs, more of them after
a scale-out, fewer after a scale-in, all new for a new config (UpdateEndpoint) or a fleet
launched again. Replayed traffic (``sandbox.replay``) writes no lines: its requests are
accounted, never served.

InvokeEndpoint is the hot path, so it only appends to a buffer. ``flush`` (every second from
the server's housekeeping, and before every CloudWatch Logs read the sandbox serves, so a
caller reads what its invocations just caused) brings the fleets up to date and puts the
buffered lines into moto's CloudWatch Logs backend, where FilterLogEvents, GetLogEvents and
DescribeLogStreams find them through the normal API. Each stream keeps its newest
``MAX_EVENTS_PER_STREAM`` events, as a retention policy would let the oldest expire.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sandbox import moto_bridge
from sandbox.endpoint_metrics import vcpus
from sandbox.endpoints import EndpointRecord, EndpointStatus, EndpointStore
from sandbox.variants import VariantState

ACCESS_LOG_EVERY = 100
MAX_EVENTS_PER_STREAM = 10_000
# Where SageMaker's health checks and invocations come from, as the container sees them.
_PLATFORM_ADDRESS = "169.254.178.2"
_PLATFORM_AGENT = "AHC/2.0"
# How long before it serves an instance starts writing (seconds), at most.
_START_UP_SECONDS = 3.0
# An endpoint serves (and its containers run) in these states.
_SERVING = {
    EndpointStatus.IN_SERVICE,
    EndpointStatus.UPDATING,
    EndpointStatus.SYSTEM_UPDATING,
    EndpointStatus.ROLLING_BACK,
    EndpointStatus.UPDATE_ROLLBACK_FAILED,
}


def log_group(endpoint: str) -> str:
    """The log group SageMaker writes an endpoint's containers to."""
    return f"/aws/sagemaker/Endpoints/{endpoint}"


@dataclass(frozen=True)
class FleetKey:
    """One variant's instances as launched for one endpoint config."""

    account_id: str
    region: str
    endpoint: str
    config: str
    variant: str


@dataclass
class Fleet:
    """A fleet's launch moment, its running instances' ids in launch order, and how many
    it has launched (an instance started after a scale-in gets an id of its own)."""

    launched_at: float
    instances: list[str] = field(default_factory=list)
    launched: int = 0


@dataclass(frozen=True)
class _Line:
    """A buffered line of some instance of a fleet; the instance is chosen at flush."""

    fleet: FleetKey
    instances: int
    time: float
    message: str


StreamKey = tuple[str, str, str, str]  # account, region, group, stream


def instance_count(variant: VariantState) -> int:
    """The instances a variant runs: its live count, else the one it is launching; a
    serverless variant writes to one stream."""
    if variant.is_serverless:
        return 1
    return max(1, variant.current_instance_count or variant.desired_instance_count or 1)


def fleet_of(record: EndpointRecord, variant: VariantState) -> FleetKey:
    """The fleet serving ``variant``: a pending deployment's new fleet when the variant is
    one of its own (``Runtime.pick`` hands out that very object), else the live config's."""
    config = record.config_name
    pending = record.pending_deployment
    if pending is not None and any(v is variant for v in pending.variants):
        config = pending.config_name
    return FleetKey(record.account_id, record.region, record.name, config, variant.name)


def instance_id(fleet: FleetKey, launched_at: float, index: int) -> str:
    """An EC2-style id (``i-`` and 17 hex digits), the same for the same launch and the
    same n-th instance it started."""
    seed = f"{fleet}|{launched_at:.3f}|{index}".encode()
    return "i-0" + hashlib.sha256(seed).hexdigest()[:16]


def _gunicorn_time(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).strftime("%Y-%m-%d %H:%M:%S +0000")


def _access_time(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def access_line(moment: float, method: str, path: str, status: int, size: int) -> str:
    """An nginx access-log line for a request from SageMaker's front end."""
    return (
        f'{_PLATFORM_ADDRESS} - - [{_access_time(moment)}] "{method} {path} HTTP/1.1" '
        f'{status} {size} "-" "{_PLATFORM_AGENT}"'
    )


def start_up_lines(variant: VariantState, started: float, ready: float) -> list[tuple[float, str]]:
    """What one instance prints from its start to its first healthy ping, spread over
    ``started``..``ready``."""
    workers = vcpus(variant.instance_type)
    model = variant.model
    what = f" ({model.kind}, {model.feature_count} features)" if model is not None else ""
    span = max(0.0, ready - started)

    def at(share: float) -> float:
        return started + span * share

    listening, booting = at(0.05), at(0.1)
    return [
        (at(0.0), f"Starting the inference server with {workers} workers."),
        (
            listening,
            f"[{_gunicorn_time(listening)}] [9] [INFO] Listening at: unix:/tmp/gunicorn.sock (9)",
        ),
        *(
            (booting, f"[{_gunicorn_time(booting)}] [{pid}] [INFO] Booting worker with pid: {pid}")
            for pid in range(13, 13 + min(workers, 4))
        ),
        (at(0.6), f"Model {variant.model_name} loaded from /opt/ml/model{what}."),
        (ready, access_line(ready, "GET", "/ping", 200, 1)),
    ]


def crash_line(model_name: str) -> str:
    """A model worker dying in the middle of a request, as a Flask container logs it."""
    return (
        "Exception on /invocations [POST]\n"
        "Traceback (most recent call last):\n"
        '  File "/opt/program/predictor.py", line 88, in transformation\n'
        "    predictions = ScoringService.predict(data)\n"
        '  File "/opt/program/predictor.py", line 41, in predict\n'
        "    return model.predict(rows)\n"
        f"RuntimeError: the model worker crashed while predicting with model {model_name}"
    )


def rejection_line(status: int, message: str) -> str:
    """The container refusing a request body it cannot use."""
    return f"[ERROR] POST /invocations answered {status}: {message}"


def internal_failure_line(detail: str) -> str:
    """The platform failing a request before the model server answered it."""
    return f"[ERROR] Internal failure: {detail}"


class ContainerLogs:
    """Buffers the containers' lines and writes them, and the fleets' start-up lines, to
    CloudWatch Logs (moto's backend)."""

    def __init__(self, endpoints: EndpointStore, clock: Callable[[], float] = time.time) -> None:
        self.endpoints = endpoints
        self.clock = clock
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending: list[_Line] = []
        self._served: dict[FleetKey, int] = {}
        self._fleets: dict[FleetKey, Fleet] = {}
        self._rng = random.Random()

    # The runtime's calls: cheap, they only buffer.

    def write(self, record: EndpointRecord, variant: VariantState, message: str) -> None:
        """Buffer one line of the instance serving a request routed to ``variant``."""
        line = _Line(fleet_of(record, variant), instance_count(variant), self.clock(), message)
        with self._lock:
            self._pending.append(line)

    def served(self, record: EndpointRecord, variant: VariantState, size: int) -> None:
        """Count a successful invocation; the first of a fleet and every
        ``ACCESS_LOG_EVERY``-th after it get their access-log line."""
        fleet = fleet_of(record, variant)
        with self._lock:
            seen = self._served.get(fleet, 0)
            self._served[fleet] = seen + 1
        if seen % ACCESS_LOG_EVERY == 0:
            now = self.clock()
            self.write(record, variant, access_line(now, "POST", "/invocations", 200, size))

    # Writing.

    def flush(self) -> int:
        """Bring the fleets up to date and write every buffered line; the lines written."""
        with self._flush_lock:
            now = self.clock()
            streams: dict[StreamKey, list[tuple[float, str]]] = {}
            self._follow_fleets(self.endpoints.all_records(), now, streams)
            with self._lock:
                pending, self._pending = self._pending, []
            for line in pending:
                fleet = self._fleets.get(line.fleet)
                if fleet is None:  # gone since the request (deleted): its lines still land
                    fleet = self._fleets[line.fleet] = Fleet(line.time)
                    _grow(line.fleet, fleet, line.instances)
                instance = self._rng.choice(fleet.instances)
                streams.setdefault(_stream(line.fleet, instance), []).append(
                    (line.time, line.message)
                )
            written = 0
            for (account, region, group, stream), events in streams.items():
                moto_bridge.put_log_events(
                    account,
                    region,
                    group,
                    stream,
                    [(round(moment * 1000), text) for moment, text in sorted(events)],
                    keep=MAX_EVENTS_PER_STREAM,
                )
                written += len(events)
            return written

    def _follow_fleets(
        self,
        records: list[EndpointRecord],
        now: float,
        streams: dict[StreamKey, list[tuple[float, str]]],
    ) -> None:
        """Start-up lines for instances that came up since the last look; forget fleets that
        stopped running, so a later launch of the same config is a new fleet."""
        running: set[FleetKey] = set()
        for record in records:
            for key, variant, ready, started in _running_fleets(record, now):
                running.add(key)
                fleet = self._fleets.get(key)
                if fleet is None:
                    fleet = self._fleets[key] = Fleet(ready)
                for instance in _grow(key, fleet, instance_count(variant)):
                    begin = max(started, ready - _START_UP_SECONDS)
                    streams.setdefault(_stream(key, instance), []).extend(
                        start_up_lines(variant, begin, ready)
                    )
        for key in set(self._fleets) - running:
            del self._fleets[key]
            with self._lock:
                self._served.pop(key, None)

    def clear(self) -> None:
        with self._flush_lock, self._lock:
            self._pending.clear()
            self._served.clear()
            self._fleets.clear()


def _stream(fleet: FleetKey, instance: str) -> StreamKey:
    return (
        fleet.account_id,
        fleet.region,
        log_group(fleet.endpoint),
        f"{fleet.variant}/{instance}",
    )


def _grow(key: FleetKey, fleet: Fleet, count: int) -> list[str]:
    """Match the fleet's instances to ``count``: the new ones' ids, or none after a
    scale-in (which stops the newest)."""
    added = []
    while len(fleet.instances) < count:
        added.append(instance_id(key, fleet.launched_at, fleet.launched))
        fleet.instances.append(added[-1])
        fleet.launched += 1
    del fleet.instances[count:]
    return added


def _running_fleets(
    record: EndpointRecord, now: float
) -> Iterator[tuple[FleetKey, VariantState, float, float]]:
    """Each running fleet of the endpoint with the moment it (last) became ready and the
    earliest its instances can have started: the live config's while the endpoint serves,
    and a deployment's new fleet once it takes traffic."""
    if record.status in _SERVING:
        for variant in record.all_variants:
            key = FleetKey(
                record.account_id, record.region, record.name, record.config_name, variant.name
            )
            yield key, variant, min(now, record.last_modified_time), record.creation_time
    pending = record.pending_deployment
    if pending is None or pending.failure_reason is not None:
        return
    ready = min(now, pending.start_time + pending.pace.launch_seconds)
    for variant in pending.variants:
        if pending.full or pending.shares.get(variant.name, 0.0) > 0.0:
            key = FleetKey(
                record.account_id, record.region, record.name, pending.config_name, variant.name
            )
            yield key, variant, ready, pending.start_time
