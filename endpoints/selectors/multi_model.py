"""Multi-model endpoints as the inventory knows them.

A variant whose model's container has ``Mode: MultiModel`` serves every artifact under its
ModelDataUrl, an S3 prefix; each request picks one with TargetModel. DescribeEndpoint and
DescribeEndpointConfig do not say so, so the sync reads each variant's model once
(DescribeModel; a model never changes) and keeps what it found beside the endpoint's last
DescribeEndpoint answer, under MODEL_CONTAINERS_KEY: ``{model name: {"image", "mode",
"model_data_url"}}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from endpoints.models import Endpoint

MODEL_CONTAINERS_KEY = "OpsPortalModelContainers"
MULTI_MODEL = "MultiModel"


@dataclass(frozen=True)
class MultiModelVariant:
    """A production variant that serves the models under an S3 prefix."""

    name: str
    model_name: str
    prefix_url: str


def model_containers(endpoint: Endpoint) -> dict[str, dict[str, Any]]:
    """What the sync learnt of each of the endpoint's models (by model name)."""
    found = (endpoint.describe_raw or {}).get(MODEL_CONTAINERS_KEY)
    return dict(found) if isinstance(found, dict) else {}


def multi_model_variants(endpoint: Endpoint) -> list[MultiModelVariant]:
    """The endpoint's production variants whose model is a multi-model container, in order."""
    containers = model_containers(endpoint)
    found = []
    for variant in endpoint.variants.all():
        container = containers.get(variant.model_name) or {}
        if variant.is_shadow or container.get("mode") != MULTI_MODEL:
            continue
        found.append(
            MultiModelVariant(
                name=variant.name,
                model_name=variant.model_name,
                prefix_url=str(container.get("model_data_url", "")),
            )
        )
    return found


def describe_raw_as_read(endpoint: Endpoint) -> dict[str, Any]:
    """The last DescribeEndpoint answer as AWS gave it, without what the sync kept beside it."""
    return {k: v for k, v in (endpoint.describe_raw or {}).items() if k != MODEL_CONTAINERS_KEY}
