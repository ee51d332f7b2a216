"""Change requests in the REST API: list, one with its timeline, propose a traffic shift,
approve, reject and cancel, through the same services as the pages (same policy, same
two-person rule, same audit entries)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Path, Query, Router, Schema
from pydantic import FiniteFloat

from core.api.access import MAX_ID, require_role
from core.api.idempotency import OPENAPI_EXTRA, idempotent, json_response
from core.api.paging import PageQuery, cursor_page, page_body
from core.paging import Keyset
from core.roles import Role
from shifts import selectors, services
from shifts.models import ShiftProposal
from shifts.selectors.proposals import with_people

router = Router(tags=["change requests"])
SHIFT_KEYSET = Keyset(time_field="created_at")
MAX_TEXT = 10_000


class ShiftEventOut(Schema):
    at: datetime
    username: str
    action: str
    from_state: str
    to_state: str
    comment: str


class ShiftOut(Schema):
    id: int
    state: str
    change_type: str
    kind: str
    endpoint_id: int
    endpoint_name: str
    proposed_by: str
    reason: str
    summary: str
    before: dict[str, Any]
    after: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    finished_at: datetime | None
    outcome: str
    url: str


class ShiftDetailOut(ShiftOut):
    events: list[ShiftEventOut]


class ShiftPage(Schema):
    items: list[ShiftOut]
    next_cursor: str | None


class ShiftFilters(PageQuery):
    state: str = ""
    endpoint_id: int | None = Field(None, ge=1, le=MAX_ID)
    change_type: str = ""


class ProposeIn(Schema):
    endpoint_id: int
    weights: dict[str, FiniteFloat]
    reason: str


class ChangeIn(Schema):
    """A change other than traffic weights; `spec` as the change's form builds it:
    capacity `{"capacity": {"A": {"instances": 3}}}`; autoscaling `{"variant": "A",
    "action": ..., "min_capacity": 1, "max_capacity": 4}`; deploy `{"variant": "A",
    "model": "m-v2", "instance_type": "", "instance_count": null, "end_shadow_test": false}`
    (true promotes a shadow: the new config has no shadow variant); rollback
    `{"config_name": "..."}`."""

    endpoint_id: int
    change_type: str
    spec: dict[str, Any]
    reason: str


class PlanIn(Schema):
    """A staged shift; `spec` as the plan form builds it and a template stores it:
    `{"candidate": "B", "baseline": "A", "steps": [{"candidate_percent": 5,
    "bake_seconds": 600, "manual": false}, ...], "gates": {"error_rate_margin": 0.01,
    "latency_p99_ratio": 1.5, "min_invocations": 100, ...}, "on_failure": "rollback",
    "alarms": null, "max_extensions": 2}`. Omitted gates take their defaults."""

    endpoint_id: int
    spec: dict[str, Any]
    reason: str


class CommentIn(Schema):
    comment: str = ""


class CancelIn(Schema):
    """`reason` goes on the request's timeline beside who cancelled it and when."""

    reason: str = ""


def _outcome(proposal: ShiftProposal, events: list[Any]) -> str:
    """One sentence on where the request stands, from its latest timeline entry."""
    if proposal.error:
        return proposal.error
    if not events:
        return ""
    last = events[-1]
    sentence = f"{last.to_state.capitalize()} by {last.username} at {last.at:%Y-%m-%d %H:%M} UTC"
    return f"{sentence}: {last.comment}" if last.comment else sentence + "."


def shift_body(proposal: ShiftProposal, *, with_events: bool = False) -> dict[str, Any]:
    events = sorted(proposal.events.all(), key=lambda e: (e.at, e.pk))
    if proposal.is_traffic:
        before: dict[str, Any] = dict(proposal.before_weights)
        after: dict[str, Any] = dict(proposal.desired_weights)
    else:
        before, after = dict(proposal.before_state), dict(proposal.spec)
    body: dict[str, Any] = {
        "id": proposal.pk,
        "state": proposal.state,
        "change_type": proposal.change,
        "kind": proposal.kind,
        "endpoint_id": proposal.endpoint_id,
        "endpoint_name": proposal.endpoint.name,
        "proposed_by": proposal.proposer.get_username(),
        "reason": proposal.reason,
        "summary": selectors.summary_of(proposal),
        "before": before,
        "after": after,
        "created_at": proposal.created_at,
        "expires_at": proposal.expires_at,
        "finished_at": proposal.finished_at,
        "outcome": _outcome(proposal, events),
        "url": reverse("shifts:detail", kwargs={"pk": proposal.pk}),
    }
    if with_events:
        body["events"] = [
            {
                "at": e.at,
                "username": e.username,
                "action": e.action,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "comment": e.comment,
            }
            for e in events
        ]
    return body


def _detail(pk: int) -> dict[str, Any]:
    proposal = selectors.proposal_detail(pk=pk)
    if proposal is None:
        raise Http404("No such change request.")
    return shift_body(proposal, with_events=True)


