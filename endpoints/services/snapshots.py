"""Endpoint state history: one snapshot each time the sync sees an endpoint's state change.

On call, the first question is "what changed before this started", and the live Endpoint
and Variant rows only know the present. The sync's write path calls `snapshot_record`
right after it upserts an endpoint and its variants; the state is reduced to what matters
for triage (status, config, per-variant weights, capacity, model and image) and
fingerprinted, so a sync that sees the same state writes nothing. Only endpoints the sync
described reach this code, so a steady-state sync adds no queries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from endpoints.models import Endpoint, EndpointSnapshot, Variant


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


def _int(value: int | None) -> int | None:
    return None if value is None else int(value)


def variant_state(*, variant: Variant) -> dict[str, Any]:
    """One variant's triage-relevant state as JSON-safe values.

    Numbers are normalised (weights to float, counts to int) so a value read back from
    the database fingerprints the same as the one the sync has just written.
    """
    return {
        "position": int(variant.position),
        "weight": float(variant.weight),
        "desired_weight": _float(variant.desired_weight),
        "current_instance_count": _int(variant.current_instance_count),
        "desired_instance_count": _int(variant.desired_instance_count),
        "instance_type": variant.instance_type or "",
        "model_name": variant.model_name or "",
        "image": variant.image or "",
        "serverless": variant.serverless or None,
        "is_shadow": bool(variant.is_shadow),
    }


def endpoint_state(*, endpoint: Endpoint, variants: Sequence[Variant]) -> dict[str, Any]:
    """The state a snapshot keeps: status, config name and variants by name."""
    return {
        "status": endpoint.status,
        "config_name": endpoint.config_name or "",
        "variants": {v.name: variant_state(variant=v) for v in variants},
    }


def state_fingerprint(*, state: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a state; equal states give equal fingerprints."""
    canonical = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def snapshot_record(
    *, endpoint: Endpoint, variants: Sequence[Variant] | None = None
) -> EndpointSnapshot | None:
    """Write a snapshot if the endpoint's state differs from its latest one.

    Called inside the sync's transaction, after the endpoint row (locked) and its variants
    were saved; `variants` are those rows when the caller has them, which saves a query.
    Returns the new snapshot, or None when nothing changed.
    """
    if variants is None:
        variants = list(endpoint.variants.order_by("is_shadow", "position"))
    state = endpoint_state(endpoint=endpoint, variants=variants)
    fingerprint = state_fingerprint(state=state)
    latest = (
        EndpointSnapshot.objects.filter(endpoint=endpoint)
        .order_by("-observed_at", "-id")
        .values_list("fingerprint", flat=True)
        .first()
    )
    if latest == fingerprint:
        return None
    return EndpointSnapshot.objects.create(
        endpoint=endpoint,
        observed_at=endpoint.synced_at or timezone.now(),
        last_modified_time=endpoint.last_modified_time,
        status=state["status"],
        config_name=state["config_name"],
        variants=state["variants"],
        fingerprint=fingerprint,
    )
