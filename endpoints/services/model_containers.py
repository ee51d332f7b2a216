"""The sync's read of each variant's model container: which variants are multi-model.

Called for an endpoint being described (new or changed). A model cannot be changed in
SageMaker, only replaced by another name, so a model already read is not read again: a
re-described endpoint costs a DescribeModel only for a model it did not use before.
"""

from __future__ import annotations

from typing import Any

from core.aws import sagemaker as aws_sagemaker
from core.aws.errors import AccessDenied, NotFound, ValidationFailed
from core.aws.types import EndpointConfigDescription
from core.targets import Target


def model_containers_read(
    *,
    target: Target,
    region: str,
    config: EndpointConfigDescription | None,
    known: dict[str, dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Each production variant's model container (by model name): from `known` when read
    before, else one DescribeModel. A model that is gone or may not be read is left out;
    its variants then show as single-model, as the portal knew them before."""
    if config is None:
        return {}
    containers: dict[str, dict[str, Any]] = {}
    for variant in config.variants:
        name = variant.model_name
        if not name or variant.is_shadow or name in containers:
            continue
        if name in known:
            containers[name] = known[name]
            continue
        try:
            found = aws_sagemaker.describe_model_container(target=target, region=region, name=name)
        except (AccessDenied, NotFound, ValidationFailed):
            continue
        containers[name] = {
            "image": found.image,
            "mode": found.mode,
            "model_data_url": found.model_data_url,
        }
    return containers
