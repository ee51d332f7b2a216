"""The sandbox's public surface for other projects' tests and benchmarks.

Everything a test suite or a benchmark outside this package uses comes from here, so the rest
of the package can change freely:

- ``SandboxServer``: a sandbox on a local port, started and stopped in-process (moto keeps its
  state per process, so one runs at a time), and ``TrafficGenerator`` for steady invocations;
- the demo world's names and helpers (``seed``): the monitored endpoint and its schedule,
  buckets, the baseline, the batch transform request, endpoint alarms, a bulk world;
- the small real models' held-out data (``holdout``, ``holdout_rows``, ``rows_to_csv``,
  ``train_tumor``);
- the identities calls are recorded under (access keys, ``identity_for``) and the CloudTrail
  record building blocks (``Call``, ``CallKind``, ``EVENT_SOURCES``, ``resources_named``);
- helpers that drive a running sandbox through the AWS API and its ``/_sandbox/`` controls
  only (``aws_client``, ``keyed_client``, ``control``, ``live_endpoint``,
  ``multi_model_endpoint``). The sandbox's own
  tests build on them too;
- ``api_fault`` and ``clear_api_faults``: make an AWS API throttle, fail, slow down or hang,
  to test how a caller copes with an AWS incident (``sandbox/api_faults.py``);
- ``replay_traffic``: account a burst of an endpoint's traffic to a chosen minute, to rehearse
  minutes of its metrics without waiting for them (``sandbox/replay.py``).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

import boto3
from botocore.config import Config

from sandbox.cloudtrail_records import EVENT_SOURCES, Call, CallKind, resources_named
from sandbox.identities import (
    CI_DEPLOYER_KEY,
    MARIA_KEY,
    PORTAL_KEY,
    ROOT_KEY,
    TEST_KEY,
    identity_for,
)
from sandbox.models import holdout, holdout_rows, rows_to_csv, train_tumor
from sandbox.seed import (
    BATCH_REGION,
    MONITOR_REGION,
    MONITORED_ENDPOINT,
    MONITORING_SCHEDULE,
    baseline_uri,
    bucket_name,
    put_endpoint_alarms,
    seed_bulk,
    tumor_batch_request,
)
from sandbox.server import SandboxServer
from sandbox.traffic import TrafficGenerator

__all__ = [
    "BATCH_REGION",
    "CI_DEPLOYER_KEY",
    "EVENT_SOURCES",
    "MARIA_KEY",
    "MONITORED_ENDPOINT",
    "MONITORING_SCHEDULE",
    "MONITOR_REGION",
    "PORTAL_KEY",
    "ROOT_KEY",
    "TEST_KEY",
    "Call",
    "CallKind",
    "SandboxServer",
    "TrafficGenerator",
    "api_fault",
    "aws_client",
    "baseline_uri",
    "bucket_name",
    "clear_api_faults",
    "control",
    "holdout",
    "holdout_rows",
    "identity_for",
    "keyed_client",
    "live_endpoint",
    "put_endpoint_alarms",
    "replay_traffic",
    "resources_named",
    "rows_to_csv",
    "seed_bulk",
    "train_tumor",
    "tumor_batch_request",
]

# The region ``live_endpoint`` creates endpoints in unless told otherwise; the demo world
# leaves it empty.
TRAFFIC_REGION = "us-east-2"


def aws_client(url: str, service: str, region: str) -> Any:
    """A boto3 client for the sandbox at ``url``, with dummy credentials and 3 attempts."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
    )


def keyed_client(url: str, service: str, region: str, access_key: str) -> Any:
    """A client signing with a given access key (the sandbox's identity), without retries."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="secret",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def control(url: str, path: str, method: str = "POST", body: Any = None) -> tuple[int, Any]:
    """Call a ``/_sandbox/`` control; (status, JSON answer) even for 4xx answers."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{url}/_sandbox/{path}", data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def api_fault(
    url: str, api: str, *, region: str | None = None, **effects: float | bool
) -> dict[str, Any]:
    """Make an API of the sandbox at ``url`` misbehave; returns the fault as the sandbox set it.

    ``api`` is ``"service:Operation"`` or ``"service:*"`` (``"sagemaker:DescribeEndpoint"``,
    ``"cloudwatch:GetMetricData"``, ``"s3:*"``); ``effects`` are ``throttle_rate``,
    ``error_rate``, ``reset_rate``, ``latency_ms`` and ``hang``. A refused fault raises
    ValueError with the sandbox's reason, so a typo fails the test instead of injecting
    nothing. The fault stays until ``clear_api_faults``: clear it in the test's teardown.
    """
    body: dict[str, Any] = {"api": api, **effects}
    if region is not None:
        body["region"] = region
    status, answer = control(url, "api-faults", body=body)
    if status != 200:
        raise ValueError(answer.get("message", answer))
    return dict(answer["api_fault"])


