"""What a SageMaker write call asked for, in the words the timeline and the board share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.text import count

if TYPE_CHECKING:
    from apihistory.models import TrailEvent


def request_parameters(event: TrailEvent) -> dict[str, Any]:
    params = (event.record or {}).get("requestParameters")
    return params if isinstance(params, dict) else {}


def requested_weights(event: TrailEvent) -> list[str]:
    """Per variant of an UpdateEndpointWeightsAndCapacities: "A: weight 90.0, 2 instances"."""
    parts = []
    for item in request_parameters(event).get("desiredWeightsAndCapacities") or []:
        if isinstance(item, dict):
            text = f"{item.get('variantName')}: weight {item.get('desiredWeight')}"
            if item.get("desiredInstanceCount") is not None:
                instances = item.get("desiredInstanceCount")
                text += (
                    f", {count(instances, 'instance') if isinstance(instances, int) else instances}"
                )
            parts.append(text)
    return parts


def requested_models(event: TrailEvent) -> list[str]:
    """Per variant of a CreateEndpointConfig: "B → model tumor-model-v3"."""
    return [
        f"{v.get('variantName')} → model {v.get('modelName')}"
        for v in request_parameters(event).get("productionVariants") or []
        if isinstance(v, dict) and v.get("modelName")
    ]
