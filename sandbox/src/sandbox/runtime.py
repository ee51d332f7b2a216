"""InvokeEndpoint: SageMaker Runtime's ``POST /endpoints/{EndpointName}/invocations``, and
InvokeEndpointWithResponseStream (``.../invocations-response-stream``).

moto answers every invocation with a static body, for endpoints that need not exist. Here a
request is routed as SageMaker routes it: to the variant named in
``X-Amzn-SageMaker-Target-Variant`` if given (whatever its weight), otherwise at random in
proportion to the variants' CurrentWeight (a variant of weight 0 gets nothing). The variant's
real model, loaded once when the endpoint was created, answers the body (formats in
``sandbox.inference_io``), and ``x-Amzn-Invoked-Production-Variant`` names who answered. On a
multi-model variant the request's TargetModel answers, loaded from the variant's S3 prefix on
its first request (``sandbox.multi_model``).

Errors have the runtime's real shapes: ValidationError (400) for an unknown endpoint or
variant, an endpoint that is not serving, or a body over 6 MB; ModelError (424, with
OriginalStatusCode, OriginalMessage and LogStreamArn) when the container rejects or fails the
request, including the share of requests a container built to fail crashes on
(``SANDBOX_FAILURE_RATE``, see ``sandbox.model_data``); InternalFailure (500) and
ThrottlingException (400) from injected faults. Every routed
request is recorded for the variant's CloudWatch metrics, and successful ones are offered to
data capture. What reached the variant's containers shows in their CloudWatch Logs
(``sandbox.container_logs``): a line per failed request, with the exception, in the log group
the ModelError names, and an access-log line for a sample of the successful ones.

During an UpdateEndpoint the new fleet serves its share of each variant's requests, as the
deployment's current step has it (``sandbox.deployments``: a canary's quarter, a linear
step's half, all of it once traffic has moved), with its own model and its own failures;
its requests count under the same VariantName, as on AWS.

InvokeEndpointWithResponseStream is routed, served and accounted for the same way; the
answer comes as AWS's event stream (``sandbox.eventstream``): one PayloadPart per line the
model wrote (a CSV row per prediction), a single long line in parts of at most
STREAM_PART_BYTES, the model's content type in ``X-Amzn-SageMaker-Content-Type``. Errors
before the first byte (an unknown endpoint, a ModelError) are the plain HTTP errors, as on
AWS.
"""

from __future__ import annotations

import functools
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sandbox import eventstream
from sandbox.aws_protocol import AwsError, AwsRequest, WsgiResponse
from sandbox.capture import DataCapture, Exchange
from sandbox.container_logs import (
    ContainerLogs,
    crash_line,
    internal_failure_line,
    log_group,
    rejection_line,
)
from sandbox.endpoint_metrics import EndpointMetrics, Outcome, Status
from sandbox.endpoints import EndpointRecord, EndpointStatus, EndpointStore, VariantState
from sandbox.faults import Fault, FaultStore
from sandbox.inference_components import (
    COMPONENT_HEADER,
    NAME_REQUIRED,
    InferenceComponentsApi,
    is_component_host,
)
from sandbox.inference_io import PayloadError, decode_rows, encode_predictions, response_format
from sandbox.models import ArtifactError
from sandbox.multi_model import TARGET_MODEL_HEADER, ModelLoad, MultiModelHost, not_multi_model
from sandbox.shadow_copies import ShadowCopies, shadows_to_copy

Handler = Callable[[AwsRequest], WsgiResponse | None]

MAX_PAYLOAD_BYTES = 6_291_456
MAX_INFERENCE_ID_LENGTH = 64
INVOKED_VARIANT_HEADER = "x-Amzn-Invoked-Production-Variant"
CRASH_MESSAGE = "Internal server error: the model worker crashed."
STREAM_PART_BYTES = 256
_INVOCATION_PATH = re.compile(r"^/endpoints/([^/]+)/invocations$")
_STREAM_PATH = re.compile(r"^/endpoints/([^/]+)/invocations-response-stream$")
_ASYNC_PATH = re.compile(r"^/endpoints/([^/]+)/async-invocations$")
# An endpoint keeps serving on its current fleet while it is being updated.
_SERVING = {
    EndpointStatus.IN_SERVICE,
    EndpointStatus.UPDATING,
    EndpointStatus.SYSTEM_UPDATING,
    EndpointStatus.ROLLING_BACK,
    EndpointStatus.UPDATE_ROLLBACK_FAILED,
}


