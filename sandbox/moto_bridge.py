"""The one place that reaches into moto's in-memory backends.

The sandbox runs moto in the same process, so reading a model, an endpoint config or an S3
object directly is faster and simpler than calling ourselves over HTTP. Keeping every such
access here means a moto upgrade that moves an attribute breaks one small module, and the
rest of the sandbox deals only in the AWS-shaped dicts these functions return.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import get_account_id_from
from moto.moto_api._internal.models import moto_api_backend
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends
from moto.utilities.utils import get_partition


@dataclass(frozen=True)
class S3Object:
    """The bytes of an S3 object and its ETag, which keys the sandbox's artifact cache."""

    data: bytes
    etag: str


def account_for(access_key: str | None, account_header: str | None) -> str:
    """Resolve the caller's account with moto's own precedence, so both agree on ownership."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if account_header:
        return account_header
    if access_key:
        return get_account_id_from(access_key)
    return DEFAULT_ACCOUNT_ID


def reset_moto() -> None:
    """Clear every moto backend, exactly what ``POST /moto-api/reset`` does."""
    moto_api_backend.reset()


def _sagemaker(account_id: str, region: str) -> SageMakerModelBackend:
    return sagemaker_backends[account_id][region]


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return None


def model_description(account_id: str, region: str, name: str) -> dict[str, Any] | None:
    """DescribeModel's fields for a model, or None when the model does not exist."""
    model = _sagemaker(account_id, region)._models.get(name)
    return copy.deepcopy(model.response_object) if model is not None else None


def endpoint_config_description(account_id: str, region: str, name: str) -> dict[str, Any] | None:
    """DescribeEndpointConfig's fields for a config, or None when it does not exist."""
    config = _sagemaker(account_id, region).endpoint_configs.get(name)
    return copy.deepcopy(config.response_object) if config is not None else None


@dataclass(frozen=True)
class ResourceSummary:
    """Name, ARN and creation time: all that SageMaker's List* operations sort and page on."""

    name: str
    arn: str
    creation_time: float


def model_summaries(account_id: str, region: str) -> list[ResourceSummary]:
    """Every model in a region, for the sandbox's own ListModels pagination."""
    summaries = []
    for name, model in list(_sagemaker(account_id, region)._models.items()):
        created = _epoch(getattr(model, "creation_time", None)) or 0.0
        summaries.append(ResourceSummary(name=name, arn=model.arn, creation_time=created))
    return summaries


def endpoint_config_summaries(account_id: str, region: str) -> list[ResourceSummary]:
    """Every endpoint config in a region, for the sandbox's own ListEndpointConfigs."""
    summaries = []
    for name, config in list(_sagemaker(account_id, region).endpoint_configs.items()):
        created = _epoch(getattr(config, "creation_time", None)) or 0.0
        summaries.append(
            ResourceSummary(name=name, arn=config.endpoint_config_arn, creation_time=created)
        )
    return summaries


def read_s3_object(account_id: str, region: str, bucket: str, key: str) -> S3Object | None:
    """An object's bytes, or None for a missing bucket or key (as a container download sees)."""
    backend = s3_backends[account_id][get_partition(region)]
    try:
        found = backend.get_object(bucket, key)
    except MissingBucket:
        return None
    if found is None:
        return None
    return S3Object(data=bytes(found.value), etag=str(found.etag))


def add_endpoint_shadow(
    account_id: str,
    region: str,
    endpoint_name: str,
    endpoint_config_name: str,
    tags: list[dict[str, str]],
) -> None:
    """Register the endpoint with moto too, so moto's AddTags/ListTags/Search find it."""
    _sagemaker(account_id, region).create_endpoint(
        endpoint_name=endpoint_name, endpoint_config_name=endpoint_config_name, tags=tags
    )


def remove_endpoint_shadow(account_id: str, region: str, endpoint_name: str) -> None:
    _sagemaker(account_id, region).endpoints.pop(endpoint_name, None)
