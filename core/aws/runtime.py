"""SageMaker Runtime: InvokeEndpoint and InvokeEndpointWithResponseStream for the
test-invoke form.

Never retried: InvokeEndpoint is not idempotent, and a ModelError (424) would only
repeat. The read timeout exceeds the 60 s a container may take to answer.
"""

from __future__ import annotations

import time

from core.aws.clients import client
from core.aws.errors import translated
from core.aws.types import InvocationResult
from core.targets import Target

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # 6 MB each way


def invoke_endpoint(
    *,
    target: Target,
    region: str,
    endpoint_name: str,
    body: bytes,
    content_type: str,
    accept: str = "",
    target_variant: str = "",
    inference_component: str = "",
    target_model: str = "",
    stream: bool = False,
) -> InvocationResult:
    # SageMaker allows a model 60 s to answer, and the user who asked is waiting for it:
    # this call is not held to a page's AWS budget.
    runtime = client(
        target=target,
        region=region,
        service="sagemaker-runtime",
        read_timeout=70,
        attempts=1,
        outlasts_page=True,
    )
    kwargs = {"EndpointName": endpoint_name, "Body": body, "ContentType": content_type}
    if accept:
        kwargs["Accept"] = accept
    if target_variant:
        kwargs["TargetVariant"] = target_variant
    if inference_component:
        kwargs["InferenceComponentName"] = inference_component
    if target_model:
        kwargs["TargetModel"] = target_model  # a multi-model endpoint's model under its prefix
    started = time.perf_counter()
    if not stream:
        with translated("InvokeEndpoint"):
            response = runtime.invoke_endpoint(**kwargs)
            payload = response["Body"].read()
        return InvocationResult(
            body=payload,
            content_type=response.get("ContentType", ""),
            invoked_variant=response.get("InvokedProductionVariant", ""),
            latency_ms=(time.perf_counter() - started) * 1000,
        )
    parts: list[bytes] = []
    first: float | None = None
    # A ModelStreamError or InternalStreamFailure arrives as an event and is raised while
    # the stream is read, so reading is inside the translation too.
    with translated("InvokeEndpointWithResponseStream"):
        response = runtime.invoke_endpoint_with_response_stream(**kwargs)
        for event in response["Body"]:
            if "PayloadPart" in event:
                first = first if first is not None else time.perf_counter()
                parts.append(event["PayloadPart"].get("Bytes", b""))
    return InvocationResult(
        body=b"".join(parts),
        content_type=response.get("ContentType", ""),
        invoked_variant=response.get("InvokedProductionVariant", ""),
        latency_ms=(time.perf_counter() - started) * 1000,
        parts=tuple(parts),
        first_part_ms=None if first is None else (first - started) * 1000,
    )
