"""Reads of change requests: lists, pages, one request with its approvals and actions,
and what other apps ask of them (emergencies, the calls sent, outcomes).

Every role may read every proposal (DESIGN.md: Viewers read every page); what a user may
do with one is decided in services, and pages only hide buttons that would be refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from core.roles import ROLE_GROUPS, Role
from endpoints.selectors import production_weights
from shifts import policy
from shifts.models import (
    OPEN_STATES,
    ChangeType,
    ShiftApproval,
    ShiftEvent,
    ShiftKind,
    ShiftProposal,
    ShiftState,
)
from shifts.weights import shares

if TYPE_CHECKING:
    from endpoints.models import Endpoint


HISTORY_PAGE_SIZE = 50


def approval_ttl() -> timedelta:
    return timedelta(hours=settings.OPSPORTAL_SHIFT_APPROVAL_TTL_HOURS)


def approvals_required() -> int:
    return settings.OPSPORTAL_SHIFT_APPROVALS_REQUIRED


def live_weights(*, endpoint: Endpoint) -> dict[str, float]:
    """Weight per production variant as the inventory last saw it, in the endpoint's order."""
    return production_weights(endpoint_id=endpoint.pk)


def valid_approvals(*, proposal: ShiftProposal, now: datetime) -> list[ShiftApproval]:
    """Approvals that still count: given by someone other than the proposer, within the TTL."""
    return [
        a
        for a in proposal.approvals.all()
        if a.approver_id != proposal.proposer_id and a.created_at > now - approval_ttl()
    ]


def with_people() -> QuerySet[ShiftProposal]:
    """Change requests with their endpoint and people (one query for a list)."""
    return _base()


def _base() -> QuerySet[ShiftProposal]:
    return ShiftProposal.objects.select_related("endpoint", "proposer", "acknowledged_by")


@dataclass(frozen=True)
class ShareRow:
    """One variant in a before/after chart."""

    variant: str
    before_weight: float | None
    after_weight: float
    before: float
    after: float
    position: int = 0

    @property
    def delta(self) -> float:
        return self.after - self.before

    @property
    def colour(self) -> int:
        """Matches the bar segment colour (portal.css colours segments 4n+1 … 4n+4)."""
        return self.position % 4


def share_rows(before: dict[str, float], after: dict[str, float]) -> list[ShareRow]:
    before_shares = shares(before)
    after_shares = shares(after)
    return [
        ShareRow(
            variant=name,
            before_weight=before.get(name),
            after_weight=after[name],
            before=before_shares.get(name, 0.0),
            after=after_shares[name],
            position=position,
        )
        for position, name in enumerate(after)
    ]


@dataclass(frozen=True)
class PendingRow:
    """A pending proposal with what it is waiting for, for the proposals page."""

    proposal: ShiftProposal
    age: timedelta
    approvals: int
    needed: int
    waiting_for: str


def _waiting_for(proposal: ShiftProposal, missing: int) -> str:
    who = "Approver" if missing == 1 else f"{missing} Approvers"
    return f"{who} other than {proposal.proposer.get_username()}"


def pending_rows(*, now: datetime | None = None, **filters: Any) -> list[PendingRow]:
    now = now or timezone.now()
    needed = approvals_required()
    queryset = _filtered(_base().filter(state=ShiftState.PENDING), **filters).prefetch_related(
        "approvals"
    )
    rows = []
    for proposal in queryset.order_by("created_at"):
        count = len(valid_approvals(proposal=proposal, now=now))
        rows.append(
            PendingRow(
                proposal=proposal,
                age=now - proposal.created_at,
                approvals=count,
                needed=needed,
                waiting_for=_waiting_for(proposal, max(1, needed - count)),
            )
        )
    return rows


def _filtered(
    queryset: QuerySet[ShiftProposal],
    *,
    endpoint: str = "",
    state: str = "",
    person: str = "",
    change: str = "",
) -> QuerySet[ShiftProposal]:
    if change:
        queryset = queryset.filter(change=change)
    if endpoint:
        queryset = queryset.filter(endpoint__name__icontains=endpoint)
    if state:
        queryset = queryset.filter(state=state)
    if person:
        queryset = queryset.filter(
            Q(proposer__username=person)
            | Q(approvals__approver__username=person)
            | Q(events__username=person)
        ).distinct()
    return queryset


def history_page(*, page: int = 1, **filters: Any) -> Page:
    """Every proposal but the pending ones (they have their own table), newest first."""
    queryset = (
        _filtered(_base().exclude(state=ShiftState.PENDING), **filters)
        .annotate(approval_count=Count("approvals", distinct=True))
        .order_by("-created_at", "-id")
    )
    return Paginator(queryset, HISTORY_PAGE_SIZE).get_page(page)


def proposal_detail(*, pk: int) -> ShiftProposal | None:
    return (
        _base()
        .prefetch_related(
            Prefetch("approvals", queryset=ShiftApproval.objects.select_related("approver")),
            "events",
        )
        .filter(pk=pk)
        .first()
    )


