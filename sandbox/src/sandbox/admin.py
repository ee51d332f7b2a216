"""The sandbox's own controls under ``/_sandbox/``, outside every AWS API.

GET  /_sandbox/health            liveness
POST /_sandbox/reset             forget everything (moto's state and the sandbox's)
POST /_sandbox/flush-metrics     publish pending endpoint metrics now, the current minute too
POST /_sandbox/flush-capture     write buffered data capture events to S3 now
POST /_sandbox/flush             both of the above
POST /_sandbox/evaluate-alarms   flush metrics, then evaluate every alarm now
GET  /_sandbox/faults            the active faults
POST /_sandbox/faults            set a fault ({"endpoint", "variant"?, "region"?, "error_rate",
                                 "error_kind", "latency_ms", "throttle_rate", "drift",
                                 "features"? (the columns drift shifts; default all)}), or
                                 clear faults with {"clear": true, "endpoint"?, "variant"?}
DELETE /_sandbox/faults[?endpoint=&variant=&region=]   clear faults
GET  /_sandbox/api-faults        the active control-plane faults (sandbox/api_faults.py)
POST /_sandbox/api-faults        set one ({"api": "service:Operation" or "service:*",
                                 "region"?, "throttle_rate", "error_rate", "latency_ms",
                                 "hang"}), or clear with {"clear": true, "api"?, "region"?}
DELETE /_sandbox/api-faults[?api=&region=]   clear them (api "s3" clears all of s3's)
GET  /_sandbox/quotas            the sagemaker quota values set here (others are defaults)
POST /_sandbox/quotas            set a quota's applied value ({"quota": name or code, "value",
                                 "region"? (default: every region), "account"?})
DELETE /_sandbox/quotas          every quota back to its default
POST /_sandbox/flush-cloudtrail  deliver logging trails' new events to their buckets now
GET  /_sandbox/cloudtrail        LookupEvents' rate limit, the delivery lag, events recorded
POST /_sandbox/cloudtrail        change them ({"lookup_rate"?, "lag_seconds"?}); a new rate
                                 also refills every account-region's budget
POST /_sandbox/run-monitoring    run one monitoring execution now for every running schedule, or
                                 for {"schedule": name, "region"?, "account"?}; scheduled now, so
                                 it reads the capture of the last hour up to this moment; waits
                                 for the outcome and answers {"executions": [...]}
POST /_sandbox/scenario/bad-deploy   as the ci-deployer role, deploy a new model version that
                                 fails a share of requests to one variant ({"endpoint",
                                 "variant"? (default the lowest weight), "error_rate"? (0.3),
                                 "region"?, "invocations"? (a burst to send afterwards)}); waits
                                 for InService and answers what was done (sandbox/scenarios.py)
POST /_sandbox/scenario/rollback     as the ci-deployer role, redeploy the config the newest bad
                                 deploy replaced ({"endpoint", "region"?})
POST /_sandbox/replay-traffic    route a burst of invocations as InvokeEndpoint would (weights,
                                 pending deployments, faults, the model's own failures) and
                                 publish their metrics in the minute holding "at", without
                                 running the model or waiting ({"endpoint", "requests" (1 to
                                 100000), "at" (epoch seconds, at most 14 days back and 60 s
                                 ahead), "region"?, "account"?}); answers {"endpoint", "region",
                                 "minute", "variants": {name: {"invocations", "errors_5xx",
                                 "errors_4xx"}}} (sandbox/replay.py)

Without these hooks a test would wait a minute for metrics and alarms; with them it takes
milliseconds. Bad input gets a 400 with a JSON ``message`` saying what to fix.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import parse_qs

from moto.core import DEFAULT_ACCOUNT_ID

from sandbox.alarms import AlarmEvaluator
from sandbox.api_faults import ApiFaultError, ApiFaultStore, parse_api_fault, parse_filter
from sandbox.async_inference import AsyncInference
from sandbox.aws_protocol import WsgiResponse, read_body
from sandbox.capture import DataCapture
from sandbox.cloudtrail import EventStore, RateLimiter
from sandbox.component_metrics import ComponentMetrics
from sandbox.container_logs import ContainerLogs
from sandbox.endpoint_metrics import EndpointMetrics
from sandbox.endpoints import EndpointStore
from sandbox.faults import Fault, FaultError, FaultStore, parse_fault, resolve_features
from sandbox.monitor import Execution, ModelMonitor
from sandbox.monitor_api import render_execution
from sandbox.quotas import QuotaError, QuotaStore, lookup
from sandbox.replay import ReplayError, TrafficReplay
from sandbox.runtime import Runtime
from sandbox.scenarios import ScenarioError, ScenarioLog, Scenarios, parse_bad_deploy
from sandbox.trail_delivery import TrailDelivery

PREFIX = "/_sandbox/"


class AdminState(Protocol):
    endpoints: EndpointStore
    faults: FaultStore
    api_faults: ApiFaultStore
    endpoint_metrics: EndpointMetrics
    component_metrics: ComponentMetrics
    async_inference: AsyncInference
    capture: DataCapture
    container_logs: ContainerLogs
    evaluator: AlarmEvaluator
    quotas: QuotaStore
    cloudtrail: EventStore
    lookup_limiter: RateLimiter
    trail_delivery: TrailDelivery
    monitor: ModelMonitor
    scenarios: ScenarioLog


def plain_json(status: int, payload: Mapping[str, Any]) -> WsgiResponse:
    return WsgiResponse(
        status=status,
        headers=[("Content-Type", "application/json")],
        body=json.dumps(payload).encode(),
    )


class AdminControls:
    """Answers ``/_sandbox/...`` requests."""

    def __init__(self, state: AdminState, reset: Callable[[], None]) -> None:
        self.state = state
        self.reset = reset
        self.scenarios = Scenarios(state.endpoints, state.scenarios)
        self.replay = TrafficReplay(
            Runtime(
                state.endpoints,
                state.faults,
                state.endpoint_metrics,
                state.capture,
                state.container_logs,
            )
        )

    def handle(self, environ: dict[str, Any]) -> WsgiResponse:
        path = str(environ.get("PATH_INFO", ""))
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        name = path[len(PREFIX) :].strip("/")
        routes: dict[tuple[str, str], Callable[[dict[str, Any]], WsgiResponse]] = {
            ("health", "GET"): lambda _e: plain_json(200, {"status": "ok"}),
            ("reset", "POST"): self._reset,
            ("flush-metrics", "POST"): self._flush_metrics,
            ("flush-capture", "POST"): self._flush_capture,
            ("flush", "POST"): self._flush,
            ("evaluate-alarms", "POST"): self._evaluate_alarms,
            ("faults", "GET"): self._list_faults,
            ("faults", "POST"): self._post_fault,
            ("faults", "DELETE"): self._delete_faults,
            ("api-faults", "GET"): self._list_api_faults,
            ("api-faults", "POST"): self._post_api_fault,
            ("api-faults", "DELETE"): self._delete_api_faults,
            ("quotas", "GET"): self._list_quotas,
            ("quotas", "POST"): self._set_quota,
            ("quotas", "DELETE"): self._reset_quotas,
            ("flush-cloudtrail", "POST"): self._flush_cloudtrail,
            ("cloudtrail", "GET"): self._cloudtrail_settings,
            ("cloudtrail", "POST"): self._set_cloudtrail,
            ("run-monitoring", "POST"): self._run_monitoring,
            ("scenario/bad-deploy", "POST"): self._bad_deploy,
            ("scenario/rollback", "POST"): self._rollback,
            ("replay-traffic", "POST"): self._replay_traffic,
        }
        route = routes.get((name, method))
        if route is None:
            return plain_json(404, {"message": f"No sandbox control at {method} {path}."})
        return route(environ)

    def _reset(self, _environ: dict[str, Any]) -> WsgiResponse:
        self.reset()
        return plain_json(200, {"status": "reset"})

    def _flush_metrics(self, _environ: dict[str, Any]) -> WsgiResponse:
        return plain_json(200, {"puts": self._publish_metrics()})

    def _publish_metrics(self) -> int:
        """Every pending minute of endpoint metrics, asynchronous endpoints' queues included,
        and the inference components' utilization for completed minutes."""
        puts = self.state.endpoint_metrics.flush(include_current=True)
        puts += self.state.component_metrics.flush()
        return puts + self.state.async_inference.flush(include_current=True)

    def _flush_capture(self, _environ: dict[str, Any]) -> WsgiResponse:
        return plain_json(200, {"files": self.state.capture.flush(include_current=True)})

    def _flush(self, _environ: dict[str, Any]) -> WsgiResponse:
        puts = self._publish_metrics()
        files = self.state.capture.flush(include_current=True)
        return plain_json(200, {"puts": puts, "files": files})

    def _evaluate_alarms(self, _environ: dict[str, Any]) -> WsgiResponse:
        self._publish_metrics()
        changed = self.state.evaluator.evaluate_all()
        return plain_json(200, {"changed": changed})

    def _list_faults(self, _environ: dict[str, Any]) -> WsgiResponse:
        return plain_json(200, {"faults": [f.to_json() for f in self.state.faults.all()]})

    def _post_fault(self, environ: dict[str, Any]) -> WsgiResponse:
        try:
            document = json.loads(read_body(environ) or b"null")
        except ValueError:
            return plain_json(400, {"message": "The body is not valid JSON."})
        if isinstance(document, dict) and document.get("clear") is True:
            return self._clear(document)
        try:
            fault = self._check_target(parse_fault(document))
        except FaultError as error:
            return plain_json(400, {"message": str(error)})
        self.state.faults.put(fault)
        return plain_json(200, {"fault": fault.to_json()})

    def _delete_faults(self, environ: dict[str, Any]) -> WsgiResponse:
        query = parse_qs(str(environ.get("QUERY_STRING", "")))
        return self._clear({key: values[0] for key, values in query.items()})

    def _clear(self, filters: Mapping[str, Any]) -> WsgiResponse:
        unknown = sorted(set(filters) - {"clear", "endpoint", "variant", "region"})
        if unknown:
            return plain_json(
                400,
                {
                    "message": f"Unknown field(s) {', '.join(unknown)}; filter by endpoint, "
                    "variant or region."
                },
            )
        removed = self.state.faults.remove(
            endpoint=filters.get("endpoint"),
            variant=filters.get("variant"),
            region=filters.get("region"),
        )
        return plain_json(200, {"cleared": [f.to_json() for f in removed]})

    def _list_api_faults(self, _environ: dict[str, Any]) -> WsgiResponse:
        return plain_json(200, {"api_faults": [f.to_json() for f in self.state.api_faults.all()]})

    def _post_api_fault(self, environ: dict[str, Any]) -> WsgiResponse:
        try:
            document = json.loads(read_body(environ) or b"null")
        except ValueError:
            return plain_json(400, {"message": "The body is not valid JSON."})
        if isinstance(document, dict) and document.get("clear") is True:
            return self._clear_api_faults(document)
        try:
            fault = parse_api_fault(document)
        except ApiFaultError as error:
            return plain_json(400, {"message": str(error)})
        self.state.api_faults.put(fault)
        return plain_json(200, {"api_fault": fault.to_json()})

    def _delete_api_faults(self, environ: dict[str, Any]) -> WsgiResponse:
        query = parse_qs(str(environ.get("QUERY_STRING", "")))
        return self._clear_api_faults({key: values[0] for key, values in query.items()})

    def _clear_api_faults(self, filters: Mapping[str, Any]) -> WsgiResponse:
        unknown = sorted(set(filters) - {"clear", "api", "region"})
        if unknown:
            return plain_json(
                400, {"message": f"Unknown field(s) {', '.join(unknown)}; filter by api or region."}
            )
        api, region = filters.get("api"), filters.get("region")
        if not isinstance(api, str | None) or not isinstance(region, str | None):
            return plain_json(400, {"message": "api and region filters must be strings."})
        try:
            service, operation = parse_filter(api)
        except ApiFaultError as error:
            return plain_json(400, {"message": str(error)})
        removed = self.state.api_faults.remove(service, operation, region or None)
        return plain_json(200, {"cleared": [f.to_json() for f in removed]})

    def _check_target(self, fault: Fault) -> Fault:
        """Refuse a fault for a missing endpoint, variant or column: a typo would do nothing.

        Returns the fault with its drift features spelled as the model's columns.
        """
        records = [
            r
            for r in self.state.endpoints.all_records()
            if r.name == fault.endpoint and (fault.region is None or r.region == fault.region)
        ]
        where = f" in {fault.region}" if fault.region else ""
        if not records:
            raise FaultError(f"No endpoint named {fault.endpoint}{where}.")
        if fault.variant and not any(r.any_variant(fault.variant) for r in records):
            names = sorted({v.name for r in records for v in r.all_variants})
            raise FaultError(
                f"Endpoint {fault.endpoint} has no variant {fault.variant}; its variants are "
                f"{', '.join(names)}."
            )
        if fault.features is None:
            return fault
        columns = next(
            (v.model.feature_names for r in records for v in r.all_variants if v.model is not None),
            None,
        )
        if columns is None:
            raise FaultError(
                f"Endpoint {fault.endpoint} serves no model, so it has no columns to drift."
            )
        return resolve_features(fault, columns)

    def _list_quotas(self, _environ: dict[str, Any]) -> WsgiResponse:
        return plain_json(200, {"quotas": [q.to_json() for q in self.state.quotas.applied()]})

    def _set_quota(self, environ: dict[str, Any]) -> WsgiResponse:
        try:
            document = json.loads(read_body(environ) or b"null")
        except ValueError:
            return plain_json(400, {"message": "The body is not valid JSON."})
        if not isinstance(document, dict):
            return plain_json(400, {"message": 'Send {"quota": name or code, "value": n}.'})
        unknown = sorted(set(document) - {"quota", "value", "region", "account"})
        if unknown:
            return plain_json(400, {"message": f"Unknown field(s) {', '.join(unknown)}."})
        definition = lookup(str(document.get("quota", "")))
        if definition is None:
            return plain_json(
                400,
                {
                    "message": f"No sagemaker quota is named or coded {document.get('quota')!r}; "
                    "names look like 'ml.m5.large for transform job usage'."
                },
            )
        value = document.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            return plain_json(400, {"message": "value must be a number of instances."})
        region = document.get("region")
        account = str(document.get("account") or DEFAULT_ACCOUNT_ID)
        try:
            applied = self.state.quotas.set(
                account, str(region) if region else None, definition.code, float(value)
            )
        except QuotaError as error:
            return plain_json(400, {"message": str(error)})
        return plain_json(200, {"quota": applied.to_json()})

    def _reset_quotas(self, _environ: dict[str, Any]) -> WsgiResponse:
        self.state.quotas.clear()
        return plain_json(200, {"quotas": []})

    def _flush_cloudtrail(self, _environ: dict[str, Any]) -> WsgiResponse:
        return plain_json(200, {"files": self.state.trail_delivery.flush()})

    def _cloudtrail_settings(self, _environ: dict[str, Any]) -> WsgiResponse:
        return plain_json(
            200,
            {
                "lookup_rate": self.state.lookup_limiter.rate,
                "lag_seconds": self.state.cloudtrail.lag_seconds,
                "events": self.state.cloudtrail.count(),
            },
        )

    def _set_cloudtrail(self, environ: dict[str, Any]) -> WsgiResponse:
        try:
            document = json.loads(read_body(environ) or b"null")
        except ValueError:
            return plain_json(400, {"message": "The body is not valid JSON."})
        if not isinstance(document, dict):
            return plain_json(400, {"message": 'Send {"lookup_rate"?: n, "lag_seconds"?: n}.'})
        unknown = sorted(set(document) - {"lookup_rate", "lag_seconds"})
        if unknown:
            return plain_json(400, {"message": f"Unknown field(s) {', '.join(unknown)}."})
        values = {}
        for name in ("lookup_rate", "lag_seconds"):
            value = document.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                return plain_json(400, {"message": f"{name} must be a non-negative number."})
            values[name] = float(value)
        if "lookup_rate" in values:
            self.state.lookup_limiter.rate = values["lookup_rate"]
            self.state.lookup_limiter.clear()
        if "lag_seconds" in values:
            self.state.cloudtrail.lag_seconds = values["lag_seconds"]
        return self._cloudtrail_settings(environ)

    def _run_monitoring(self, environ: dict[str, Any]) -> WsgiResponse:
        try:
            document = json.loads(read_body(environ) or b"{}")
        except ValueError:
            return plain_json(400, {"message": "The body is not valid JSON."})
        if not isinstance(document, dict):
            return plain_json(400, {"message": 'Send {"schedule"?: name, "region"?: region}.'})
        unknown = sorted(set(document) - {"schedule", "region", "account"})
        if unknown:
            return plain_json(400, {"message": f"Unknown field(s) {', '.join(unknown)}."})
        filters = {
            "name": document.get("schedule"),
            "region": document.get("region"),
            "account_id": document.get("account"),
        }
        monitor = self.state.monitor
        if filters["name"] is not None and not monitor.store.running(**filters):
            known = [
                s
                for s in monitor.store.all_schedules()
                if s.name == filters["name"]
                and filters["region"] in (None, s.region)
                and filters["account_id"] in (None, s.account_id)
            ]
            if not known:
                return plain_json(404, {"message": f"No monitoring schedule {filters['name']}."})
            return plain_json(
                409,
                {
                    "message": f"Monitoring schedule {filters['name']} is "
                    f"{known[0].status.value}; start it first."
                },
            )
        executions = monitor.run_now(**filters)
        return plain_json(200, {"executions": [_execution_json(e) for e in executions]})

    def _bad_deploy(self, environ: dict[str, Any]) -> WsgiResponse:
        try:
            document = json.loads(read_body(environ) or b"null")
        except ValueError:
            return plain_json(400, {"message": "The body is not valid JSON."})
        try:
            request = parse_bad_deploy(document)
            answer = self.scenarios.bad_deploy(own_url(environ), request)
        except ScenarioError as error:
            return plain_json(error.status, {"message": str(error)})
        return plain_json(200, answer)

    def _rollback(self, environ: dict[str, Any]) -> WsgiResponse:
        try:
            document = json.loads(read_body(environ) or b"null")
        except ValueError:
            return plain_json(400, {"message": "The body is not valid JSON."})
        if not isinstance(document, dict) or not isinstance(document.get("endpoint"), str):
            return plain_json(400, {"message": 'Send {"endpoint": name, "region"?: region}.'})
        unknown = sorted(set(document) - {"endpoint", "region"})
        if unknown:
            return plain_json(400, {"message": f"Unknown field(s) {', '.join(unknown)}."})
        region = document.get("region")
        try:
            answer = self.scenarios.rollback(
                own_url(environ), document["endpoint"], str(region) if region else None
            )
        except ScenarioError as error:
            return plain_json(error.status, {"message": str(error)})
        return plain_json(200, answer)

    def _replay_traffic(self, environ: dict[str, Any]) -> WsgiResponse:
        try:
            document = json.loads(read_body(environ) or b"null")
        except (ValueError, RecursionError):
            return plain_json(400, {"message": "The body is not valid JSON."})
        try:
            answer = self.replay.replay(self.replay.parse(document))
        except ReplayError as error:
            refusal = {"message": str(error)}
            if error.code:
                refusal["code"] = error.code
            return plain_json(error.status, refusal)
        return plain_json(200, answer)


def own_url(environ: dict[str, Any]) -> str:
    """How this server reaches itself: the address it is bound to, loopback for a wildcard.

    Scenarios call the sandbox's AWS API over HTTP like any client, so that what they do is
    recorded and served exactly as a client's calls are.
    """
    host = str(environ.get("SERVER_NAME") or "127.0.0.1")
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{environ.get('SERVER_PORT', '80')}"


def _execution_json(execution: Execution) -> dict[str, Any]:
    """The execution's summary plus where its report is, for a test or a curious operator."""
    return {
        **render_execution(execution),
        "Region": execution.region,
        "ProcessingJobName": execution.processing_job_name,
        "ReportUri": execution.report_uri,
        "Violations": execution.violations,
    }
