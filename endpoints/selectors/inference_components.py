"""Endpoints built for inference components, as the inventory knows them.

Such an endpoint's production variants name no model: they only provide instances, and
each model runs as an inference component with its own copies, compute and (optionally)
copy-count auto scaling. The sync stores the components in `Endpoint.inference_components`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from endpoints.models import Endpoint


def hosts_components(endpoint: Endpoint) -> bool:
    """Whether the endpoint's production variants name no model (so requests, errors and
    latency are counted per component, not per variant), or the inventory last saw it
    hosting components."""
    if endpoint.inference_components:
        return True
    declared = (endpoint.config_raw or {}).get("ProductionVariants") or []
    variants = [v for v in declared if isinstance(v, dict)]
    return bool(variants) and not any(v.get("ModelName") for v in variants)
