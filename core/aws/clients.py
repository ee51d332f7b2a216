"""boto3 client factory: one client per (target, region, service), built once.

Every client gets an explicit retry mode and timeouts (botocore's defaults changed under
us before), and, when the target names a role, credentials from STS AssumeRole that
refresh themselves. `AWS_ENDPOINT_URL` (read by botocore) points everything at the sandbox.
"""

from __future__ import annotations

import threading
from collections import Counter
from functools import cache
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials
from django.conf import settings

from core.targets import Target

_lock = threading.Lock()
_calls: Counter[tuple[str, str]] = Counter()


def call_counts() -> Counter[tuple[str, str]]:
    """A copy of the per-process count of AWS calls made, keyed by (service, operation).

    Retries are not counted: this is how many API calls the code asked for, which is
    what the inventory and ingest budgets are about.
    """
    with _lock:
        return Counter(_calls)


def reset_call_counts() -> None:
    with _lock:
        _calls.clear()


def _count_call(model: Any, **_: Any) -> None:
    with _lock:
        _calls[(model.service_model.service_name, model.name)] += 1


def client_config(*, read_timeout: int | None = None, attempts: int | None = None) -> Config:
    return Config(
        connect_timeout=settings.AWS_CONNECT_TIMEOUT,
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


@cache
def client(
    *,
    target: Target,
    region: str,
    service: str,
    read_timeout: int | None = None,
    attempts: int | None = None,
) -> Any:
    """The shared (thread-safe) client for one target, region and service."""
    config = client_config(read_timeout=read_timeout, attempts=attempts)
    with _lock:
        made = _session(target).client(service, region_name=region, config=config)
    made.meta.events.register("before-call.*.*", _count_call)
    return made


def forget_clients() -> None:
    """Drop cached clients, e.g. after tests point AWS_ENDPOINT_URL somewhere else."""
    client.cache_clear()
    _session.cache_clear()
