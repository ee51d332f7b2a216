"""Inventory reads for pages. Query counts stay constant whatever the number of endpoints:
lists prefetch variants in one query and compute traffic shares in Python."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from core.aws.types import BAD_STATUSES, TRANSITIONAL_STATUSES, EndpointStatus
from core.models import SyncKind, SyncStatus
from core.sync_status import sync_statuses
from endpoints.models import (
    Endpoint,
    Variant,
    effective_weight,
    variant_state_label,
)

PAGE_SIZE = 50

SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name", "region", "account_id"),
    "-name": ("-name", "-region", "-account_id"),
    "status": ("status", "name", "id"),
    "-status": ("-status", "name", "id"),
    "region": ("region", "name", "id"),
    "-region": ("-region", "name", "id"),
    "modified": ("last_modified_time", "id"),
    "-modified": ("-last_modified_time", "-id"),
}
PROBLEM_KINDS = ("failed", "stuck", "idle")


@dataclass(frozen=True)
class VariantShare:
    """A variant with its share of the endpoint's traffic, for display."""

    variant: Variant
    share: float | None  # percent, None for shadow variants


def variant_shares(variants: list[Variant]) -> list[VariantShare]:
    """Traffic share = weight / sum of production weights (AWS's routing rule)."""
    production = [v for v in variants if not v.is_shadow]
    total = sum(v.weight for v in production)
    return [
        VariantShare(
            variant=v,
            share=None if v.is_shadow else (100.0 * v.weight / total if total > 0 else 0.0),
        )
        for v in variants
    ]


def _with_variants(queryset: QuerySet[Endpoint]) -> QuerySet[Endpoint]:
    return queryset.prefetch_related(
        Prefetch("variants", queryset=Variant.objects.order_by("is_shadow", "position"))
    )


def endpoint_filter(
    *,
    account: str = "",
    region: str = "",
    status: str = "",
    name: str = "",
    include_deleted: bool = False,
) -> QuerySet[Endpoint]:
    queryset = Endpoint.objects.all()
    if not include_deleted:
        queryset = queryset.filter(deleted_at__isnull=True)
    if account:
        queryset = queryset.filter(account_id=account)
    if region:
        queryset = queryset.filter(region=region)
    if status:
        queryset = queryset.filter(status=status)
    if name:
        queryset = queryset.filter(name__icontains=name)
    return queryset


# The list reads plain values, not model instances: building 200 models and decoding
# their JSON per page cost more than the queries themselves.
_ROW_FIELDS = ("id", "name", "target", "account_id", "region", "status", "deleted_at", "synced_at")
_VARIANT_FIELDS = (
    "endpoint_id",
    "name",
    "is_shadow",
    "instance_type",
    "serverless",
    "statuses",
    "current_weight",
    "desired_weight",
    "initial_weight",
    "current_instance_count",
    "desired_instance_count",
)


def endpoint_page(
    *,
    account: str = "",
    region: str = "",
    status: str = "",
    name: str = "",
    include_deleted: bool = False,
    sort: str = "name",
    page: int = 1,
) -> Page:
    """One page of endpoint rows as dicts (2 queries: count and page)."""
    queryset = (
        endpoint_filter(
            account=account,
            region=region,
            status=status,
            name=name,
            include_deleted=include_deleted,
        )
        .order_by(*SORTS.get(sort, SORTS["name"]))
        .values(*_ROW_FIELDS)
    )
    return Paginator(queryset, PAGE_SIZE).get_page(page)


@dataclass(frozen=True)
class VariantCell:
    name: str
    share: float | None
    summary: str  # "80.0% · ml.m5.large × 2 · Ready", built once here, not in the template


@dataclass(frozen=True)
class EndpointRow:
    """One row of the endpoint list with its text prepared: the page renders 50 of these
    with their variants, and Django's template engine is the slow part of it."""

    pk: int
    name: str
    url: str
    account_id: str
    region: str
    status: str
    deleted: bool
    variants: list[VariantCell]
    bar: list[str]  # share percentages for the traffic bar
    synced_at: datetime | None


def _variant_cells(variants: list[dict[str, Any]], endpoint_status: str) -> list[VariantCell]:
    weights = [
        effective_weight(v["current_weight"], v["desired_weight"], v["initial_weight"])
        for v in variants
    ]
    total = sum(w for v, w in zip(variants, weights, strict=True) if not v["is_shadow"])
    cells = []
    for variant, weight in zip(variants, weights, strict=True):
        share = None if variant["is_shadow"] else (100.0 * weight / total if total > 0 else 0.0)
        if variant["serverless"]:
            compute = f"serverless {variant['serverless'].get('memory_size_mb')} MB"
        else:
            count = variant["current_instance_count"]
            if count is None:
                count = variant["desired_instance_count"]
            compute = f"{variant['instance_type'] or '?'} × {'–' if count is None else count}"
        label = variant_state_label(variant["statuses"], endpoint_status)
        cells.append(
            VariantCell(
                name=variant["name"],
                share=share,
                summary=f"{'shadow' if share is None else f'{share:.1f}%'} · {compute} · {label}",
            )
        )
    return cells