def rest_operation(service: str | None, method: str, path: str) -> str | None:
    """The operation a REST request names by its path (SageMaker Runtime has no target header)."""
    if service == "sagemaker" and method == "POST" and _INVOCATION_PATH.match(path):
        return "InvokeEndpoint"
    if service == "sagemaker" and method == "POST" and _STREAM_PATH.match(path):
        return "InvokeEndpointWithResponseStream"
    if service == "sagemaker" and method == "POST" and _ASYNC_PATH.match(path):
        return "InvokeEndpointAsync"  # served by sandbox.async_inference
    return None


def _validation(message: str) -> AwsError:
    return AwsError("ValidationError", message)


def endpoint_not_found(name: str, account: str) -> AwsError:
    """What the runtime answers for an endpoint the account does not have."""
    return _validation(f"Endpoint {name} of account {account} not found.")


# What faults and the container's own failures do to one request before its model runs:
# refused by a throttle (4xx), failed by the platform (5xx), crashed inside the container (a
# model error, 5xx), or served by the model.
Verdict = Literal["throttled", "failed", "crashed", "served"]


@dataclass(frozen=True)
class Fate:
    """One request's verdict and the latency a fault adds inside the model (seconds)."""

    verdict: Verdict
    injected_seconds: float = 0.0


def decide_fate(fault: Fault | None, variant: VariantState, rng: random.Random) -> Fate:
    """Roll the dice for one request routed to ``variant``, as InvokeEndpoint does.

    Shared by InvokeEndpoint and a replayed burst (``sandbox.replay``) so both suffer the
    same odds, drawn in the same order: the throttle first, then the fault's error rate,
    then the variant's own failure rate (a model built to fail). A platform 5xx ends the
    request before the model runs, so it adds no latency; a crash happens after the
    injected latency has been spent.
    """
    if fault is not None and fault.throttle_rate and rng.random() < fault.throttle_rate:
        return Fate("throttled")
    injected = fault.latency_ms / 1000.0 if fault is not None else 0.0
    failing = fault is not None and fault.error_rate and rng.random() < fault.error_rate
    if failing and fault is not None and fault.error_kind == "5xx":
        return Fate("failed")
    crashing = variant.failure_rate and rng.random() < variant.failure_rate
    return Fate("crashed" if failing or crashing else "served", injected)


@dataclass(frozen=True)
class Routed:
    """The endpoint and the variant a request goes to."""

    record: EndpointRecord
    variant: VariantState


def log_group_arn(region: str, account_id: str, endpoint: str) -> str:
    return f"arn:aws:logs:{region}:{account_id}:log-group:{log_group(endpoint)}"


def model_error(
    request: AwsRequest, endpoint: str, variant: str, status: int, message: str
) -> AwsError:
    """The ModelError SageMaker returns when the container answers a non-2xx status."""
    region, account = request.region, request.account_id
    side = "client" if status < 500 else "server"
    logs = (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#logEventViewer:group={log_group(endpoint)}"
    )
    return AwsError(
        "ModelError",
        f'Received {side} error ({status}) from primary with message "{message}". '
        f"See {logs} in account {account} for more information.",
        424,
        {
            "OriginalStatusCode": status,
            "OriginalMessage": message,
            "LogStreamArn": log_group_arn(region, account, endpoint),
        },
    )


