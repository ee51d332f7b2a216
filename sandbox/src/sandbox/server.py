"""The sandbox's HTTP front: a WSGI middleware around moto, and a server to run it.

Every AWS call arrives here first. The middleware reads the service from the SigV4
credential scope and the operation from the request, answers the operations the sandbox owns
(where moto is not faithful to AWS), and passes the rest to moto unchanged. Whatever moto
cannot answer comes back as a proper AWS error in the caller's protocol instead of moto's
HTML 500, which botocore would retry before failing with a misleading message.

The middleware owns SageMaker's endpoint lifecycle, InvokeEndpoint, InvokeEndpointAsync (its
queues served in the background, ``sandbox/async_inference.py``), transform jobs and
Model Monitor's schedules and executions (``sandbox/monitor.py``), CloudTrail's
LookupEvents, Service Quotas for sagemaker, CloudWatch's metric operations (PutMetricData,
GetMetricData, GetMetricStatistics, ListMetrics) and alarm history (DescribeAlarmHistory,
SetAlarmState), and CloudWatch Logs' FilterLogEvents (``sandbox/logs_api.py``: the endpoint
containers' logs, ``sandbox/container_logs.py``, are written before every Logs read); moto
keeps alarms, log events, S3 and the rest, and hooks run after
moto's successful PutMetricAlarm and DeleteAlarms so that alarm history stays complete.
Every call CloudTrail would log as a management event, whoever answers it, is recorded on
the way out (``sandbox/cloudtrail_recorder.py``). Control-plane faults
(``sandbox/api_faults.py``) are applied to every AWS call before it is dispatched, so a call
they refuse is recorded too, with its error code; the sandbox's ``/_sandbox/`` controls and
moto's ``/moto-api/`` never suffer them.

moto keeps its state in module-level backends, so two sandboxes in one process would share
moto's half of the world but not the sandbox's. One SandboxServer per process at a time is
therefore supported (a second ``start()`` raises); ``reset()`` clears both halves.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from botocore.model import OperationNotFoundError
from moto.backends import list_of_moto_modules
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server, select_address_family

from sandbox import SEEDS, moto_bridge
from sandbox.admin import PREFIX as _ADMIN_PREFIX
from sandbox.admin import AdminControls
from sandbox.alarms import AlarmEvaluator, AlarmHistory, AlarmsApi
from sandbox.api_faults import ApiFaultInjector, ApiFaultStore, ConnectionReset
from sandbox.assume_role import STS, AssumeRoleApi
from sandbox.async_inference import DISPATCH_INTERVAL, AsyncInference
from sandbox.autoscaling import ScalingStore
from sandbox.autoscaling_api import (
    APPLICATION_AUTOSCALING,
    AutoScalingApi,
    alarm_remover,
    target_tracking_alarms,
)
from sandbox.aws_protocol import (
    AwsError,
    AwsRequest,
    StartResponse,
    WsgiApp,
    answer_headers,
    error_response,
    parse_request,
    unknown_operation,
)
from sandbox.background import Periodic
from sandbox.capture import DataCapture
from sandbox.cloudtrail import EventStore, LookupEventsApi, RateLimiter
from sandbox.cloudtrail_recorder import Recorder
from sandbox.cloudwatch_api import CloudWatchApi
from sandbox.component_metrics import ComponentMetrics
from sandbox.container_logs import ContainerLogs
from sandbox.creation_story import tell_creation_stories
from sandbox.endpoint_metrics import EndpointMetrics
from sandbox.endpoints import EndpointStore, Timings
from sandbox.faults import FaultStore
from sandbox.inference_components import ComponentStore, InferenceComponentsApi
from sandbox.logs_api import LOGS, LogsApi
from sandbox.metric_store import MetricStore
from sandbox.model_data import ArtifactCache
from sandbox.monitor import HOUR, MAX_CLOCK_SPEED, ModelMonitor, MonitorStore, ScheduleClock
from sandbox.monitor_api import MonitorApi
from sandbox.multi_model import MultiModelHost
from sandbox.quotas import QuotaStore, endpoint_instance_types
from sandbox.runtime import Runtime, rest_operation
from sandbox.sagemaker_api import Handler, SageMakerApi
from sandbox.scaling_loop import SCALING_INTERVAL, ScalingLoop
from sandbox.scenarios import ScenarioLog
from sandbox.service_quotas_api import SERVICE_QUOTAS, ServiceQuotasApi
from sandbox.traffic import TrafficGenerator
from sandbox.trail_delivery import TrailDelivery
from sandbox.transform import TransformApi
from sandbox.transform_jobs import TransformStore

logger = logging.getLogger(__name__)

# CloudWatch's SigV4 signing name.
CLOUDWATCH = "monitoring"
Hook = Callable[[AwsRequest], None]


class SandboxState:
    """What the sandbox itself remembers; moto remembers everything else."""

    def __init__(
        self,
        timings: Timings | None = None,
        transform_seconds: float = 1.0,
        *,
        lookup_rate: float = 2.0,
        cloudtrail_lag_seconds: float = 0.0,
        clock_speed: float = 1.0,
    ) -> None:
        self.endpoints = EndpointStore(timings)
        self.components = ComponentStore(self.endpoints)
        self.artifacts = ArtifactCache()
        self.multi_model = MultiModelHost()
        self.quotas = QuotaStore()
        self.transforms = TransformStore(self.artifacts, transform_seconds)
        self.faults = FaultStore()
        self.api_faults = ApiFaultStore()
        self.metrics = MetricStore()
        self.endpoint_metrics = EndpointMetrics(self.metrics, self.endpoints)
        self.component_metrics = ComponentMetrics(self.metrics, self.components.serving)
        self.capture = DataCapture()
        self.container_logs = ContainerLogs(self.endpoints)
        self.async_inference = AsyncInference(
            self.endpoints,
            self.faults,
            self.endpoint_metrics,
            self.metrics,
            self.capture,
            self.container_logs,
        )
        self.alarm_history = AlarmHistory()
        self.evaluator = AlarmEvaluator(self.metrics, self.alarm_history)
        self.cloudtrail = EventStore(cloudtrail_lag_seconds)
        self.lookup_limiter = RateLimiter(lookup_rate)
        self.trail_delivery = TrailDelivery(self.cloudtrail)
        self.monitors = MonitorStore(ScheduleClock(clock_speed))
        self.monitor = ModelMonitor(self.monitors, self.endpoints, self.capture, self.metrics)
        self.scenarios = ScenarioLog()
        self.autoscaling = ScalingStore(target_tracking_alarms, alarm_remover)
        self.scaling = ScalingLoop(
            self.autoscaling,
            self.endpoints,
            self.quotas,
            clock_speed=clock_speed,
            trail=self.cloudtrail,
            components=self.components,
        )

    def clear(self) -> None:
        self.autoscaling.clear()
        self.transforms.clear()
        self.quotas.clear()
        self.endpoints.clear()
        self.components.clear()
        self.artifacts.clear()
        self.multi_model.clear()
        self.faults.clear()
        self.api_faults.clear()
        self.metrics.clear()
        self.endpoint_metrics.clear()
        self.component_metrics.clear()
        self.capture.clear()
        self.container_logs.clear()
        self.async_inference.clear()
        self.alarm_history.clear()
        self.cloudtrail.clear()
        self.lookup_limiter.clear()
        self.trail_delivery.clear()
        self.monitors.clear()
        self.scenarios.clear()

    def housekeeping(self) -> None:
        """Publish finished minutes of metrics and capture, and the containers' logs, as
        SageMaker does on its own."""
        self.endpoint_metrics.flush()
        self.component_metrics.flush()
        self.async_inference.flush()
        self.capture.flush()
        self.container_logs.flush()


class SandboxApp:
    """The WSGI middleware: the sandbox's operations first, moto for everything else."""

    def __init__(self, state: SandboxState, moto_app: WsgiApp | None = None) -> None:
        self.state = state
        self.moto_app: WsgiApp = moto_app or DomainDispatcherApplication(create_backend_app)
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.after_hooks: dict[tuple[str, str], Hook] = {}
        self._known_hosts: dict[str, bool] = {}
        self.api_faults = ApiFaultInjector(state.api_faults)
        self.admin = AdminControls(state, self.reset)
        moto_bridge.accept_instance_types(endpoint_instance_types())
        moto_bridge.accept_component_variants()
        sagemaker = SageMakerApi(state.endpoints, state.artifacts, state.quotas)
        self.register("sagemaker", sagemaker.operations())
        for operation, hook in sagemaker.after_moto().items():
            self.after_hooks[("sagemaker", operation)] = hook
        components = InferenceComponentsApi(
            state.components, state.artifacts, state.metrics, state.component_metrics
        )
        self.register("sagemaker", components.operations())
        runtime = Runtime(
            state.endpoints,
            state.faults,
            state.endpoint_metrics,
            state.capture,
            state.container_logs,
            components=components,
            multi_model=state.multi_model,
        )
        self.register("sagemaker", runtime.operations())
        self.register("sagemaker", state.async_inference.operations())
        self.register("sagemaker", TransformApi(state.transforms, state.quotas).operations())
        self.register("sagemaker", MonitorApi(state.monitors, state.endpoints).operations())
        self.register(SERVICE_QUOTAS, ServiceQuotasApi(state.quotas).operations())
        self.register(
            APPLICATION_AUTOSCALING,
            AutoScalingApi(state.autoscaling, state.endpoints, state.components).operations(),
        )
        self.register(CLOUDWATCH, CloudWatchApi(state.metrics).operations())
        self.register(LOGS, LogsApi(state.container_logs).operations())
        self.register(
            "cloudtrail", LookupEventsApi(state.cloudtrail, state.lookup_limiter).operations()
        )
        self.register(STS, AssumeRoleApi().operations())
        self.recorder = Recorder(state.cloudtrail)
        alarms = AlarmsApi(state.evaluator)
        self.register(CLOUDWATCH, alarms.operations())
        for operation, hook in alarms.after_moto().items():
            self.after_hooks[(CLOUDWATCH, operation)] = hook

    def register(self, service: str, operations: dict[str, Handler]) -> None:
        """Take over operations of a service (by SigV4 signing name) from moto."""
        for operation, handler in operations.items():
            self.handlers[(service, operation)] = handler

    def reset(self) -> None:
        """Forget everything: moto's backends and the sandbox's own state."""
        moto_bridge.reset_moto()
        self.state.clear()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        if path.startswith(_ADMIN_PREFIX):
            return self.admin.handle(environ).send(start_response)
        if path == "/moto-api/reset" and method == "POST":
            self.state.clear()
            return self.moto_app(environ, start_response)
        request = parse_request(environ)
        account = moto_bridge.account_for(
            request.access_key, request.headers.get("x-moto-account-id")
        )
        operation = request.operation or rest_operation(request.service, method, path)
        request = dataclasses.replace(request, account_id=account, operation=operation)
        return self.recorder.wrap(
            request, environ, start_response, lambda respond: self._serve(request, environ, respond)
        )

    def _serve(
        self, request: AwsRequest, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Answer with the sandbox's own handler, or let moto answer, unless a fault refuses."""
        try:
            refusal = self.api_faults.refusal(request)
        except ConnectionReset:
            _reset_connection(environ)
            raise
        if refusal is not None:
            return error_response(request, refusal).send(start_response)
        handler = self.handlers.get((request.service or "", request.operation or ""))
        if handler is None:
            return self._pass_to_moto(request, environ, start_response)
        try:
            response = handler(request)
            if response is None:
                return self._pass_to_moto(request, environ, start_response)
        except AwsError as error:
            response = error_response(request, error)
        except Exception:
            logger.exception("Sandbox handler for %s failed", request.operation)
            response = error_response(
                request, AwsError("InternalFailure", "The sandbox failed internally.", 500)
            )
        return response.send(start_response)

    def _pass_to_moto(
        self, request: AwsRequest, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Let moto answer, replacing its HTML error pages with AWS-shaped errors."""
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        if not self._moto_knows_service(environ):
            return error_response(request, _unknown(request)).send(start_response)
        try:
            body = self.moto_app(environ, capture)
        except (NotImplementedError, OperationNotFoundError):
            return error_response(request, _unknown(request)).send(start_response)
        except Exception as crash:
            logger.exception("moto failed on %s %s", request.service, request.operation)
            return error_response(request, _backend_failure(crash)).send(start_response)
        status = int(str(captured.get("status", "500")).split(" ", 1)[0])
        content_type = next(
            (v for k, v in captured.get("headers", []) if k.lower() == "content-type"), ""
        )
        # A HEAD that finds nothing (S3 HeadObject/HeadBucket) is a bodiless 404 on AWS
        # too: pass it through rather than calling it an unknown operation.
        head_miss = environ.get("REQUEST_METHOD") == "HEAD" and status in (403, 404)
        if status >= 400 and content_type.startswith("text/html") and not head_miss:
            if hasattr(body, "close"):
                body.close()
            error = _unknown(request) if status in (404, 405, 501) else None
            error = error or _backend_failure(None)
            return error_response(request, error).send(start_response)
        hook = self.after_hooks.get((request.service or "", request.operation or ""))
        if hook is not None and status < 300:
            try:
                hook(request)
            except Exception:
                logger.exception("Sandbox hook after moto's %s failed", request.operation)
        start_response(captured["status"], answer_headers(request, captured["headers"]))
        return body

    def _moto_knows_service(self, environ: dict[str, Any]) -> bool:
        """False for a signed request to a service moto has no backend for at all.

        moto would crash on such a request and answer 500, which botocore retries.
        """
        dispatcher = self.moto_app
        if not isinstance(dispatcher, DomainDispatcherApplication):
            return True
        if not environ.get("HTTP_AUTHORIZATION"):
            return True
        host = dispatcher.infer_service_region_host(environ, str(environ.get("PATH_INFO", "")))
        if host is None:
            return True
        known = self._known_hosts.get(host)
        if known is None:
            known = host in set(list_of_moto_modules()) or any(
                pattern.match(f"http://{host}") for _, pattern in dispatcher.backend_url_patterns
            )
            self._known_hosts[host] = known
        return known


def _unknown(request: AwsRequest) -> AwsError:
    """AWS's answer for an operation nobody here implements; its body names nothing, so the
    log does."""
    logger.warning(
        "The sandbox does not implement %s for %s; answering as AWS does for an unknown operation.",
        request.operation or f"{request.method} {request.path}",
        request.service or "an unknown service",
    )
    return unknown_operation(request)


def _reset_connection(environ: dict[str, Any]) -> None:
    """End the client's connection before anything is sent: shut down at once (the client
    reads the end of the connection with no response), then closed with linger 0 so the
    close is a TCP RST. The ConnectionResetError the caller then raises is what werkzeug
    expects of a client that went away: it drops the request quietly."""
    connection = environ.get("werkzeug.socket")
    if connection is None:
        return
    with contextlib.suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.shutdown(socket.SHUT_RDWR)


def _backend_failure(crash: Exception | None) -> AwsError:
    """A 500 like AWS's InternalFailure, naming moto's exception so the cause is findable."""
    detail = f": moto raised {type(crash).__name__}: {crash}" if crash is not None else "."
    return AwsError("InternalFailure", f"The sandbox's AWS backend failed{detail}", 500)


class _QuietRequestHandler(MotoRequestHandler):
    """moto's handler (it keeps S3 metadata headers with underscores) without access logs."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def _listen(host: str, port: int) -> socket.socket:
    """Bind the port ourselves: werkzeug exits the whole process when a bind fails."""
    family = select_address_family(host, port)
    return socket.create_server((host, port), family=family, backlog=128)


_process_slot = threading.Lock()


class SandboxServer:
    """A threaded HTTP sandbox on a local port, for the CLI, tests and benchmarks.

    ``start()`` returns once the port is listening and the seed (if any) is in place; seeded
    endpoints are still ``Creating`` then and become InService after ``creating_seconds``.
    While running, finished minutes of metrics and data capture, and the containers' log
    lines, are published every second,
    alarms are evaluated every ``alarm_interval`` seconds, auto scaling acts on its alarms
    every second (``sandbox/scaling_loop.py``) and, with ``traffic`` > 0, every serving
    endpoint receives that many invocations per second. Transform jobs stay
    InProgress (and Stopping) for at least ``transform_seconds``. Monitoring schedules fire
    on a schedule clock that runs ``clock_speed`` times faster than the wall clock (an hourly
    schedule runs every 3600/clock_speed seconds; 1 is real time), and so do the waits of an
    UpdateEndpoint's DeploymentConfig (``sandbox/deployments.py``) and auto scaling's cooldowns.

    Every management call is recorded for CloudTrail. LookupEvents answers at most
    ``lookup_rate`` requests a second per account and region (0 turns the limit off) and shows
    a call ``cloudtrail_lag_seconds`` after it happened; logging trails receive their log files
    every ``trail_interval`` seconds.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: str | None = None,
        creating_seconds: float = 5.0,
        updating_seconds: float | None = None,
        *,
        log_requests: bool = False,
        traffic: float = 0.0,
        alarm_interval: float = 5.0,
        transform_seconds: float = 1.0,
        lookup_rate: float = 2.0,
        cloudtrail_lag_seconds: float = 0.0,
        trail_interval: float = 60.0,
        clock_speed: float = 1.0,
    ) -> None:
        if seed is not None and seed not in SEEDS:
            raise ValueError(f"Unknown seed {seed!r}; expected one of {', '.join(SEEDS)}.")
        if creating_seconds < 0 or (updating_seconds is not None and updating_seconds < 0):
            raise ValueError("Lifecycle durations cannot be negative.")
        if transform_seconds < 0:
            raise ValueError("transform_seconds cannot be negative.")
        if traffic < 0 or alarm_interval <= 0:
            raise ValueError("traffic cannot be negative and alarm_interval must be positive.")
        if lookup_rate < 0 or cloudtrail_lag_seconds < 0 or trail_interval <= 0:
            raise ValueError(
                "lookup_rate and cloudtrail_lag_seconds cannot be negative; "
                "trail_interval must be positive."
            )
        if not 1.0 <= clock_speed <= MAX_CLOCK_SPEED:
            raise ValueError(
                f"clock_speed must be between 1 and {MAX_CLOCK_SPEED:g}; got {clock_speed}."
            )
        self.host = host
        self.port = port
        self.seed = None if seed == "none" else seed
        self.traffic_rate = traffic
        self.state = SandboxState(
            Timings(creating_seconds, updating_seconds, clock_speed=clock_speed),
            transform_seconds,
            lookup_rate=lookup_rate,
            cloudtrail_lag_seconds=cloudtrail_lag_seconds,
            clock_speed=clock_speed,
        )
        self.app = SandboxApp(self.state)
        self.log_requests = log_requests
        self.traffic: TrafficGenerator | None = None
        self._background = [
            Periodic("sandbox-publish", 1.0, self.state.housekeeping),
            Periodic("sandbox-deployments", 1.0, self.state.endpoints.advance_all),
            Periodic("sandbox-async", DISPATCH_INTERVAL, self.state.async_inference.run_once),
            Periodic("sandbox-alarms", alarm_interval, self._evaluate_alarms),
            Periodic("sandbox-scaling", SCALING_INTERVAL, self.state.scaling.run_once),
            Periodic("sandbox-trails", trail_interval, self.state.trail_delivery.flush),
            # Look for due executions ten times per (sped-up) hour at least, once a second at most.
            Periodic("sandbox-monitoring", min(1.0, HOUR / clock_speed / 10), self._run_monitoring),
        ]
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def timings(self) -> Timings:
        """How long endpoints stay Creating and Updating on this server."""
        return self.state.endpoints.timings

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("The sandbox is not running; call start() first.")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SandboxServer:
        """Listen, reset moto's process-wide state, then seed; raise if one already runs."""
        if not _process_slot.acquire(blocking=False):
            raise RuntimeError("Another SandboxServer is running in this process; stop it first.")
        try:
            handler = MotoRequestHandler if self.log_requests else _QuietRequestHandler
            listener = _listen(self.host, self.port)
            try:
                self._server = make_server(
                    self.host,
                    self.port,
                    self.app,
                    threaded=True,
                    request_handler=handler,
                    fd=listener.fileno(),
                )
            finally:
                listener.close()
            self.app.reset()
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="sandbox-http", daemon=True
            )
            self._thread.start()
            if self.seed == "demo":
                from sandbox.seed import (
                    backfill_demo_api_history,
                    backfill_demo_history,
                    backfill_demo_monitoring,
                    backfill_demo_transforms,
                    seed_demo,
                )

                seed_demo(endpoint_url=self.url)
                backfill_demo_history(self.state.metrics, now=time.time())
                backfill_demo_transforms(self.state.transforms)
                backfill_demo_api_history(self.state.cloudtrail, now=time.time())
                backfill_demo_monitoring(self.state.monitor, now=time.time())
                tell_creation_stories(
                    endpoints=self.state.endpoints,
                    components=self.state.components,
                    trail=self.state.cloudtrail,
                    now=time.time(),
                )
                self.state.evaluator.evaluate_all()
            for task in self._background:
                task.start()
            if self.traffic_rate > 0:
                self.traffic = TrafficGenerator(
                    self.url,
                    self.state.endpoints,
                    self.state.faults,
                    self.traffic_rate,
                    components=self.state.components,
                )
                self.traffic.start()
        except BaseException:
            self._shutdown()
            raise
        return self

    def stop(self) -> None:
        """Stop serving and free the port; state stays until the next start() or reset()."""
        if self._server is not None:
            self._shutdown()

    def reset(self) -> None:
        """Clear all state (moto's and the sandbox's) without restarting or reseeding."""
        self.app.reset()

    def _run_monitoring(self) -> None:
        self.state.monitor.run_due()

    def _evaluate_alarms(self) -> None:
        """Publish finished minutes first, so alarms never judge a minute still unpublished."""
        self.state.endpoint_metrics.flush()
        self.state.component_metrics.flush()
        self.state.evaluator.evaluate_all()

    def _shutdown(self) -> None:
        try:
            if self.traffic is not None:
                self.traffic.stop()
                self.traffic = None
            for task in self._background:
                task.stop()
            self.state.async_inference.stop()
            if self._server is not None:
                if self._thread is not None and self._thread.is_alive():
                    self._server.shutdown()
                    self._thread.join()
                self._server.server_close()
        finally:
            self._server = None
            self._thread = None
            _process_slot.release()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