@dataclass(frozen=True)
class EndpointShifts:
    """What the endpoint pages show about shifts."""

    open: list[ShiftProposal]
    last_applied: ShiftProposal | None
    emergency: ShiftProposal | None  # the newest emergency nobody has acknowledged yet


def unacknowledged_emergency(*, endpoint_id: int) -> ShiftProposal | None:
    return (
        _base()
        .filter(endpoint_id=endpoint_id, kind=ShiftKind.EMERGENCY, acknowledged_at__isnull=True)
        .order_by("-created_at")
        .first()
    )


def endpoint_shifts(*, endpoint_id: int) -> EndpointShifts:
    return EndpointShifts(
        open=list(_base().filter(endpoint_id=endpoint_id, state__in=OPEN_STATES)),
        last_applied=_base()
        .filter(endpoint_id=endpoint_id, state=ShiftState.APPLIED)
        .order_by("-finished_at", "-id")
        .first(),
        emergency=unacknowledged_emergency(endpoint_id=endpoint_id),
    )


def shifts_sent(
    *, request_ids: set[str], endpoint_names: set[str], start: datetime, end: datetime
) -> list[ShiftProposal]:
    """Shifts whose update AWS answered with one of `request_ids`, or that were sent to
    one of the named endpoints in [start, end]: the candidates for a page of CloudTrail
    events (one query)."""
    return list(
        ShiftProposal.objects.filter(
            Q(aws_request_id__in=request_ids)
            | Q(
                update_sent_at__gte=start,
                update_sent_at__lte=end,
                endpoint__name__in=endpoint_names,
            )
        ).select_related("endpoint")
    )


def proposals_by_ids(*, ids: set[int]) -> list[ShiftProposal]:
    """The named change requests with their endpoints (one query)."""
    return list(ShiftProposal.objects.filter(pk__in=ids).select_related("endpoint"))


def unacknowledged_emergencies() -> list[ShiftProposal]:
    """Applied emergency shifts no Approver has acknowledged yet, on every endpoint."""
    return list(
        _base().filter(
            kind=ShiftKind.EMERGENCY, state=ShiftState.APPLIED, acknowledged_at__isnull=True
        )
    )


# A staged shift's decisions that belong on an endpoint's timeline besides its outcome.
PLAN_MARKS = ("plan.live", "plan.pause")


def outcome_events(*, endpoint_id: int, start: datetime, end: datetime) -> list[ShiftEvent]:
    """The moments in [start, end) a shift on the endpoint reached AWS (applied) or failed,
    and a staged shift's steps going live and its pauses, with the proposal and its proposer
    loaded."""
    return list(
        ShiftEvent.objects.filter(
            Q(to_state__in=(ShiftState.APPLIED, ShiftState.FAILED))
            | Q(action__in=PLAN_MARKS, proposal__change=ChangeType.PLAN),
            proposal__endpoint_id=endpoint_id,
            at__gte=start,
            at__lt=end,
        ).select_related("proposal", "proposal__proposer")
    )


def endpoint_history(*, endpoint_id: int, limit: int = 20) -> list[ShiftProposal]:
    return list(_base().filter(endpoint_id=endpoint_id)[:limit])


def pending_count() -> int:
    return ShiftProposal.objects.filter(state=ShiftState.PENDING).count()


def state_choices() -> list[tuple[str, str]]:
    return [(s.value, s.label) for s in ShiftState]


def change_choices() -> list[tuple[str, str]]:
    return [(c.value, c.label) for c in ChangeType]


def users_with_role(role: Role) -> QuerySet[Any]:
    """Active users holding `role` or a higher one (superusers count as Admins)."""
    groups = [name for name, value in ROLE_GROUPS.items() if value >= role]
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=groups))
        .distinct()
    )


@dataclass(frozen=True)
class ProposalActions:
    """Which buttons the detail page shows this user. The services decide for real; a
    hidden button only spares people a refusal."""

    approve: bool
    reject: bool
    cancel: bool
    edit: bool
    acknowledge: bool
    own: bool
    already_approved: bool
    approvals: int
    needed: int


def proposal_actions(
    *, proposal: ShiftProposal, user: Any, now: datetime | None = None
) -> ProposalActions:
    """The buttons the proposal's page offers `user`: what the shift policy allows them and
    the proposal's state permits (the services check both again)."""
    now = now or timezone.now()
    own = proposal.proposer_id == user.pk
    pending = proposal.state == ShiftState.PENDING and not proposal.is_emergency
    already = any(a.approver_id == user.pk for a in proposal.approvals.all())

    def may(action: str) -> bool:
        return policy.refusal_for(action, user, proposal) is None

    return ProposalActions(
        approve=pending and may("approve"),
        reject=pending and may("reject"),
        cancel=pending and may("cancel"),
        edit=pending and proposal.is_traffic and may("edit"),
        acknowledge=proposal.needs_acknowledgement and may("acknowledge"),
        own=own,
        already_approved=already,
        approvals=len(valid_approvals(proposal=proposal, now=now)),
        needed=approvals_required(),
    )


# Change requests beyond traffic: the Changes tab and the detail page -----------------------

# How many configs the Change requests tab lists, and CloudTrail events it reads for them.
