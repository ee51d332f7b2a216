"""boto3 client factory: one client per (target, region, service), built once.

Every client gets an explicit retry mode and timeouts (botocore's defaults changed under
us before), and, when the target names a role, credentials from STS AssumeRole that
refresh themselves. Inside a web request clients follow the page's AWS budget and each
service's circuit breaker (`page_budget`, `breaker`). `AWS_ENDPOINT_URL` (read by
botocore) points everything at the sandbox.
"""

from __future__ import annotations

import threading
from collections import Counter
from functools import cache, partial
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials
from django.conf import settings

from core.aws.breaker import breaker_admit, breaker_record
from core.aws.errors import THROTTLING_CODES
from core.aws.page_budget import STEP_SECONDS, BudgetSpent, call_timeouts, current_budget
from core.metrics import AWS_CALLS, AWS_THROTTLED_ATTEMPTS
from core.targets import Target

_lock = threading.Lock()
_calls: Counter[tuple[str, str]] = Counter()


def call_counts() -> Counter[tuple[str, str]]:
    """A copy of the per-process count of AWS calls made, keyed by (service, operation).

    Retries are not counted, nor calls a page's budget or a breaker stopped: this is how
    many API calls were made, which is what the inventory and ingest budgets are about.
    """
    with _lock:
        return Counter(_calls)


def reset_call_counts() -> None:
    with _lock:
        _calls.clear()


def _count_call(model: Any, **_: Any) -> None:
    with _lock:
        _calls[(model.service_model.service_name, model.name)] += 1


def client_config(
    *,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    attempts: int | None = None,
) -> Config:
    return Config(
        connect_timeout=connect_timeout or settings.AWS_CONNECT_TIMEOUT,
        read_timeout=read_timeout or settings.AWS_READ_TIMEOUT,
        retries={
            "mode": "standard",
            "total_max_attempts": attempts or settings.AWS_MAX_ATTEMPTS,
        },
        user_agent_appid="opsportal",
    )


@cache
def _session(target: Target) -> boto3.Session:
    base = boto3.Session()
    if not target.role_arn:
        return base
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=base._session.create_client,
        source_credentials=base.get_credentials(),
        role_arn=target.role_arn,
        extra_args={"RoleSessionName": "opsportal"},
    )
    core = botocore.session.Session()
    core._credentials = DeferredRefreshableCredentials(
        method="assume-role", refresh_using=fetcher.fetch_credentials
    )
    return boto3.Session(botocore_session=core)


def client(
    *,
    target: Target,
    region: str,
    service: str,
    read_timeout: float | None = None,
    attempts: int | None = None,
    outlasts_page: bool = False,
) -> Any:
    """The shared (thread-safe) client for one target, region and service.

    Inside a web request the client is the page profile: one attempt, and timeouts that
    end within what is left of the page's AWS budget (see `page_budget`), whatever the
    caller asked for, unless the call `outlasts_page` by design (a test invocation the
    user waits for)."""
    budget = current_budget()
    if budget is not None and not outlasts_page:
        timeouts = call_timeouts(budget, operation=service)
        return _client(
            target=target,
            region=region,
            service=service,
            connect_timeout=timeouts.connect,
            read_timeout=timeouts.read,
            attempts=1,
            for_page=True,
        )
    return _client(
        target=target,
        region=region,
        service=service,
        read_timeout=read_timeout,
        attempts=attempts,
    )


@cache
def _client(
    *,
    target: Target,
    region: str,
    service: str,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    attempts: int | None = None,
    for_page: bool = False,
) -> Any:
    config = client_config(
        connect_timeout=connect_timeout, read_timeout=read_timeout, attempts=attempts
    )
    with _lock:
        made = _session(target).client(service, region_name=region, config=config)
    where = {"target": target.name, "region": region, "service": service}
    if for_page:
        made.meta.events.register("before-call.*.*", partial(_admit_page_call, **where))
    made.meta.events.register("before-call.*.*", _count_call)
    made.meta.events.register("after-call.*.*", partial(_record_answer, **where))
    made.meta.events.register("after-call-error.*.*", partial(_record_error, **where))
    made.meta.events.register("after-call.*.*", partial(_measure_answer, service=service))
    made.meta.events.register("needs-retry.*.*", partial(_measure_attempt, service=service))
    made.meta.events.register("after-call-error.*.*", partial(_measure_no_answer, service=service))
    return made


def _admit_page_call(*, target: str, region: str, service: str, model: Any, **_: Any) -> None:
    """No call once the page's AWS time is spent (a paginator's next page, a second
    read on the same client), and none while the service's breaker is open."""
    budget = current_budget()
    if budget is not None and budget.remaining() < STEP_SECONDS:
        raise BudgetSpent(
            "this page's time for AWS is used up; showing what could be read",
            code="PageBudgetSpent",
            operation=model.name,
        )
    breaker_admit(target=target, region=region, service=service, operation=model.name)


def _record_answer(
    *, target: str, region: str, service: str, http_response: Any, parsed: Any, **_: Any
) -> None:
    code = str((parsed or {}).get("Error", {}).get("Code", ""))
    failed = http_response.status_code >= 500 or code in THROTTLING_CODES
    breaker_record(target=target, region=region, service=service, ok=not failed)


def _record_error(*, target: str, region: str, service: str, **_: Any) -> None:
    """A transport failure (timeout, refused or reset connection): AWS did not answer."""
    breaker_record(target=target, region=region, service=service, ok=False)


def _measure_answer(*, service: str, http_response: Any, parsed: Any, model: Any, **_: Any) -> None:
    """/metrics: one call answered (after botocore's retries), by how it ended."""
    code = str((parsed or {}).get("Error", {}).get("Code", ""))
    status = http_response.status_code
    if code in THROTTLING_CODES:
        outcome = "throttled"
    elif status >= 500:
        outcome = "server_error"
    elif status >= 400 or code:
        outcome = "client_error"
    else:
        outcome = "ok"
    AWS_CALLS.labels(service, model.name, outcome).inc()


def _measure_attempt(*, service: str, response: Any, operation: Any, **_: Any) -> None:
    """/metrics: one attempt throttled, whether or not a retry then succeeded. Botocore
    asks every attempt whether to retry it; this answers nothing (None), so it decides
    nothing."""
    if response is None:
        return
    code = str((response[1] or {}).get("Error", {}).get("Code", ""))
    if code in THROTTLING_CODES:
        AWS_THROTTLED_ATTEMPTS.labels(service, operation.name).inc()


def _measure_no_answer(*, service: str, event_name: str, **_: Any) -> None:
    """A call that got no answer (timeout, refused or reset connection); botocore names
    the operation only in the event's name."""
    AWS_CALLS.labels(service, event_name.rsplit(".", 1)[-1], "no_answer").inc()


def forget_clients() -> None:
    """Drop cached clients, e.g. after tests point AWS_ENDPOINT_URL somewhere else."""
    _client.cache_clear()
    _session.cache_clear()