def clear_api_faults(
    url: str, api: str | None = None, *, region: str | None = None
) -> list[dict[str, Any]]:
    """Remove API faults (those of ``api`` or ``region`` if given, else all); returns them.

    Calls a hang holds are let through at once. ``api`` may be a service alone (``"s3"``)
    to remove all of its faults.
    """
    filters = {key: value for key, value in (("api", api), ("region", region)) if value}
    query = f"?{urllib.parse.urlencode(filters)}" if filters else ""
    status, answer = control(url, f"api-faults{query}", method="DELETE")
    if status != 200:
        raise ValueError(answer.get("message", answer))
    return list(answer["cleared"])


def replay_traffic(
    url: str, *, endpoint: str, requests: int, at: float, region: str | None = None
) -> dict[str, Any]:
    """Route ``requests`` invocations of ``endpoint`` as InvokeEndpoint would and publish them
    in the CloudWatch minute holding ``at`` (epoch seconds, at most 14 days back); returns
    ``{"endpoint", "region", "minute", "variants": {name: {"invocations", "errors_5xx",
    "errors_4xx"}}}``.

    Weights, pending deployments and faults apply as to live requests, but nothing sleeps:
    a latency fault is added to the recorded ModelLatency. A refused replay (an endpoint that
    is not serving, a bad ``at``) raises ValueError with the sandbox's reason.
    """
    body: dict[str, Any] = {"endpoint": endpoint, "requests": requests, "at": at}
    if region is not None:
        body["region"] = region
    status, answer = control(url, "replay-traffic", body=body)
    if status != 200:
        raise ValueError(answer.get("message", answer))
    return dict(answer)


def allow_endpoint_instances(
    url: str, instance_type: str, count: int, *, region: str | None = None
) -> None:
    """Set the endpoint-usage quota of an instance type (in every region unless one is
    given): a test session that creates endpoints by the dozen would otherwise meet the
    default quota, as an AWS account would."""
    body: dict[str, Any] = {"quota": f"{instance_type} for endpoint usage", "value": count}
    if region is not None:
        body["region"] = region
    status, answer = control(url, "quotas", body=body)
    if status != 200:
        raise ValueError(answer.get("message", answer))


def unique(prefix: str) -> str:
    """``prefix`` with a random suffix, for names no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_endpoint(
    url: str,
    region: str,
    model: str,
    *,
    weights: tuple[float, ...] = (1.0, 1.0),
    counts: tuple[int, ...] = (1, 1),
) -> str:
    """A two-variant endpoint (v0, v1) on the model; returns while it is still Creating."""
    sagemaker = aws_client(url, "sagemaker", region)
    name = unique("ep")
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": f"v{i}",
                "ModelName": model,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": count,
                "InitialVariantWeight": weight,
            }
            for i, (weight, count) in enumerate(zip(weights, counts, strict=True))
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    return name


def wait_for_status(
    url: str, region: str, name: str, status: str, timeout: float = 15.0
) -> dict[str, Any]:
    """Poll DescribeEndpoint like the SDK's waiter, but every 50 ms."""
    sagemaker = aws_client(url, "sagemaker", region)
    deadline = time.monotonic() + timeout
    while True:
        described = sagemaker.describe_endpoint(EndpointName=name)
        if described["EndpointStatus"] == status:
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} is {described['EndpointStatus']}, not {status}")
        time.sleep(0.05)


def live_endpoint(
    url: str,
    model: str,
    *,
    weights: tuple[float, ...] = (1.0, 1.0),
    region: str = TRAFFIC_REGION,
) -> str:
    """A new endpoint on the model, waited for until InService."""
    name = create_endpoint(url, region, model, weights=weights, counts=(1,) * len(weights))
    wait_for_status(url, region, name, "InService")
    return name


def multi_model_endpoint(
    url: str, region: str, *, model_data_url: str, repository: str = "sagemaker-xgboost"
) -> str:
    """A new multi-model endpoint (one variant, two instances) serving whatever artifacts are
    under ``model_data_url``, an S3 prefix; returns its name once it is InService."""
    from sandbox.seed import EXECUTION_ROLE_ARN, image_uri

    sagemaker = aws_client(url, "sagemaker", region)
    name = unique("mme")
    sagemaker.create_model(
        ModelName=name,
        PrimaryContainer={
            "Image": image_uri(repository, region),
            "Mode": "MultiModel",
            "ModelDataUrl": model_data_url,
        },
        ExecutionRoleArn=EXECUTION_ROLE_ARN,
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 2,
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_for_status(url, region, name, "InService")
    return name
