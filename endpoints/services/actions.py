"""What people do to one endpoint through the portal: refresh it now, and send it a test
request. Both are Operators' and audited."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from audit.services import audit_record, enforce
from core.aws import runtime as aws_runtime
from core.aws.errors import AwsError
from core.errors import Conflict
from core.queue import enqueue_on_commit
from core.targets import target_by_name
from endpoints import policy, tasks
from endpoints.models import Endpoint
from endpoints.selectors.async_inference import real_time_refusal


def endpoint_refresh_request(
    *, endpoint: Endpoint, actor: Any, request: HttpRequest | None = None
) -> bool:
    """Queue a sync of one endpoint now (Operators); False if the broker refused the task.

    A refused task loses nothing: the scheduled sync picks the change up within a minute.
    """
    enforce(
        policy.refusal_for("refresh", actor, endpoint),
        actor=actor,
        action="inventory.refresh",
        target=endpoint.arn,
        request=request,
    )
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="inventory.refresh",
            target=endpoint.arn,
            request=request,
        )
        queued = enqueue_on_commit(tasks.endpoint_refresh, endpoint.id)
    return bool(queued.sent)


def endpoint_refresh_later(*, endpoint_id: int) -> None:
    """Re-read one endpoint once the current transaction commits, e.g. after a change the
    portal made to it, so pages show the new state before the scheduled sync."""
    enqueue_on_commit(tasks.endpoint_refresh, endpoint_id)


@dataclass(frozen=True)
class TestInvocation:
    """What the test-invoke form shows: the prediction or the error, and the timing."""

    ok: bool
    body: str
    content_type: str
    invoked_variant: str
    latency_ms: float
    error_code: str = ""
    error: str = ""
    # A streamed answer: its parts as they came, and when the first one arrived.
    parts: list[str] = field(default_factory=list)
    first_part_ms: float | None = None


def endpoint_test_invoke(
    *,
    endpoint: Endpoint,
    actor: Any,
    payload: str,
    content_type: str,
    accept: str = "",
    target_variant: str = "",
    inference_component: str = "",
    target_model: str = "",
    stream: bool = False,
    request: HttpRequest | None = None,
) -> TestInvocation:
    """Send one payload to the endpoint (once: InvokeEndpoint is never retried) and audit
    who sent what kind of request where, and what came back (not the payload itself)."""
    enforce(
        policy.refusal_for("test_invoke", actor, endpoint),
        actor=actor,
        action="endpoint.test_invoke",
        target=endpoint.arn,
        request=request,
    )
    # SageMaker would answer a ValidationError: say why before sending anything.
    asynchronous = real_time_refusal(endpoint)
    if asynchronous:
        raise Conflict(asynchronous)
    target = target_by_name(endpoint.target)
    started = time.perf_counter()
    try:
        result = aws_runtime.invoke_endpoint(
            target=target,
            region=endpoint.region,
            endpoint_name=endpoint.name,
            body=payload.encode(),
            content_type=content_type,
            accept=accept,
            target_variant=target_variant,
            inference_component=inference_component,
            target_model=target_model,
            stream=stream,
        )
    except AwsError as exc:
        outcome = TestInvocation(
            ok=False,
            body="",
            content_type="",
            invoked_variant="",
            latency_ms=(time.perf_counter() - started) * 1000,
            error_code=exc.code,
            error=exc.message,
        )
    else:
        outcome = TestInvocation(
            ok=True,
            body=result.body.decode("utf-8", errors="replace"),
            content_type=result.content_type,
            invoked_variant=result.invoked_variant,
            latency_ms=result.latency_ms,
            parts=[part.decode("utf-8", errors="replace") for part in result.parts],
            first_part_ms=result.first_part_ms,
        )
    audit_record(
        actor=actor,
        action="endpoint.test_invoke",
        target=endpoint.arn,
        after={
            "content_type": content_type,
            "target_variant": target_variant or None,
            "inference_component": inference_component or None,
            "target_model": target_model or None,
            "streamed": stream,
            "payload_bytes": len(payload.encode()),
            "invoked_variant": outcome.invoked_variant or None,
            "latency_ms": round(outcome.latency_ms, 1),
        },
        outcome="ok" if outcome.ok else "failed",
        error=f"{outcome.error_code}: {outcome.error}" if not outcome.ok else "",
        request=request,
    )
    return outcome
