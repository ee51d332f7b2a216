"""Incidents in the REST API: list, one incident with its timeline, take it, and move it
(acknowledge, mitigate, resolve) through the same services as the incident pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import Path, Query, Router, Schema

from core.api.access import MAX_ID, require_role
from core.api.paging import PageQuery, cursor_page, page_body
from core.errors import Invalid
from core.paging import Keyset
from core.roles import Role
from triage import incident_selectors, services
from triage.board import current_owner
from triage.incidents import incident_move
from triage.models import Incident

router = Router(tags=["incidents"])
INCIDENT_KEYSET = Keyset(time_field="opened_at")
MAX_NOTE_INPUT = 100_000


class IncidentEventOut(Schema):
    at: datetime
    username: str
    action: str
    from_state: str
    to_state: str
    note: str


class IncidentOut(Schema):
    id: int
    title: str
    state: str
    endpoint_id: int
    endpoint_name: str | None
    opened_at: datetime
    owner: str | None
    cause: str
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    url: str


class IncidentDetailOut(IncidentOut):
    events: list[IncidentEventOut]


class IncidentPage(Schema):
    items: list[IncidentOut]
    next_cursor: str | None


class IncidentFilters(PageQuery):
    state: str = ""
    endpoint: str = ""


class NoteIn(Schema):
    note: str = ""


class MoveIn(Schema):
    to: str
    note: str = ""


def incident_body(incident: Incident, *, detail: bool = False) -> dict[str, Any]:
    owner = current_owner(endpoint=incident.endpoint)
    body: dict[str, Any] = {
        "id": incident.pk,
        "title": incident.first_signal,
        "state": incident.state,
        "endpoint_id": incident.endpoint_id,
        "endpoint_name": incident.endpoint.name,
        "opened_at": incident.opened_at,
        "owner": owner.owner.get_username() if owner else None,
        "cause": incident.cause_text,
        "acknowledged_at": incident.acknowledged_at,
        "mitigated_at": incident.mitigated_at,
        "resolved_at": incident.resolved_at,
        "url": reverse("triage:incident", kwargs={"pk": incident.pk}),
    }
    if detail:
        body["events"] = [
            {
                "at": e.at,
                "username": e.username,
                "action": e.action,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "note": e.note,
            }
            for e in sorted(incident.events.all(), key=lambda e: (e.at, e.pk))
        ]
    return body


def _incident(pk: int) -> Incident:
    incident = incident_selectors.incident_detail(pk=pk)
    if incident is None:
        raise Http404("No such incident.")
    return incident


def _note(text: str) -> str:
    if len(text) > MAX_NOTE_INPUT:
        raise Invalid(errors={"note": [f"Keep the note under {services.MAX_NOTE} characters."]})
    return text


@router.get("/incidents", response=IncidentPage, summary="List incidents")
def incident_list(request: HttpRequest, filters: Query[IncidentFilters]) -> dict[str, Any]:
    require_role(request, Role.VIEWER, "Reading incidents")
    queryset = incident_selectors.incident_history(state=filters.state, endpoint=filters.endpoint)
    items, next_cursor = cursor_page(
        queryset, keyset=INCIDENT_KEYSET, cursor=filters.cursor, limit=filters.limit
    )
    return page_body([incident_body(i) for i in items], next_cursor)


@router.get("/incidents/{incident_id}", response=IncidentDetailOut, summary="One incident")
def incident_get(
    request: HttpRequest, incident_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    require_role(request, Role.VIEWER, "Reading incidents")
    return incident_body(_incident(incident_id), detail=True)


@router.post("/incidents/{incident_id}/take", response=IncidentDetailOut, summary="Take it")
def incident_take(
    request: HttpRequest, body: NoteIn, incident_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    """Own the incident's endpoint, with a note saying what you are doing."""
    require_role(request, Role.OPERATOR, "Taking ownership of an incident")
    incident = _incident(incident_id)
    services.incident_take(
        endpoint_id=incident.endpoint_id, actor=request.user, note=_note(body.note), request=request
    )
    return incident_body(_incident(incident_id), detail=True)


@router.post("/incidents/{incident_id}/move", response=IncidentDetailOut, summary="Change state")
def incident_state(
    request: HttpRequest, body: MoveIn, incident_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    """`to`: acknowledged, mitigated or resolved (the last two need a note)."""
    require_role(request, Role.OPERATOR, "Acknowledging, mitigating or resolving an incident")
    _incident(incident_id)
    incident_move(
        incident_id=incident_id,
        actor=request.user,
        to=body.to,
        note=_note(body.note),
        request=request,
    )
    return incident_body(_incident(incident_id), detail=True)