class Runtime:
    """Routes, runs and accounts for invocations."""

    def __init__(
        self,
        endpoints: EndpointStore,
        faults: FaultStore,
        metrics: EndpointMetrics,
        capture: DataCapture,
        container_logs: ContainerLogs,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        components: InferenceComponentsApi | None = None,
        multi_model: MultiModelHost | None = None,
        shadow_copies: ShadowCopies | None = None,
    ) -> None:
        self.components = components
        self.shadow_copies = shadow_copies or ShadowCopies()
        self.multi_model = multi_model or MultiModelHost()
        self.endpoints = endpoints
        self.faults = faults
        self.metrics = metrics
        self.capture = capture
        self.container_logs = container_logs
        self.sleep = sleep
        self.rng = rng or random.Random()

    def operations(self) -> dict[str, Handler]:
        return {
            "InvokeEndpoint": self.invoke_endpoint,
            "InvokeEndpointWithResponseStream": self.invoke_endpoint_with_response_stream,
        }

    def route(self, request: AwsRequest, name: str) -> Routed:
        """The variant that serves this request, or the ValidationError AWS answers."""
        record = self.serving(request.account_id, request.region, name)
        if record.async_config:
            # An endpoint with an AsyncInferenceConfig takes asynchronous invocations only.
            raise _validation(
                f"Endpoint {name} of account {request.account_id} is an asynchronous inference "
                "endpoint; invoke it with InvokeEndpointAsync."
            )
        if self.components is not None and request.headers.get(COMPONENT_HEADER):
            return Routed(record, self.components.serving_variant(request, record))
        if is_component_host(record):
            raise _validation(NAME_REQUIRED)
        return self.pick(record, request.headers.get("x-amzn-sagemaker-target-variant"))

    def serving(self, account: str, region: str, name: str) -> EndpointRecord:
        """The endpoint if it is serving, or the ValidationError AWS answers for it."""
        record = self.endpoints.get(account, region, name)
        if record is None:
            raise endpoint_not_found(name, account)
        if record.status not in _SERVING:
            raise _validation(
                f"Endpoint {name} of account {account} is not in service: its status is "
                f"{record.status.value}. Invoke it once it is InService."
            )
        return record

    def pick(self, record: EndpointRecord, target: str | None = None) -> Routed:
        """Where one request to a serving endpoint goes: the ``target`` variant if named,
        else by the live weights, with a pending deployment's share on its new fleet.

        A replayed burst picks many times on one snapshot of the endpoint, so this reads
        nothing but ``record``.
        """
        name, account = record.name, record.account_id
        pending = record.pending_deployment
        if target:
            variant = record.variant(target)
            if variant is None:
                raise _validation(
                    f"Target variant {target} not found for endpoint {name} of account {account}."
                )
            return Routed(record, self._fleet_serving(record, variant))
        if pending is not None and pending.full:
            # All traffic is on the new fleet: its variants and weights decide.
            return Routed(record, self._by_weight(name, account, pending.variants))
        variant = self._by_weight(name, account, record.variants)
        return Routed(record, self._fleet_serving(record, variant))

    def _by_weight(self, name: str, account: str, variants: list[VariantState]) -> VariantState:
        live = [v for v in variants if (v.current_weight or 0.0) > 0.0]
        if not live:
            raise _validation(
                f"Endpoint {name} of account {account} has no production variant with a "
                "positive weight to route to."
            )
        pick = self.rng.random() * sum(v.current_weight or 0.0 for v in live)
        for variant in live:
            pick -= variant.current_weight or 0.0
            if pick < 0:
                return variant
        return live[-1]

    def _fleet_serving(self, record: EndpointRecord, variant: VariantState) -> VariantState:
        """The old fleet's variant, or the new fleet's of the same name for its share of
        requests while a deployment moves traffic."""
        pending = record.pending_deployment
        if pending is None:
            return variant
        share = pending.shares.get(variant.name, 0.0)
        if share <= 0.0 or self.rng.random() >= share:
            return variant
        return pending.variant(variant.name) or variant

    def invoke_endpoint(self, request: AwsRequest) -> WsgiResponse:
        match = _INVOCATION_PATH.match(request.path)
        assert match is not None
        return self._invoke(request, match.group(1), "InvokeEndpoint")

    def invoke_endpoint_with_response_stream(self, request: AwsRequest) -> WsgiResponse:
        match = _STREAM_PATH.match(request.path)
        assert match is not None
        answer = self._invoke(request, match.group(1), "InvokeEndpointWithResponseStream")
        headers = dict(answer.headers)
        stream = b"".join(
            eventstream.event("PayloadPart", part) for part in stream_parts(answer.body)
        )
        return WsgiResponse(
            status=200,
            headers=[
                ("Content-Type", "application/vnd.amazon.eventstream"),
                ("X-Amzn-SageMaker-Content-Type", headers["Content-Type"]),
                (INVOKED_VARIANT_HEADER, headers[INVOKED_VARIANT_HEADER]),
                ("x-amzn-RequestId", request.request_id),
            ],
            body=stream,
        )

    def _invoke(self, request: AwsRequest, name: str, operation: str) -> WsgiResponse:
        started = time.perf_counter()
        if len(request.body) > MAX_PAYLOAD_BYTES:
            raise _validation(
                f"Received payload of {len(request.body)} bytes; the maximum payload size for "
                f"{operation} is {MAX_PAYLOAD_BYTES} bytes (6 MB)."
            )
        inference_id = request.headers.get("x-amzn-sagemaker-inference-id")
        if inference_id is not None and not 0 < len(inference_id) <= MAX_INFERENCE_ID_LENGTH:
            raise _validation(
                f"InferenceId must be 1 to {MAX_INFERENCE_ID_LENGTH} characters long."
            )
        routed = self.route(request, name)
        target = request.headers.get(TARGET_MODEL_HEADER)
        model_load: ModelLoad | None = None
        if routed.variant.model_data_prefix is None and target is not None:
            # SageMaker refuses a TargetModel for a single-model endpoint rather than ignore it.
            raise not_multi_model(name)
        variant = routed.variant
        fault = self.faults.for_variant(request.region, name, variant.name)
        self._copy_to_shadows(request, routed, inference_id)

        def account(status: Status, model_error: bool, model_seconds: float | None) -> None:
            self._account(request, name, variant, started, model_load)(
                status, model_error, model_seconds
            )

        if variant.model_data_prefix is not None:
            try:
                served, model_load = self.multi_model.serve(
                    account_id=request.account_id,
                    region=request.region,
                    endpoint=name,
                    created=routed.record.creation_time,
                    variant=variant,
                    target=target,
                    request_id=request.request_id,
                )
            except ArtifactError:
                account("5xx", True, None)
                message = f"Failed to load model {target}: the model artifact is not readable."
                self.container_logs.write(routed.record, variant, rejection_line(500, message))
                raise model_error(request, name, variant.name, 500, message) from None
            routed = Routed(routed.record, served)
        try:
            return self._serve(request, routed, fault, inference_id, account)
        except AwsError:
            raise
        except Exception:
            account("5xx", False, None)
            raise

    def _account(
        self,
        request: AwsRequest,
        name: str,
        variant: VariantState,
        started: float,
        model_load: ModelLoad | None,
    ) -> Callable[[Status, bool, float | None], None]:
        """What records one request's outcome for ``variant``: its CloudWatch data point,
        and its inference component's counts when the request named one."""

        def account(status: Status, model_error: bool, model_seconds: float | None) -> None:
            total = time.perf_counter() - started
            model_us = round(model_seconds * 1e6) if model_seconds is not None else None
            overhead_us = max(0, round(total * 1e6) - (model_us or 0))
            self.metrics.record(
                request.account_id,
                request.region,
                name,
                variant,
                Outcome(status, model_error, model_us, overhead_us, model_load),
            )
            if self.components is not None and request.headers.get(COMPONENT_HEADER):
                self.components.count(request, status, model_seconds)

        return account

    def _copy_to_shadows(
        self, request: AwsRequest, routed: Routed, inference_id: str | None
    ) -> None:
        """Send the request's copy to each shadow variant its sampling picks, off this thread."""
        record = routed.record
        if not record.shadow_variants or request.headers.get(COMPONENT_HEADER):
            return
        for shadow in shadows_to_copy(record, routed.variant, self.rng):
            self.shadow_copies.send(
                functools.partial(self._serve_shadow, request, record, shadow, inference_id)
            )

    def _serve_shadow(
        self,
        request: AwsRequest,
        record: EndpointRecord,
        shadow: VariantState,
        inference_id: str | None,
    ) -> None:
        """Serve a shadow's copy: counted, logged and captured under its name, answer dropped."""
        account = self._account(request, record.name, shadow, time.perf_counter(), None)
        fault = self.faults.for_variant(request.region, record.name, shadow.name)
        try:
            self._serve(request, Routed(record, shadow), fault, inference_id, account)
        except AwsError:
            return
        except Exception:
            account("5xx", False, None)
            raise

    def _serve(
        self,
        request: AwsRequest,
        routed: Routed,
        fault: Fault | None,
        inference_id: str | None,
        account: Callable[[Status, bool, float | None], None],
    ) -> WsgiResponse:
        record, name, variant = routed.record, routed.record.name, routed.variant
        logs = self.container_logs
        fate = decide_fate(fault, variant, self.rng)
        if fate.verdict == "throttled":
            account("4xx", False, None)
            raise AwsError("ThrottlingException", "Rate exceeded", 400)
        if fate.verdict == "failed":
            account("5xx", False, None)
            logs.write(
                record,
                variant,
                internal_failure_line(
                    "the connection to the model server was reset before it answered "
                    "POST /invocations (injected 5xx fault)"
                ),
            )
            raise AwsError(
                "InternalFailure", "An internal error occurred while processing the request.", 500
            )
        model_started = time.perf_counter()
        if fate.injected_seconds:
            self.sleep(fate.injected_seconds)
        if fate.verdict == "crashed":
            account("5xx", True, time.perf_counter() - model_started)
            logs.write(record, variant, crash_line(variant.model_name))
            raise model_error(request, name, variant.name, 500, CRASH_MESSAGE)
        model = variant.model
        if model is None:
            account("5xx", False, None)
            logs.write(record, variant, internal_failure_line("no model is loaded"))
            raise AwsError("InternalFailure", "The variant has no model loaded.", 500)
        content_type = request.headers.get("content-type", "")
        try:
            features = decode_rows(request.body, content_type, model)
            media = response_format(request.headers.get("accept"), content_type)
            encoded = encode_predictions(model, features, media)
        except PayloadError as error:
            status: Status = "4xx" if error.status < 500 else "5xx"
            account(status, True, time.perf_counter() - model_started)
            logs.write(record, variant, rejection_line(error.status, error.message))
            raise model_error(request, name, variant.name, error.status, error.message) from None
        account("ok", False, time.perf_counter() - model_started)
        logs.served(record, variant, len(encoded.body))
        self.capture.offer(
            account_id=request.account_id,
            region=request.region,
            endpoint=name,
            variant=variant.name,
            config=routed.record.data_capture,
            exchange=Exchange(
                request_body=request.body,
                request_content_type=content_type or "text/csv",
                response_body=encoded.body,
                response_content_type=encoded.content_type,
                inference_id=inference_id,
                time=time.time(),
            ),
        )
        return WsgiResponse(
            status=200,
            headers=[
                ("Content-Type", encoded.content_type),
                (INVOKED_VARIANT_HEADER, variant.name),
                ("x-amzn-RequestId", request.request_id),
            ],
            body=encoded.body,
        )


def stream_parts(body: bytes) -> list[bytes]:
    """The model's answer as the parts a streaming container sends: a line each (newline
    kept), a long line cut every STREAM_PART_BYTES."""
    parts = []
    for line in body.splitlines(keepends=True):
        parts += [line[i : i + STREAM_PART_BYTES] for i in range(0, len(line), STREAM_PART_BYTES)]
    return parts
