"""Endpoints in the REST API: the inventory list with filters and one endpoint with its
variants and last synced state (the same reads as the pages; no AWS call)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Path, Query, Router, Schema

from core.api.access import MAX_ID, require_role
from core.api.paging import PageQuery, cursor_page, page_body
from core.paging import Keyset
from core.roles import Role
from endpoints.models import Endpoint
from endpoints.selectors import endpoint_filter, endpoint_or_404

router = Router(tags=["endpoints"])
ENDPOINT_KEYSET = Keyset()


class VariantOut(Schema):
    name: str
    is_shadow: bool
    current_weight: float | None
    desired_weight: float | None
    instance_type: str | None
    current_instance_count: int | None
    desired_instance_count: int | None
    model_name: str


class EndpointOut(Schema):
    id: int
    name: str
    target: str
    account_id: str
    region: str
    status: str
    hosting: str
    synced_at: datetime | None
    variants: list[VariantOut]


class EndpointDetailOut(EndpointOut):
    arn: str
    config_name: str
    failure_reason: str
    last_modified_time: datetime
    deleted_at: datetime | None
    autoscaling: list[Any]
    data_capture: dict[str, Any] | None
    url: str


class EndpointPage(Schema):
    items: list[EndpointOut]
    next_cursor: str | None


class EndpointFilters(PageQuery):
    name: str = ""
    target: str = ""
    region: str = ""
    status: str = ""


def _hosting(endpoint: Endpoint) -> str:
    variants = list(endpoint.variants.all())
    return "serverless" if variants and all(v.serverless for v in variants) else "instances"


def endpoint_body(endpoint: Endpoint) -> dict[str, Any]:
    variants = sorted(endpoint.variants.all(), key=lambda v: (v.is_shadow, v.position))
    return {
        "id": endpoint.pk,
        "name": endpoint.name,
        "target": endpoint.target,
        "account_id": endpoint.account_id,
        "region": endpoint.region,
        "status": endpoint.status,
        "hosting": _hosting(endpoint),
        "synced_at": endpoint.synced_at,
        "variants": [
            {
                "name": v.name,
                "is_shadow": v.is_shadow,
                "current_weight": v.current_weight,
                "desired_weight": v.desired_weight,
                "instance_type": v.instance_type or None,
                "current_instance_count": v.current_instance_count,
                "desired_instance_count": v.desired_instance_count,
                "model_name": v.model_name,
            }
            for v in variants
        ],
    }


@router.get("/endpoints", response=EndpointPage, summary="List endpoints")
def endpoint_list(request: HttpRequest, filters: Query[EndpointFilters]) -> dict[str, Any]:
    """Inventory endpoints (deleted ones left out); `name` is an exact match."""
    require_role(request, Role.VIEWER, "Reading endpoints")
    queryset = endpoint_filter(region=filters.region, status=filters.status)
    if filters.name:
        queryset = queryset.filter(name=filters.name)
    if filters.target:
        queryset = queryset.filter(target=filters.target)
    items, next_cursor = cursor_page(
        queryset.prefetch_related("variants"),
        keyset=ENDPOINT_KEYSET,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return page_body([endpoint_body(e) for e in items], next_cursor)


@router.get("/endpoints/{endpoint_id}", response=EndpointDetailOut, summary="One endpoint")
def endpoint_get(
    request: HttpRequest, endpoint_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    """The endpoint with its variants and its state as last synced from AWS."""
    require_role(request, Role.VIEWER, "Reading endpoints")
    endpoint = endpoint_or_404(endpoint_id)
    return {
        **endpoint_body(endpoint),
        "arn": endpoint.arn,
        "config_name": endpoint.config_name,
        "failure_reason": endpoint.failure_reason,
        "last_modified_time": endpoint.last_modified_time,
        "deleted_at": endpoint.deleted_at,
        "autoscaling": endpoint.autoscaling or [],
        "data_capture": endpoint.data_capture,
        "url": reverse("endpoints:detail", kwargs={"pk": endpoint.pk}),
    }