@router.get("/shifts", response=ShiftPage, summary="List change requests")
def shift_list(request: HttpRequest, filters: Query[ShiftFilters]) -> dict[str, Any]:
    """Every change request (traffic shifts, staged plans, deploys, rollbacks, capacity and
    auto scaling), newest first."""
    require_role(request, Role.VIEWER, "Reading change requests")
    queryset = with_people().prefetch_related("events")
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.endpoint_id is not None:
        queryset = queryset.filter(endpoint_id=filters.endpoint_id)
    if filters.change_type:
        queryset = queryset.filter(change=filters.change_type)
    items, next_cursor = cursor_page(
        queryset, keyset=SHIFT_KEYSET, cursor=filters.cursor, limit=filters.limit
    )
    return page_body([shift_body(p) for p in items], next_cursor)


@router.get("/shifts/{shift_id}", response=ShiftDetailOut, summary="One change request")
def shift_get(request: HttpRequest, shift_id: int = Path(..., ge=1, le=MAX_ID)) -> dict[str, Any]:
    """The request with its timeline (follow it by reading this again)."""
    require_role(request, Role.VIEWER, "Reading change requests")
    return _detail(shift_id)


def _opened(
    request: HttpRequest, *, endpoint_id: int, what: str, propose: Callable[[], ShiftProposal]
) -> HttpResponse:
    """The one path of every proposing route: the Operator role, an endpoint id that can
    exist, the service's own checks, and the Idempotency-Key, so a retry opens nothing new."""
    require_role(request, Role.OPERATOR, what)

    def run() -> HttpResponse:
        if not 1 <= endpoint_id <= MAX_ID:
            raise Http404("No such endpoint in the inventory.")
        return json_response(_detail(propose().pk), status=201)

    return idempotent(request, run)


@router.post(
    "/shifts",
    response={201: ShiftDetailOut},
    summary="Propose a traffic shift",
    openapi_extra=OPENAPI_EXTRA,
)
def shift_propose(request: HttpRequest, body: ProposeIn) -> HttpResponse:
    """Desired weight per production variant, and why; an Approver other than you must
    approve it before it is applied."""
    return _opened(
        request,
        endpoint_id=body.endpoint_id,
        what="Proposing a traffic shift",
        propose=lambda: services.shift_propose(
            endpoint_id=body.endpoint_id,
            actor=request.user,
            desired=body.weights,
            reason=body.reason[:MAX_TEXT],
            request=request,
        ),
    )


@router.post(
    "/changes",
    response={201: ShiftDetailOut},
    summary="Propose a capacity, auto scaling, deploy or rollback change",
    openapi_extra=OPENAPI_EXTRA,
)
def change_propose(request: HttpRequest, body: ChangeIn) -> HttpResponse:
    """Checked as the change's form checks it; approved and applied as a traffic shift is."""
    return _opened(
        request,
        endpoint_id=body.endpoint_id,
        what="Proposing a change",
        propose=lambda: services.change_propose(
            endpoint_id=body.endpoint_id,
            actor=request.user,
            change=body.change_type,
            spec=body.spec,
            reason=body.reason[:MAX_TEXT],
            request=request,
        ),
    )


@router.post(
    "/plans",
    response={201: ShiftDetailOut},
    summary="Propose a staged traffic shift (a plan with metric gates)",
    openapi_extra=OPENAPI_EXTRA,
)
def plan_propose(request: HttpRequest, body: PlanIn) -> HttpResponse:
    """Checked as the plan form checks it; approved once under the two-person rule, then
    walked step by step by the portal, which rolls back or pauses on a failed gate."""
    return _opened(
        request,
        endpoint_id=body.endpoint_id,
        what="Proposing a staged shift",
        propose=lambda: services.plan_propose(
            endpoint_id=body.endpoint_id,
            actor=request.user,
            spec=body.spec,
            reason=body.reason[:MAX_TEXT],
            request=request,
        ),
    )


def _decide(
    request: HttpRequest, shift_id: int, service: Callable[..., ShiftProposal], **kwargs: Any
) -> dict[str, Any]:
    try:
        service(proposal_id=shift_id, actor=request.user, request=request, **kwargs)
    except ShiftProposal.DoesNotExist:
        raise Http404("No such change request.") from None
    return _detail(shift_id)


@router.post("/shifts/{shift_id}/approve", response=ShiftDetailOut, summary="Approve")
def shift_approve(
    request: HttpRequest, body: CommentIn, shift_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    """One Approver's yes (never the proposer's own); on quorum the shift is applied."""
    require_role(request, Role.APPROVER, "Approving a change request")
    return _decide(request, shift_id, services.shift_approve, comment=body.comment[:MAX_TEXT])


@router.post("/shifts/{shift_id}/reject", response=ShiftDetailOut, summary="Reject")
def shift_reject(
    request: HttpRequest, body: CommentIn, shift_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    """An Approver other than the proposer says no, with a comment saying why."""
    require_role(request, Role.APPROVER, "Rejecting a change request")
    return _decide(request, shift_id, services.shift_reject, comment=body.comment[:MAX_TEXT])


@router.post("/shifts/{shift_id}/cancel", response=ShiftDetailOut, summary="Cancel")
def shift_cancel(
    request: HttpRequest, body: CancelIn, shift_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    """The proposer withdraws a pending request."""
    require_role(request, Role.OPERATOR, "Cancelling a change request")
    return _decide(request, shift_id, services.shift_cancel, comment=body.reason[:MAX_TEXT])
