"""Asynchronous endpoints as the inventory knows them.

An endpoint whose config has an AsyncInferenceConfig takes requests with
InvokeEndpointAsync only: each request is queued, answered into S3OutputPath (or, failing,
S3FailurePath) and announced on the SNS topics. DescribeEndpoint repeats the config's
AsyncInferenceConfig; the inventory keeps both answers, and the endpoint's own (what it
runs now) wins over the config's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from endpoints.models import Endpoint

ASYNC_KEY = "AsyncInferenceConfig"


@dataclass(frozen=True)
class AsyncInference:
    """What an asynchronous endpoint does with its requests (empty string: not set)."""

    output_path: str
    failure_path: str
    max_concurrent_per_instance: int | None
    success_topic: str
    error_topic: str
    kms_key: str


def _raw_config(endpoint: Endpoint) -> dict[str, Any] | None:
    for raw in (endpoint.describe_raw, endpoint.config_raw):
        found = (raw or {}).get(ASYNC_KEY)
        if isinstance(found, dict):
            return found
    return None


def _section(raw: dict[str, Any], key: str) -> dict[str, Any]:
    found = raw.get(key)
    return found if isinstance(found, dict) else {}


def async_inference(endpoint: Endpoint) -> AsyncInference | None:
    """The endpoint's asynchronous inference settings, or None for a real-time endpoint."""
    raw = _raw_config(endpoint)
    if raw is None:
        return None
    client = _section(raw, "ClientConfig")
    output = _section(raw, "OutputConfig")
    notify = _section(output, "NotificationConfig")
    concurrency = client.get("MaxConcurrentInvocationsPerInstance")
    return AsyncInference(
        output_path=str(output.get("S3OutputPath") or ""),
        failure_path=str(output.get("S3FailurePath") or ""),
        max_concurrent_per_instance=concurrency if isinstance(concurrency, int) else None,
        success_topic=str(notify.get("SuccessTopic") or ""),
        error_topic=str(notify.get("ErrorTopic") or ""),
        kms_key=str(output.get("KmsKeyId") or ""),
    )


def is_async(endpoint: Endpoint) -> bool:
    """Whether the endpoint takes InvokeEndpointAsync only (no real-time InvokeEndpoint)."""
    return _raw_config(endpoint) is not None


def real_time_refusal(endpoint: Endpoint) -> str | None:
    """Why the endpoint takes no real-time request (InvokeEndpoint, the test invoke), or
    None when it does."""
    if not is_async(endpoint):
        return None
    return (
        f"{endpoint.name} is an asynchronous endpoint: it takes requests with "
        "InvokeEndpointAsync only (queued, and answered into its S3 output path), so there "
        "is no real-time test invoke. Its queue is on the Configuration tab."
    )


def async_endpoints() -> list[Endpoint]:
    """Every live asynchronous endpoint (for the board's backlog signal), one query."""
    candidates = Endpoint.objects.filter(deleted_at__isnull=True).filter(
        Q(describe_raw__has_key=ASYNC_KEY) | Q(config_raw__has_key=ASYNC_KEY)
    )
    return [e for e in candidates.order_by("target", "region", "name") if is_async(e)]