def endpoint_rows(page: Page, *, states: list[SyncStatus]) -> list[EndpointRow]:
    """Rows for the list: each endpoint, its variants with shares (one query), and when its
    region was last confirmed by a sync (an unchanged endpoint is as fresh as that)."""
    confirmed = {(s.target, s.region): s.last_success_at for s in states}
    endpoints = list(page.object_list)
    variants: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for variant in (
        Variant.objects.filter(endpoint_id__in=[e["id"] for e in endpoints])
        .order_by("endpoint_id", "is_shadow", "position")
        .values(*_VARIANT_FIELDS)
    ):
        variants[variant["endpoint_id"]].append(variant)
    # One reverse() per page instead of one per row.
    url_prefix = reverse("endpoints:detail", kwargs={"pk": 0}).removesuffix("0/")
    rows = []
    for endpoint in endpoints:
        cells = _variant_cells(variants[endpoint["id"]], endpoint["status"])
        region_synced = confirmed.get((endpoint["target"], endpoint["region"]))
        rows.append(
            EndpointRow(
                pk=endpoint["id"],
                name=endpoint["name"],
                url=f"{url_prefix}{endpoint['id']}/",
                account_id=endpoint["account_id"],
                region=endpoint["region"],
                status=endpoint["status"],
                deleted=endpoint["deleted_at"] is not None,
                variants=cells,
                bar=[f"{c.share:.2f}" for c in cells if c.share],
                synced_at=max(filter(None, [region_synced, endpoint["synced_at"]]), default=None),
            )
        )
    return rows


def endpoint_detail(*, pk: int) -> Endpoint | None:
    return _with_variants(Endpoint.objects.filter(pk=pk)).first()


def endpoints_with_variants(*, pks: list[int]) -> list[Endpoint]:
    """The live endpoints among `pks`, with their variants (two queries), in pk order: what
    a column filled for a page of the list needs."""
    live = Endpoint.objects.filter(pk__in=pks, deleted_at__isnull=True).order_by("pk")
    return list(_with_variants(live))


def production_weights(*, endpoint_id: int) -> dict[str, float]:
    """Weight per production variant as the inventory last saw it, in the endpoint's order."""
    variants = Variant.objects.filter(endpoint_id=endpoint_id, is_shadow=False).order_by("position")
    return {v.name: v.weight for v in variants}


def production_capacities(*, endpoint_id: int) -> dict[str, dict[str, Any]]:
    """Per production variant, the capacity the inventory last saw: the instance count the
    endpoint is asked to run, or the serverless concurrency (what a capacity change binds to)."""
    variants = Variant.objects.filter(endpoint_id=endpoint_id, is_shadow=False).order_by("position")
    return {v.name: variant_capacity(v) for v in variants}


def variant_capacity(variant: Variant) -> dict[str, Any]:
    """One variant's capacity as plain JSON: {"instances": n, "instance_type": t} or
    {"max_concurrency": m, "provisioned_concurrency": p, "memory_mb": mb}."""
    if variant.serverless:
        return {
            "max_concurrency": variant.serverless.get("max_concurrency"),
            "provisioned_concurrency": variant.serverless.get("provisioned_concurrency"),
            "memory_mb": variant.serverless.get("memory_size_mb"),
        }
    count = variant.desired_instance_count
    if count is None:
        count = variant.current_instance_count
    return {"instances": count, "instance_type": variant.instance_type}


def instances_in_use(*, target: str, region: str, instance_type: str) -> int:
    """Instances of one type that the region's endpoints run, as the inventory last saw them
    (what counts against the "<type> for endpoint usage" quota)."""
    variants = Variant.objects.filter(
        endpoint__target=target,
        endpoint__region=region,
        endpoint__deleted_at__isnull=True,
        instance_type=instance_type,
        serverless__isnull=True,
    )
    return sum(v.instance_count or 0 for v in variants)


def endpoint_or_404(pk: int) -> Endpoint:
    """The endpoint with its variants, or the 404 page every endpoint tab shows."""
    endpoint = endpoint_detail(pk=pk)
    if endpoint is None:
        raise Http404("No such endpoint in the inventory.")
    return endpoint


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """Accounts and regions from the configuration (no query), statuses from AWS's list."""
    accounts = [(t.account_id, f"{t.name} ({t.account_id})") for t in settings.OPSPORTAL_TARGETS]
    regions = sorted({r for t in settings.OPSPORTAL_TARGETS for r in t.regions})
    return {
        "accounts": accounts,
        "regions": [(r, r) for r in regions],
        "statuses": [(s.value, s.value) for s in EndpointStatus],
    }


