"""InvokeEndpointAsync: SageMaker Runtime's ``POST /endpoints/{EndpointName}/async-invocations``.

moto answers a fixed placeholder for any endpoint. Here, as on SageMaker, the request names an
S3 object holding the payload (``X-Amzn-SageMaker-InputLocation``); the runtime checks the
endpoint (it must exist, serve and carry an ``AsyncInferenceConfig``: an endpoint with one
takes asynchronous invocations only, and one without refuses them), queues the request and
answers 202 at once with the InferenceId (the caller's or a generated one) and where the
answer will be: ``<S3OutputPath>/<InferenceId>.out``, and, when the config has an
S3FailurePath, ``<S3FailurePath>/<InferenceId>-error.out`` (without one, failures go beside
the outputs under the same ``-error.out`` name). The input is read only when the request is
served, so a missing object is accepted and fails later, as on AWS.

A queue per endpoint is drained by a background pass (``run_once``) with at most
``instances x MaxConcurrentInvocationsPerInstance`` requests in flight. Each request reads its
input, is routed to a production variant by the live weights (``Runtime.pick``) and suffers
the same faults and the same real model as InvokeEndpoint (``decide_fate``,
``decode_rows``/``encode_predictions``); the model's answer is written to the output location,
an error document to the failure location. A request still queued when its RequestTTLSeconds
runs out fails without reaching the model. With 0 instances (allowed for an asynchronous
endpoint only, ``sandbox.endpoints``) requests wait until instances return.

Metrics follow AWS's list for asynchronous endpoints (``sandbox.async_metrics``: the
queue's backlog per endpoint, outcomes per variant, no Invocations). Failures reach the
container's CloudWatch Logs as InvokeEndpoint's do, and answers are offered to data capture.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from sandbox import moto_bridge
from sandbox.async_metrics import AsyncMetrics, EndpointKey, instances
from sandbox.aws_protocol import AwsError, AwsRequest, WsgiResponse
from sandbox.capture import DataCapture, Exchange
from sandbox.container_logs import (
    ContainerLogs,
    crash_line,
    internal_failure_line,
    rejection_line,
)
from sandbox.endpoint_metrics import EndpointMetrics, Status
from sandbox.endpoints import EndpointRecord, EndpointStatus, EndpointStore, VariantState
from sandbox.faults import FaultStore
from sandbox.inference_io import PayloadError, decode_rows, encode_predictions, response_format
from sandbox.metric_store import MetricStore
from sandbox.runtime import CRASH_MESSAGE, Runtime, decide_fate

Handler = Callable[[AwsRequest], WsgiResponse | None]

ASYNC_PATH = re.compile(r"^/endpoints/([^/]+)/async-invocations$")
# AWS: "If no value is provided, SageMaker chooses an optimal value" and publishes none; the
# sandbox assumes 4 concurrent requests per instance.
DEFAULT_INVOCATIONS_PER_INSTANCE = 4
DEFAULT_TTL_SECONDS = 21600  # 6 hours, AWS's default and maximum RequestTTLSeconds
TTL_RANGE = (60, 21600)
DEFAULT_INVOCATION_TIMEOUT = 900  # 15 minutes, AWS's default InvocationTimeoutSeconds
TIMEOUT_RANGE = (1, 3600)
MAX_INFERENCE_ID_LENGTH = 64
# How often the background pass looks for requests to serve.
DISPATCH_INTERVAL = 0.1
WORKERS = 8
_INPUT = "x-amzn-sagemaker-inputlocation"
_S3_HOST = re.compile(r"^(?P<bucket>.+)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$")

# Queued requests are served while the endpoint serves (an update keeps the old fleet on).
_SERVING = (EndpointStatus.IN_SERVICE, EndpointStatus.UPDATING, EndpointStatus.ROLLING_BACK)


def _validation(message: str) -> AwsError:
    return AwsError("ValidationError", message)


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_uri(uri: str) -> S3Location | None:
    """``s3://bucket/key`` or a virtual-hosted ``https://bucket.s3.<region>.amazonaws.com/key``
    (the two forms InputLocation takes); None for anything else."""
    parsed = urlparse(uri)
    if parsed.scheme == "s3" and parsed.netloc:
        return S3Location(parsed.netloc, unquote(parsed.path.lstrip("/")))
    if parsed.scheme == "https":
        hosted = _S3_HOST.match(parsed.netloc)
        if hosted:
            return S3Location(hosted.group("bucket"), unquote(parsed.path.lstrip("/")))
        path = parsed.path.lstrip("/")
        if parsed.netloc.startswith("s3") and "/" in path:  # path style
            bucket, key = path.split("/", 1)
            return S3Location(bucket, unquote(key))
    return None


def _under(path: str, name: str) -> S3Location | None:
    base = parse_s3_uri(path)
    if base is None:
        return None
    prefix = base.key if not base.key or base.key.endswith("/") else base.key + "/"
    return S3Location(base.bucket, prefix + name)


def per_instance(async_config: dict[str, Any]) -> int:
    """The config's MaxConcurrentInvocationsPerInstance, or the sandbox's default."""
    client = async_config.get("ClientConfig") or {}
    value = client.get("MaxConcurrentInvocationsPerInstance")
    return int(value) if isinstance(value, int) and value > 0 else DEFAULT_INVOCATIONS_PER_INSTANCE


@dataclass(frozen=True)
class AsyncRequest:
    """One queued invocation and where its answer goes."""

    account_id: str
    region: str
    endpoint: str
    inference_id: str
    input: S3Location
    output: S3Location
    failure: S3Location
    content_type: str
    accept: str | None
    enqueued_at: float
    expires_at: float
    timeout_seconds: int


def _ints(request: AwsRequest, header: str, member: str, bounds: tuple[int, int]) -> int | None:
    raw = request.headers.get(header)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise _validation(f"Value '{raw}' at '{member}' is not a whole number.") from None
    low, high = bounds
    if value < low:
        raise _validation(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
            f"constraint: Member must have value greater than or equal to {low}"
        )
    if value > high:
        raise _validation(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
            f"constraint: Member must have value less than or equal to {high}"
        )
    return value


class AsyncInference:
    """Accepts InvokeEndpointAsync requests, serves them from per-endpoint queues and
    publishes the queues' metrics."""

    def __init__(
        self,
        endpoints: EndpointStore,
        faults: FaultStore,
        endpoint_metrics: EndpointMetrics,
        store: MetricStore,
        capture: DataCapture,
        container_logs: ContainerLogs,
    ) -> None:
        self.endpoints = endpoints
        self.faults = faults
        self.capture = capture
        self.container_logs = container_logs
        self.clock = time.time
        self.rng = random.Random()
        # Routing and the serving checks are InvokeEndpoint's own.
        self.router = Runtime(
            endpoints, faults, endpoint_metrics, capture, container_logs, rng=self.rng
        )
        self._lock = threading.Lock()
        self._queues: dict[EndpointKey, deque[AsyncRequest]] = {}
        self._in_flight: dict[EndpointKey, list[AsyncRequest]] = {}
        self.metrics = AsyncMetrics(store, endpoints, self.clock)
        self._pool: ThreadPoolExecutor | None = None

    def operations(self) -> dict[str, Handler]:
        return {"InvokeEndpointAsync": self.invoke_endpoint_async}

    # Accepting.

    def invoke_endpoint_async(self, request: AwsRequest) -> WsgiResponse:
        match = ASYNC_PATH.match(request.path)
        assert match is not None
        name = match.group(1)
        location = request.headers.get(_INPUT)
        if not location:
            raise _validation(
                "1 validation error detected: Value null at 'inputLocation' failed to satisfy "
                "constraint: Member must not be null"
            )
        source = parse_s3_uri(location)
        if source is None or not source.key:
            raise _validation(
                f"1 validation error detected: Value '{location}' at 'inputLocation' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                "^(https|s3)://([^/]+)/?(.*)$"
            )
        ttl = _ints(request, "x-amzn-sagemaker-requestttlseconds", "requestTTLSeconds", TTL_RANGE)
        timeout = _ints(
            request,
            "x-amzn-sagemaker-invocationtimeoutseconds",
            "invocationTimeoutSeconds",
            TIMEOUT_RANGE,
        )
        inference_id = request.headers.get("x-amzn-sagemaker-inference-id")
        if inference_id is not None and not 0 < len(inference_id) <= MAX_INFERENCE_ID_LENGTH:
            raise _validation(
                f"InferenceId must be 1 to {MAX_INFERENCE_ID_LENGTH} characters long."
            )
        record = self.router.serving(request.account_id, request.region, name)
        config = record.async_config
        if not config:
            raise _validation(
                f"Endpoint {name} of account {request.account_id} is not an asynchronous "
                "inference endpoint: its endpoint configuration has no AsyncInferenceConfig. "
                "Use InvokeEndpoint."
            )
        inference_id = inference_id or str(uuid.uuid4())
        outputs = config.get("OutputConfig") or {}
        output_path = str(outputs.get("S3OutputPath") or "")
        output = _under(output_path, f"{inference_id}.out")
        failure_path = str(outputs.get("S3FailurePath") or "")
        # Without an S3FailurePath the error document goes beside the outputs.
        failure = _under(failure_path or output_path, f"{inference_id}-error.out")
        if output is None or failure is None:
            raise AwsError("InternalFailure", "The endpoint has no usable S3OutputPath.", 500)
        now = self.clock()
        queued = AsyncRequest(
            account_id=request.account_id,
            region=request.region,
            endpoint=name,
            inference_id=inference_id,
            input=source,
            output=output,
            failure=failure,
            content_type=request.headers.get("x-amzn-sagemaker-content-type", ""),
            accept=request.headers.get("x-amzn-sagemaker-accept"),
            enqueued_at=now,
            expires_at=now + (ttl or DEFAULT_TTL_SECONDS),
            timeout_seconds=timeout or DEFAULT_INVOCATION_TIMEOUT,
        )
        with self._lock:
            key = (request.account_id, request.region, name)
            self._queues.setdefault(key, deque()).append(queued)
        headers = [
            ("Content-Type", "application/json"),
            ("X-Amzn-SageMaker-OutputLocation", output.uri),
            ("x-amzn-RequestId", request.request_id),
        ]
        if failure_path:
            headers.append(("X-Amzn-SageMaker-FailureLocation", failure.uri))
        return WsgiResponse(
            status=202, headers=headers, body=json.dumps({"InferenceId": inference_id}).encode()
        )

    def backlog(self, account_id: str, region: str, endpoint: str) -> int:
        """Requests queued or being served for the endpoint."""
        key = (account_id, region, endpoint)
        with self._lock:
            return len(self._queues.get(key, ())) + len(self._in_flight.get(key, ()))

    # Serving.

    def run_once(self) -> int:
        """Expire what outlived its TTL, start what capacity allows; returns requests started."""
        now = self.clock()
        started = 0
        with self._lock:
            keys = [key for key, queue in self._queues.items() if queue]
        for key in keys:
            record = self.endpoints.get(*key)
            expired: list[AsyncRequest] = []
            ready: list[AsyncRequest] = []
            with self._lock:
                queue = self._queues.get(key)
                if queue is None:
                    continue
                if record is None:  # deleted: its queue goes with it
                    del self._queues[key]
                    continue
                while queue and queue[0].expires_at <= now:
                    expired.append(queue.popleft())
                config = record.async_config or {}
                flying = self._in_flight.setdefault(key, [])
                room = instances(record) * per_instance(config) - len(flying)
                serving = record.status in _SERVING
                while serving and queue and room > 0:
                    request = queue.popleft()
                    flying.append(request)
                    ready.append(request)
                    room -= 1
            for request in expired:
                self._fail(
                    request,
                    "RequestExpired",
                    "The request's RequestTTLSeconds passed "
                    "before the endpoint had capacity to serve it.",
                )
            for request in ready:
                self._pool_submit(record, request)
                started += 1
        return started

    def _pool_submit(self, record: EndpointRecord, request: AsyncRequest) -> None:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="sandbox-async")
            pool = self._pool
        pool.submit(self._serve_and_release, record, request)

    def _serve_and_release(self, record: EndpointRecord, request: AsyncRequest) -> None:
        try:
            self.serve(record, request)
        finally:
            key = (request.account_id, request.region, request.endpoint)
            with self._lock:
                flying = self._in_flight.get(key, [])
                flying[:] = [other for other in flying if other is not request]

    def serve(self, record: EndpointRecord, request: AsyncRequest) -> None:
        """Serve one request on the endpoint as it is now: output or failure document."""
        try:
            variant = self.router.pick(record).variant
        except AwsError as refused:
            self._fail(request, refused.code, refused.message)
            return
        if not variant.current_instance_count:
            variant = next((v for v in record.variants if v.current_instance_count), variant)
        found = moto_bridge.read_s3_object(
            request.account_id, request.region, request.input.bucket, request.input.key
        )
        if found is None:
            self._count(request, variant, download_failure=True)
            self._fail(
                request,
                "RequestDownloadFailure",
                f"Failed to download the input from {request.input.uri}: the object does not "
                "exist or is not readable.",
            )
            return
        self._run_model(record, variant, request, found.data)

    def _run_model(
        self, record: EndpointRecord, variant: VariantState, request: AsyncRequest, body: bytes
    ) -> None:
        logs = self.container_logs
        fault = self.faults.for_variant(request.region, request.endpoint, variant.name)
        fate = decide_fate(fault, variant, self.rng)
        if fate.verdict == "throttled":
            self._count(request, variant, status="4xx")
            self._fail(request, "ThrottlingException", "Rate exceeded")
            return
        if fate.verdict == "failed":
            self._count(request, variant, status="5xx")
            logs.write(
                record,
                variant,
                internal_failure_line(
                    "the connection to the model server was reset before it answered "
                    "POST /invocations (injected 5xx fault)"
                ),
            )
            self._fail(
                request,
                "InternalFailure",
                "An internal error occurred while processing the request.",
            )
            return
        started = time.perf_counter()
        if fate.injected_seconds:
            time.sleep(min(fate.injected_seconds, request.timeout_seconds))
            if fate.injected_seconds > request.timeout_seconds:
                self._count(request, variant, status="5xx", seconds=time.perf_counter() - started)
                message = f"The invocation timed out after {request.timeout_seconds} seconds."
                logs.write(record, variant, internal_failure_line(message))
                self._fail(request, "InvocationTimeout", message)
                return
        if fate.verdict == "crashed":
            self._count(request, variant, status="5xx", seconds=time.perf_counter() - started)
            logs.write(record, variant, crash_line(variant.model_name))
            self._fail(request, "ModelError", CRASH_MESSAGE, 500)
            return
        model = variant.model
        if model is None:
            self._count(request, variant, status="5xx")
            logs.write(record, variant, internal_failure_line("no model is loaded"))
            self._fail(request, "InternalFailure", "The variant has no model loaded.")
            return
        try:
            features = decode_rows(body, request.content_type, model)
            media = response_format(request.accept, request.content_type)
            encoded = encode_predictions(model, features, media)
        except PayloadError as error:
            status: Status = "4xx" if error.status < 500 else "5xx"
            self._count(request, variant, status=status, seconds=time.perf_counter() - started)
            logs.write(record, variant, rejection_line(error.status, error.message))
            self._fail(request, "ModelError", error.message, error.status)
            return
        self._count(request, variant, seconds=time.perf_counter() - started)
        logs.served(record, variant, len(encoded.body))
        written = moto_bridge.write_s3_object(
            request.account_id,
            request.region,
            request.output.bucket,
            request.output.key,
            encoded.body,
            encoded.content_type,
        )
        if not written:
            self._fail(
                request, "ResponseUploadFailure", f"Bucket {request.output.bucket} is missing."
            )
            return
        self.capture.offer(
            account_id=request.account_id,
            region=request.region,
            endpoint=request.endpoint,
            variant=variant.name,
            config=record.data_capture,
            exchange=Exchange(
                request_body=body,
                request_content_type=request.content_type or "text/csv",
                response_body=encoded.body,
                response_content_type=encoded.content_type,
                inference_id=request.inference_id,
                time=time.time(),
            ),
        )

    def _fail(
        self, request: AsyncRequest, code: str, message: str, status: int | None = None
    ) -> None:
        """Write the error document where the request's failures go."""
        document: dict[str, Any] = {
            "InferenceId": request.inference_id,
            "ErrorCode": code,
            "Message": message,
            "InputLocation": request.input.uri,
        }
        if status is not None:
            document["OriginalStatusCode"] = status
        moto_bridge.write_s3_object(
            request.account_id,
            request.region,
            request.failure.bucket,
            request.failure.key,
            json.dumps(document).encode(),
            "application/json",
        )

    def _count(
        self,
        request: AsyncRequest,
        variant: VariantState,
        *,
        status: Status = "ok",
        seconds: float | None = None,
        download_failure: bool = False,
    ) -> None:
        key = (request.account_id, request.region, request.endpoint)
        self.metrics.count(
            key, variant.name, status=status, seconds=seconds, download_failure=download_failure
        )

    # Metrics.

    def waiting(self, key: EndpointKey) -> list[float]:
        """When each request queued or being served for the endpoint arrived."""
        with self._lock:
            requests = [*self._queues.get(key, ()), *self._in_flight.get(key, ())]
        return [request.enqueued_at for request in requests]

    def flush(self, *, include_current: bool = False) -> int:
        """Publish the finished minutes of the queues' metrics (``sandbox.async_metrics``)."""
        return self.metrics.flush(self.waiting, include_current=include_current)

    # Lifecycle.

    def stop(self) -> None:
        """Let requests being served finish; those not started go back to their queues."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            for key, flying in self._in_flight.items():
                self._queues.setdefault(key, deque()).extendleft(reversed(flying))
                flying.clear()

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()
            self._in_flight.clear()
        self.metrics.clear()
