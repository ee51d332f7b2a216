"""Inventory writes: sync endpoints and variants from AWS into the database.

The sync is incremental: ListEndpoints (100 per page) tells each endpoint's status and
LastModifiedTime; only endpoints that are new, changed or back from deletion are
described. A steady-state sync of N endpoints therefore costs ceil(N/100) calls.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.aws import autoscaling as aws_autoscaling
from core.aws import sagemaker as aws_sagemaker
from core.aws.errors import AccessDenied, AwsError, NotFound, ValidationFailed
from core.aws.types import (
    EndpointConfigDescription,
    EndpointDescription,
    EndpointSummary,
    VariantScaling,
)
from core.models import SyncKind
from core.sync_status import sync_failed, sync_succeeded
from core.targets import Target, target_by_name, target_regions
from endpoints.models import Endpoint, Variant
from endpoints.selectors.multi_model import MODEL_CONTAINERS_KEY, model_containers
from endpoints.services.model_containers import model_containers_read
from endpoints.services.snapshots import snapshot_record

logger = logging.getLogger(__name__)

STATUS_HISTORY_LIMIT = 20


@dataclass
class SyncReport:
    """What one sync of one target-region did, for the command line, tasks and tests."""

    target: str
    region: str
    listed: int = 0
    described: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def summary(self) -> str:
        if self.error:
            return f"{self.target}/{self.region}: FAILED {self.error}"
        return (
            f"{self.target}/{self.region}: {self.listed} listed, {self.described} described, "
            f"{len(self.created)} new, {len(self.updated)} changed, {len(self.deleted)} deleted"
        )


def _needs_describe(summary: EndpointSummary, known: Endpoint | None) -> bool:
    if known is None or known.deleted_at is not None:
        return True
    return known.last_modified_time != summary.last_modified_time or known.status != summary.status


def inventory_sync(*, target: Target, region: str) -> SyncReport:
    """Bring one target-region's endpoints in line with AWS.

    A failure is recorded on the region's SyncStatus (pages then show stale data with a
    banner) and returned in the report, never raised: one unreachable region must not stop
    the others.
    """
    report = SyncReport(target=target.name, region=region)
    started = timezone.now()
    try:
        summaries = list(aws_sagemaker.list_endpoints(target=target, region=region))
        report.listed = len(summaries)
        known = {
            e.name: e
            for e in Endpoint.objects.filter(account_id=target.account_id, region=region).only(
                "id", "name", "status", "last_modified_time", "deleted_at"
            )
        }
        described: set[str] = set()
        for summary in summaries:
            existing = known.get(summary.name)
            if not _needs_describe(summary, existing):
                continue
            described.add(summary.name)
            outcome = _describe_and_store(target=target, region=region, name=summary.name)
            report.described += 1
            if outcome == "created":
                report.created.append(summary.name)
            elif outcome == "updated":
                report.updated.append(summary.name)
            elif outcome == "deleted":
                report.deleted.append(summary.name)
        listed_names = {s.name for s in summaries}
        for name, endpoint in known.items():
            if name not in listed_names and endpoint.deleted_at is None:
                _mark_deleted(endpoint_id=endpoint.id, at=started)
                report.deleted.append(name)
        report.updated += _refresh_changed_components(target=target, region=region, skip=described)
    except AwsError as exc:
        report.error = str(exc)
        sync_failed(kind=SyncKind.INVENTORY, target=target, region=region, error=exc, at=started)
        logger.warning("inventory sync %s/%s failed: %s", target.name, region, exc)
    else:
        sync_succeeded(
            kind=SyncKind.INVENTORY,
            target=target,
            region=region,
            at=started,
            detail={"endpoints": report.listed, "described": report.described},
        )
    if report.created or report.updated or report.deleted:
        audit_record(
            actor=None,
            action="inventory.sync",
            target=f"{target.name}/{target.account_id}/{region}",
            after={
                "created": report.created,
                "updated": report.updated,
                "deleted": report.deleted,
            },
        )
    return report


def inventory_sync_configured() -> list[SyncReport]:
    """Sync every configured target-region in turn (the management command's job)."""
    return [inventory_sync(target=target, region=region) for target, region in target_regions()]


def endpoint_refresh(*, endpoint_id: int) -> str:
    """Describe one endpoint now, whatever its LastModifiedTime says (the refresh button)."""
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        return "gone: no such endpoint in the inventory"
    target = target_by_name(endpoint.target)
    try:
        outcome = _describe_and_store(target=target, region=endpoint.region, name=endpoint.name)
    except AwsError as exc:
        sync_failed(kind=SyncKind.INVENTORY, target=target, region=endpoint.region, error=exc)
        return f"failed: {exc}"
    return outcome


def _describe_and_store(*, target: Target, region: str, name: str) -> str:
    """Describe one endpoint (and its config and scaling) and upsert it.

    Returns "created", "updated", "unchanged" or "deleted" (gone between list and describe).
    """
    try:
        described = aws_sagemaker.describe_endpoint(target=target, region=region, name=name)
    except NotFound:
        endpoint = Endpoint.objects.filter(
            account_id=target.account_id, region=region, name=name
        ).first()
        if endpoint is not None and endpoint.deleted_at is None:
            _mark_deleted(endpoint_id=endpoint.id, at=timezone.now())
        return "deleted"
    config: EndpointConfigDescription | None = None
    if described.config_name:
        try:
            config = aws_sagemaker.describe_endpoint_config(
                target=target, region=region, name=described.config_name
            )
        except NotFound:
            config = None  # AWS allows deleting a config an endpoint still uses.
    variant_names = [v.name for v in described.variants if not v.is_shadow] or (
        [v.name for v in config.variants if not v.is_shadow] if config else []
    )
    try:
        scaling: list[VariantScaling] | str = aws_autoscaling.describe_variant_scaling(
            target=target, region=region, endpoint_name=name, variant_names=variant_names
        )
    except (AccessDenied, ValidationFailed) as exc:
        # A role without Application Auto Scaling read access still gets its inventory.
        scaling = str(exc)
    try:
        tags: dict[str, str] | None = aws_sagemaker.list_tags(
            target=target, region=region, arn=described.arn
        )
    except (AccessDenied, ValidationFailed, NotFound):
        tags = None  # without sagemaker:ListTags the tags stay as last read
    hosts_components = config is not None and not any(
        v.model_name for v in config.variants if not v.is_shadow
    )
    components = _components(target=target, region=region, name=name) if hosts_components else []
    stored = Endpoint.objects.filter(account_id=target.account_id, region=region, name=name).first()
    containers = model_containers_read(
        target=target,
        region=region,
        config=config,
        known=model_containers(stored) if stored is not None else {},
    )
    return _store(
        target=target,
        region=region,
        # Kept beside DescribeEndpoint's answer (endpoints/selectors/multi_model.py).
        described=replace(described, raw={**described.raw, MODEL_CONTAINERS_KEY: containers}),
        config=config,
        scaling=scaling,
        tags=tags,
        components=components,
    )


def _components(*, target: Target, region: str, name: str) -> list[dict[str, Any]] | None:
    """The components an endpoint built for them hosts (its variants name no model), as
    stored for the endpoint page, each with its copy-count auto scaling (None: not
    registered, or not readable); None when they could not be read (kept as last read)."""
    try:
        found = aws_sagemaker.list_inference_components(
            target=target, region=region, endpoint_name=name
        )
    except (AccessDenied, ValidationFailed):
        return None
    scaling = _component_scaling(target=target, region=region, names=[c.name for c in found])
    return [
        {
            "name": c.name,
            "variant": c.variant_name,
            "model": c.model_name,
            "status": c.status,
            "current_copies": c.current_copies,
            "desired_copies": c.desired_copies,
            "cpu_cores": c.cpu_cores,
            "accelerators": c.accelerators,
            "memory_mb": c.memory_mb,
            "failure_reason": c.failure_reason,
            "last_modified": _iso(c.last_modified_time),
            "scaling": scaling.get(c.name),
        }
        for c in found
    ]


def _component_scaling(
    *, target: Target, region: str, names: list[str]
) -> dict[str, dict[str, Any]]:
    """Each registered component's copy-count bounds and policies, by component name. A
    role without Application Auto Scaling read access still gets its components."""
    try:
        found = aws_autoscaling.describe_component_scaling(
            target=target, region=region, component_names=names
        )
    except (AccessDenied, ValidationFailed):
        return {}
    return {s.component_name: aws_autoscaling.component_scaling_state(s) for s in found}


def _component_hosts(*, target: Target, region: str) -> list[Endpoint]:
    """The region's live endpoints built for inference components (their production
    variants name no model), or that the inventory last saw hosting some."""
    endpoints = Endpoint.objects.filter(
        account_id=target.account_id, region=region, deleted_at__isnull=True
    ).only("id", "name", "config_raw", "inference_components")
    hosts = []
    for endpoint in endpoints:
        variants = (endpoint.config_raw or {}).get("ProductionVariants") or []
        if endpoint.inference_components or (
            variants and not any(v.get("ModelName") for v in variants)
        ):
            hosts.append(endpoint)
    return hosts


def _refresh_changed_components(*, target: Target, region: str, skip: set[str]) -> list[str]:
    """Re-read the components of endpoints whose components changed while the endpoint
    did not: creating, scaling or deleting a component leaves the endpoint's
    LastModifiedTime alone, so the incremental sync would never see it. One
    ListInferenceComponents for the region (only when it has component endpoints) tells
    which changed; only those are described. Returns the endpoints updated."""
    hosts = [h for h in _component_hosts(target=target, region=region) if h.name not in skip]
    if not hosts:
        return []
    try:
        summaries = aws_sagemaker.inference_component_summaries(target=target, region=region)
    except (AccessDenied, ValidationFailed):
        return []  # a role without ListInferenceComponents: components stay as last read
    listed: dict[str, set[tuple[str, str, str | None]]] = {}
    for s in summaries:
        listed.setdefault(s.endpoint_name, set()).add(
            (s.name, s.status, _iso(s.last_modified_time))
        )
    updated = []
    for host in hosts:
        stored = {
            (c.get("name"), c.get("status"), c.get("last_modified"))
            for c in host.inference_components or []
        }
        if listed.get(host.name, set()) == stored:
            continue
        components = _components(target=target, region=region, name=host.name)
        if components is None:
            continue
        Endpoint.objects.filter(pk=host.pk).update(inference_components=components)
        updated.append(host.name)
    return updated


def _serverless_json(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "memory_size_mb": value.memory_size_mb,
        "max_concurrency": value.max_concurrency,
        "provisioned_concurrency": value.provisioned_concurrency,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@transaction.atomic
def _store(
    *,
    target: Target,
    region: str,
    described: EndpointDescription,
    config: EndpointConfigDescription | None,
    scaling: list[VariantScaling] | str,
    tags: dict[str, str] | None,
    components: list[dict[str, Any]] | None = None,
) -> str:
    now = timezone.now()
    endpoint = (
        Endpoint.objects.select_for_update()
        .filter(account_id=target.account_id, region=region, name=described.name)
        .first()
    )
    created = endpoint is None
    if endpoint is None:
        endpoint = Endpoint(
            account_id=target.account_id,
            region=region,
            name=described.name,
            status_changed_at=described.last_modified_time,
        )
    elif endpoint.status != described.status:
        endpoint.status_changed_at = now
    before = (
        None if created else (endpoint.status, endpoint.last_modified_time, endpoint.deleted_at)
    )
    endpoint.target = target.name
    endpoint.arn = described.arn
    endpoint.status = described.status
    endpoint.failure_reason = described.failure_reason
    endpoint.config_name = described.config_name
    endpoint.creation_time = described.creation_time
    endpoint.last_modified_time = described.last_modified_time
    endpoint.data_capture = (
        {
            "enabled": described.data_capture.enabled,
            "status": described.data_capture.status,
            "sampling_percentage": described.data_capture.sampling_percentage,
            "destination_s3_uri": described.data_capture.destination_s3_uri,
        }
        if described.data_capture
        else None
    )
    endpoint.describe_raw = described.raw
    endpoint.config_raw = config.raw if config else {}
    endpoint.autoscaling = (
        [{"error": scaling}] if isinstance(scaling, str) else aws_autoscaling.scaling_state(scaling)
    )
    if tags is not None:
        endpoint.tags = tags
    if components is not None:
        endpoint.inference_components = components
    endpoint.synced_at = now
    endpoint.deleted_at = None
    endpoint.save()
    variants = _store_variants(endpoint=endpoint, described=described, config=config, now=now)
    snapshot_record(endpoint=endpoint, variants=variants)
    if created:
        return "created"
    after = (endpoint.status, endpoint.last_modified_time, endpoint.deleted_at)
    return "updated" if after != before else "unchanged"


def _store_variants(
    *,
    endpoint: Endpoint,
    described: EndpointDescription,
    config: EndpointConfigDescription | None,
    now: datetime,
) -> list[Variant]:
    """Merge the config's variants (model, instance type) with the live ones (weights);
    returns the stored variants in display order."""
    live = {v.name: v for v in described.variants}
    declared = {v.name: v for v in config.variants} if config else {}
    order = list(declared) + [name for name in live if name not in declared]
    existing = {v.name: v for v in endpoint.variants.all()}
    stored: list[Variant] = []
    for position, name in enumerate(order):
        state = live.get(name)
        decl = declared.get(name)
        variant = existing.pop(name, None) or Variant(endpoint=endpoint, name=name)
        variant.position = position
        variant.is_shadow = (state.is_shadow if state else False) or (
            decl.is_shadow if decl else False
        )
        variant.model_name = decl.model_name if decl else variant.model_name
        variant.instance_type = decl.instance_type if decl else variant.instance_type
        variant.initial_weight = decl.initial_weight if decl else variant.initial_weight
        variant.serverless = _serverless_json(
            (state.current_serverless or state.desired_serverless) if state else None
        ) or _serverless_json(decl.serverless if decl else None)
        if state is not None:
            variant.image = state.images[0] if state.images else variant.image
            variant.current_weight = state.current_weight
            variant.desired_weight = state.desired_weight
            variant.current_instance_count = state.current_instance_count
            variant.desired_instance_count = state.desired_instance_count
            statuses = [
                {"status": s.status, "message": s.message, "start_time": _iso(s.start_time)}
                for s in state.statuses
            ]
        else:
            variant.current_weight = variant.desired_weight = None
            variant.current_instance_count = variant.desired_instance_count = None
            statuses = []
        if statuses != variant.statuses or not variant.status_history:
            history = list(variant.status_history or [])
            history.append(
                {
                    "seen_at": now.isoformat(),
                    "endpoint_status": endpoint.status,
                    "statuses": statuses,
                }
            )
            variant.status_history = history[-STATUS_HISTORY_LIMIT:]
        variant.statuses = statuses
        variant.save()
        stored.append(variant)
    for gone in existing.values():
        gone.delete()
    return sorted(stored, key=lambda v: (v.is_shadow, v.position))


def _mark_deleted(*, endpoint_id: int, at: datetime) -> None:
    Endpoint.objects.filter(pk=endpoint_id, deleted_at__isnull=True).update(deleted_at=at)