def status_counts() -> list[dict[str, Any]]:
    """Live endpoint counts per account, region and status (one grouped query)."""
    rows = (
        Endpoint.objects.filter(deleted_at__isnull=True)
        .values("target", "account_id", "region", "status")
        .annotate(n=Count("id"))
        .order_by("target", "region", "status")
    )
    grouped: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["target"], row["account_id"], row["region"])
        entry = grouped.setdefault(
            key,
            {
                "target": row["target"],
                "account_id": row["account_id"],
                "region": row["region"],
                "total": 0,
                "statuses": {},
            },
        )
        entry["statuses"][row["status"]] = row["n"]
        entry["total"] += row["n"]
    return list(grouped.values())


@dataclass(frozen=True)
class Problem:
    """Why an endpoint needs a person: `kind` is "failed" (a bad status), "stuck" (changing
    for too long) or "idle" (paying for a variant that gets no traffic)."""

    endpoint: Endpoint
    kind: str
    reason: str
    since: datetime


def endpoint_problems(
    *, limit: int | None = 50, kinds: tuple[str, ...] = PROBLEM_KINDS
) -> list[Problem]:
    """Live endpoints that need a person, one query: the overview lists every kind, the
    incident board the failed and stuck ones (an idle variant costs money, not customers)."""
    now = timezone.now()
    stuck_before = now - timedelta(seconds=settings.OPSPORTAL_STUCK_AFTER_SECONDS)
    conditions = Q()
    if "failed" in kinds:
        conditions |= Q(status__in=BAD_STATUSES)
    if "stuck" in kinds:
        conditions |= Q(status__in=TRANSITIONAL_STATUSES, status_changed_at__lt=stuck_before)
    candidates = Endpoint.objects.filter(deleted_at__isnull=True)
    if "idle" in kinds:
        idle_variant = Variant.objects.filter(
            endpoint=OuterRef("pk"),
            is_shadow=False,
            current_weight=0,
            current_instance_count__gt=0,
        )
        candidates = candidates.annotate(has_idle_variant=Exists(idle_variant))
        conditions |= Q(has_idle_variant=True)
    if not conditions:
        return []
    found: list[Problem] = []
    for endpoint in candidates.filter(conditions).order_by("name")[:limit]:
        if endpoint.status in BAD_STATUSES:
            reason = endpoint.failure_reason or f"Endpoint is {endpoint.status}."
            found.append(Problem(endpoint, "failed", reason, endpoint.status_changed_at))
        elif endpoint.status in TRANSITIONAL_STATUSES and endpoint.status_changed_at < stuck_before:
            minutes = int((now - endpoint.status_changed_at).total_seconds() // 60)
            reason = f"{endpoint.status} for {minutes} min."
            found.append(Problem(endpoint, "stuck", reason, endpoint.status_changed_at))
        else:
            reason = "A variant has weight 0 but instances running (paying for idle capacity)."
            found.append(Problem(endpoint, "idle", reason, endpoint.synced_at))
    return found


def live_endpoints_by_key(
    keys: set[tuple[str, str, str]],
) -> dict[tuple[str, str, str], Endpoint]:
    """Live endpoints by (account, region, name), for rows of other apps that name an
    endpoint the way AWS does (alarms, schedules, CloudTrail events); one query."""
    if not keys:
        return {}
    return {
        (e.account_id, e.region, e.name): e
        for e in Endpoint.objects.filter(
            name__in={name for _, _, name in keys}, deleted_at__isnull=True
        )
        if (e.account_id, e.region, e.name) in keys
    }


def endpoint_named(*, account_id: str, region: str, name: str) -> Endpoint | None:
    """The inventory's endpoint of that name in that account and region, if any."""
    return Endpoint.objects.filter(account_id=account_id, region=region, name=name).first()


def endpoint_arn(*, pk: int) -> str:
    """An endpoint's ARN for an audit entry (a placeholder naming the id if it is gone)."""
    arn = Endpoint.objects.filter(pk=pk).values_list("arn", flat=True).first()
    return arn or f"endpoint:{pk}"


def endpoint_for_update(*, pk: int) -> Endpoint:
    """The endpoint row locked until the caller's transaction ends: writes of other apps
    about one endpoint (a proposal, an incident) are serialised on it."""
    return Endpoint.objects.select_for_update().get(pk=pk)


def sync_states() -> list[SyncStatus]:
    """The inventory sync of each configured target-region (never-synced ones included)."""
    return sync_statuses(kind=SyncKind.INVENTORY)
