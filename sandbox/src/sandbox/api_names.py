"""Naming AWS APIs the way the middleware sees them: a service and an operation.

A control-plane fault names its target as ``service:Operation``. The service is the SigV4
signing name the middleware reads from the credential scope (CloudWatch signs as
``monitoring``, Service Quotas as ``servicequotas``), with the friendlier SDK names accepted
too. SageMaker Runtime signs as ``sagemaker`` like the control plane, but its calls are REST
requests without an ``X-Amz-Target`` header; it is told apart as ``sagemaker-runtime``, so a
drill on SageMaker's control plane leaves inference traffic alone unless it names the runtime.

Names are checked against botocore's service models when a fault is set: a typo in a service
or an operation would otherwise inject nothing and the drill would prove nothing.
"""

from __future__ import annotations

import difflib
import re
import threading
from dataclasses import dataclass
from functools import cache

import botocore.session
from botocore.exceptions import UnknownServiceError

from sandbox.aws_protocol import AwsRequest
from sandbox.s3_operations import KNOWN_OPERATIONS as S3_OPERATIONS
from sandbox.s3_operations import s3_operation

WILDCARD = "*"
RUNTIME = "sagemaker-runtime"
# SDK and endpoint names -> the name the middleware sees (the signing name, or the runtime).
_ALIASES = {
    "cloudwatch": "monitoring",
    "service-quotas": "servicequotas",
    "runtime.sagemaker": RUNTIME,
}
# Signing names whose botocore service model is filed under another name.
_MODEL_NAMES = {"monitoring": "cloudwatch", "servicequotas": "service-quotas"}
# SageMaker Runtime's operations by the last part of their path.
_RUNTIME_OPERATIONS = {
    "invocations": "InvokeEndpoint",
    "async-invocations": "InvokeEndpointAsync",
    "invocations-response-stream": "InvokeEndpointWithResponseStream",
}
_RUNTIME_PATH = re.compile(r"^/endpoints/[^/]+/([a-z-]+)$")
_SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
_EXAMPLES = "sagemaker, sagemaker-runtime, monitoring (or cloudwatch), s3, cloudtrail, sts"


class ApiNameError(ValueError):
    """An API name that names no service or operation; the message says what would."""


@dataclass(frozen=True)
class ApiName:
    """A service as the middleware names it, and one of its operations or ``*``."""

    service: str
    operation: str

    def __str__(self) -> str:
        return f"{self.service}:{self.operation}"


def request_api(request: AwsRequest) -> ApiName | None:
    """The API a request calls, or None for one signed for no service (the sandbox's own)."""
    if request.service is None or request.path.startswith("/moto-api/"):
        return None
    if request.service == "sagemaker" and request.protocol != "json":
        match = _RUNTIME_PATH.match(request.path)
        return ApiName(RUNTIME, _RUNTIME_OPERATIONS.get(match.group(1), "") if match else "")
    if request.service == "s3":
        operation = s3_operation(request.method, request.path, request.query, request.headers)
        return ApiName("s3", operation or "")
    return ApiName(request.service, request.operation or "")


def parse_api(text: str) -> ApiName:
    """``"cloudwatch:GetMetricData"`` as ``monitoring:GetMetricData``, or an ApiNameError.

    The operation may be spelled as botocore does (``DescribeEndpoint``), in any case, or as
    boto3's method (``describe_endpoint``); it comes back as botocore spells it.
    """
    service_text, colon, operation_text = text.strip().partition(":")
    if not colon or not service_text.strip() or not operation_text.strip():
        raise ApiNameError(
            'api must be "service:Operation" or "service:*", e.g. "sagemaker:DescribeEndpoint".'
        )
    service = canonical_service(service_text)
    operation_text = operation_text.strip()
    if operation_text == WILDCARD:
        return ApiName(service, WILDCARD)
    return ApiName(service, _operation(service, operation_text))


def canonical_service(text: str) -> str:
    """The name the middleware sees for a service named by its signing or SDK name."""
    name = text.strip().lower()
    name = _ALIASES.get(name, name)
    if not _SERVICE_NAME.match(name) or _operations(_MODEL_NAMES.get(name, name)) is None:
        raise ApiNameError(
            f"Unknown service {text.strip()!r}: name it as requests are signed, e.g. {_EXAMPLES}."
        )
    return name


def _operation(service: str, text: str) -> str:
    operations = _operations(_MODEL_NAMES.get(service, service)) or ()
    by_key = {_key(name): name for name in operations}
    operation = by_key.get(_key(text))
    if operation is None:
        runtime = {_key(name): name for name in _operations(RUNTIME) or ()}
        if service == "sagemaker" and _key(text) in runtime:
            raise ApiNameError(
                f"{runtime[_key(text)]} is SageMaker Runtime's: name it "
                f"{RUNTIME}:{runtime[_key(text)]}."
            )
        close = difflib.get_close_matches(text, operations, n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ApiNameError(f"{service} has no operation {text!r}.{hint}")
    if service == "s3" and operation not in S3_OPERATIONS:
        close = difflib.get_close_matches(operation, sorted(S3_OPERATIONS), n=3)
        hint = f" It can for {', '.join(close)}." if close else ""
        raise ApiNameError(
            f"The sandbox cannot tell s3:{operation} requests from others; fault s3:* instead."
            f"{hint}"
        )
    return operation


def _key(name: str) -> str:
    return name.replace("_", "").lower()


_models_lock = threading.Lock()


@cache
def _operations(model_name: str) -> tuple[str, ...] | None:
    """The operations of botocore's service model, or None when botocore has no such service."""
    with _models_lock:
        try:
            model = _session().get_service_model(model_name)
        except UnknownServiceError:
            return None
        return tuple(model.operation_names)


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()
