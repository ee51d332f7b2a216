"""CloudTrail history in the REST API: the same search and filters as the API history
page, over the events the portal has ingested."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Path, Query, Router, Schema

from apihistory.models import TrailEvent
from apihistory.selectors import TRAIL_KEYSET, TrailFilters, trail_events_filtered
from core.api.access import MAX_ID, require_role
from core.api.paging import PageQuery, cursor_page, page_body
from core.roles import Role

router = Router(tags=["API history"])
MAX_FILTER = 512


class TrailEventOut(Schema):
    id: int
    target: str
    event_id: str
    event_time: datetime
    event_name: str
    read_only: bool
    account_id: str
    region: str
    principal_name: str
    principal_arn: str
    source_ip: str
    user_agent: str
    endpoint_name: str
    error_code: str
    error_message: str
    request_id: str


class TrailEventDetailOut(TrailEventOut):
    record: dict[str, Any]


class TrailEventPage(Schema):
    items: list[TrailEventOut]
    next_cursor: str | None


class TrailQuery(PageQuery):
    start: datetime | None = None
    end: datetime | None = None
    event_name: list[str] = []
    principal: str = ""
    endpoint: str = ""
    account: str = Field("", description="An account's target name (OPSPORTAL_TARGETS)")
    errors_only: bool = False
    writes_only: bool = False
    hide_portal: bool = False
    q: str = ""


def trail_body(event: TrailEvent, *, detail: bool = False) -> dict[str, Any]:
    body = {name: getattr(event, name) for name in TrailEventOut.model_fields if name != "id"}
    body["id"] = event.pk
    if detail:
        body["record"] = event.record if isinstance(event.record, dict) else {}
    return body


@router.get("/api-history", response=TrailEventPage, summary="Search CloudTrail events")
def event_list(request: HttpRequest, query: Query[TrailQuery]) -> dict[str, Any]:
    """SageMaker management calls as CloudTrail recorded them, newest first."""
    require_role(request, Role.VIEWER, "Reading API history")
    filters = TrailFilters(
        start=query.start,
        end=query.end,
        event_names=tuple(n[:MAX_FILTER] for n in query.event_name[:50]),
        principal=query.principal[:MAX_FILTER],
        endpoint=query.endpoint[:MAX_FILTER],
        account=query.account[:MAX_FILTER],
        errors_only=query.errors_only,
        writes_only=query.writes_only,
        hide_portal=query.hide_portal,
        text=query.q[:MAX_FILTER],
    )
    items, next_cursor = cursor_page(
        trail_events_filtered(filters=filters),
        keyset=TRAIL_KEYSET,
        cursor=query.cursor,
        limit=query.limit,
    )
    return page_body([trail_body(e) for e in items], next_cursor)


@router.get("/api-history/{event_id}", response=TrailEventDetailOut, summary="One event")
def event_get(request: HttpRequest, event_id: int = Path(..., ge=1, le=MAX_ID)) -> dict[str, Any]:
    require_role(request, Role.VIEWER, "Reading API history")
    found = trail_events_filtered(filters=TrailFilters()).filter(pk=event_id).first()
    if found is None:
        raise Http404("No such CloudTrail event.")
    return trail_body(found, detail=True)
