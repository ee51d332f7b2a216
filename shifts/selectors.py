"""Reads for the traffic-shift pages and for the endpoint pages that show shifts.

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

from apihistory.selectors import endpoint_change_events
from core.roles import ROLE_GROUPS, Role
from endpoints.selectors import endpoint_configs, production_weights
from monitoring.selectors import endpoint_alarms
from shifts import policy
from shifts.changes import CHANGES
from shifts.changes import autoscaling as scaling_change
from shifts.changes.capacity import describe_capacity
from shifts.changes.deploy import new_config_name
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
    from endpoints.models import Endpoint, Variant
    from monitoring.models import Alarm

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


def outcome_events(*, endpoint_id: int, start: datetime, end: datetime) -> list[ShiftEvent]:
    """The moments in [start, end) a shift on the endpoint reached AWS (applied) or failed,
    with the proposal and its proposer loaded."""
    return list(
        ShiftEvent.objects.filter(
            proposal__endpoint_id=endpoint_id,
            at__gte=start,
            at__lt=end,
            to_state__in=(ShiftState.APPLIED, ShiftState.FAILED),
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
CONFIG_LIMIT = 30
TRAIL_EVENTS = 500
SUSPENSION_WORDS = {
    "DynamicScalingInSuspended": "scale-in",
    "DynamicScalingOutSuspended": "scale-out",
    "ScheduledScalingSuspended": "scheduled",
}
TRAIL_EVENT_NAMES: dict[str, str] = {
    ChangeType.TRAFFIC: "UpdateEndpointWeightsAndCapacities",
    ChangeType.CAPACITY: "UpdateEndpointWeightsAndCapacities",
    ChangeType.DEPLOY: "UpdateEndpoint",
    ChangeType.ROLLBACK: "UpdateEndpoint",
}


def change_label(proposal: ShiftProposal) -> str:
    return str(ChangeType(proposal.change).label) if proposal.change in ChangeType.values else ""


def summary_of(proposal: ShiftProposal) -> str:
    """The change type's one-line description; its label if the row cannot be described
    (a spec written by an older version)."""
    change = CHANGES.get(proposal.change)
    if change is None:
        return proposal.change
    try:
        return change.summary(proposal=proposal)
    except (KeyError, TypeError, ValueError, AttributeError):
        return change_label(proposal)


def trail_event_name(proposal: ShiftProposal) -> str:
    """The SageMaker call whose CloudTrail record shows the change sent ("" when CloudTrail
    as ingested does not record it: auto scaling is not a SageMaker call)."""
    return TRAIL_EVENT_NAMES.get(proposal.change, "")


def suspension_words(suspended: list[str] | tuple[str, ...] | None) -> list[str]:
    return [SUSPENSION_WORDS.get(name, name) for name in suspended or []]


@dataclass(frozen=True)
class VariantRow:
    """A production variant's capacity and auto scaling as the inventory last saw them."""

    name: str
    model_name: str
    instance_type: str
    desired_instances: int | None
    current_instances: int | None
    serverless: dict[str, Any] | None
    scaling: dict[str, Any] | None  # the inventory's entry: min/max, suspended, policies

    @property
    def suspended(self) -> list[str]:
        return suspension_words((self.scaling or {}).get("suspended"))

    @property
    def capacity_words(self) -> str:
        if self.serverless:
            values = {
                "max_concurrency": self.serverless.get("max_concurrency"),
                "provisioned_concurrency": self.serverless.get("provisioned_concurrency"),
            }
            return "serverless, " + describe_capacity(values)
        count = self.desired_instances if self.desired_instances is not None else 0
        return f"{self.instance_type or 'unknown type'} × {count}"


@dataclass(frozen=True)
class EndpointScaling:
    variants: list[VariantRow]
    error: str  # the inventory could not read auto scaling at its last sync


def _variant_row(variant: Variant, entries: list[dict[str, Any]]) -> VariantRow:
    return VariantRow(
        name=variant.name,
        model_name=variant.model_name,
        instance_type=variant.instance_type,
        desired_instances=(
            variant.desired_instance_count
            if variant.desired_instance_count is not None
            else variant.current_instance_count
        ),
        current_instances=variant.current_instance_count,
        serverless=variant.serverless or None,
        scaling=scaling_change.inventory_entry(entries, variant.name),
    )


def endpoint_scaling(*, endpoint: Endpoint) -> EndpointScaling:
    """Each production variant with its capacity and auto scaling (no query beyond the
    endpoint's prefetched variants)."""
    rows = [r for r in (endpoint.autoscaling or []) if isinstance(r, dict)]
    errors = [str(r["error"]) for r in rows if "error" in r]
    entries = [r for r in rows if "error" not in r]
    variants = [v for v in endpoint.variants.all() if not v.is_shadow]
    return EndpointScaling(
        variants=[_variant_row(v, entries) for v in variants],
        error="; ".join(errors),
    )


@dataclass(frozen=True)
class EndpointAlarms:
    health: list[Alarm]  # what says something is wrong: the rollback alarms to offer
    scaling: list[Alarm]  # auto scaling's own target-tracking alarms


def alarms_of(*, endpoint: Endpoint) -> EndpointAlarms:
    alarms = endpoint_alarms(endpoint=endpoint)
    return EndpointAlarms(
        health=[a for a in alarms if not a.drives_auto_scaling],
        scaling=[a for a in alarms if a.drives_auto_scaling],
    )


@dataclass(frozen=True)
class ConfigRow:
    """An endpoint config the endpoint has run, as the inventory's snapshots show it."""

    name: str
    first_seen: datetime | None
    last_seen: datetime | None
    current: bool
    deployed_by: str = ""
    deployed_at: datetime | None = None
    created_by: str = ""
    change_request: ShiftProposal | None = None


def _trail_authors(endpoint: Endpoint) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per config: the newest successful CreateEndpoint/UpdateEndpoint naming it, and its
    CreateEndpointConfig, from the ingested CloudTrail history."""
    deployed: dict[str, Any] = {}
    created: dict[str, Any] = {}
    for event in endpoint_change_events(endpoint=endpoint, limit=TRAIL_EVENTS):
        if event.error_code or not event.endpoint_config_name:
            continue
        if event.event_name in ("CreateEndpoint", "UpdateEndpoint"):
            deployed.setdefault(event.endpoint_config_name, event)
        elif event.event_name == "CreateEndpointConfig":
            created.setdefault(event.endpoint_config_name, event)
    return deployed, created


def _config_requests(endpoint: Endpoint) -> dict[str, ShiftProposal]:
    """Per config: the newest applied deploy or rollback change request that put the
    endpoint on it."""
    found: dict[str, ShiftProposal] = {}
    applied = _base().filter(
        endpoint_id=endpoint.pk,
        change__in=(ChangeType.DEPLOY, ChangeType.ROLLBACK),
        state=ShiftState.APPLIED,
    )
    for proposal in applied.order_by("-finished_at", "-id"):
        if proposal.change == ChangeType.DEPLOY:
            name = new_config_name(endpoint_name=endpoint.name, proposal_id=proposal.pk)
        else:
            name = str(proposal.spec.get("config_name") or "")
        if name:
            found.setdefault(name, proposal)
    return found


def config_rows(*, endpoint: Endpoint) -> list[ConfigRow]:
    """The configs the endpoint has run, the current one first, then the most recently
    seen; each with who deployed it (CloudTrail) and the change request behind it."""
    uses = endpoint_configs(endpoint=endpoint, limit=CONFIG_LIMIT)
    seen = {use.config_name: use for use in uses}
    deployed, created = _trail_authors(endpoint)
    requests = _config_requests(endpoint)
    names = list(seen)
    if endpoint.config_name and endpoint.config_name not in seen:
        names.insert(0, endpoint.config_name)
    rows = []
    for name in names:
        use = seen.get(name)
        event = deployed.get(name)
        maker = created.get(name)
        rows.append(
            ConfigRow(
                name=name,
                first_seen=use.first_seen if use else None,
                last_seen=use.last_seen if use else None,
                current=name == endpoint.config_name,
                deployed_by=event.principal_name if event else "",
                deployed_at=event.event_time if event else None,
                created_by=maker.principal_name if maker else "",
                change_request=requests.get(name),
            )
        )
    rows.sort(key=lambda row: not row.current)  # stable: the rest stay newest first
    return rows


@dataclass(frozen=True)
class CapacityRow:
    variant: str
    before: str
    after: str
    observed: str


@dataclass(frozen=True)
class ChangeView:
    """A change request of any type beyond traffic, in words, for its page."""

    label: str
    summary: str
    change: list[tuple[str, str]]
    bound: list[tuple[str, str]]
    outcome: list[tuple[str, str]]
    capacity: list[CapacityRow]
    warnings: list[str]
    deployment: list[tuple[str, str]]
    target_config: str
    before_config: str

    @property
    def is_config_change(self) -> bool:
        return bool(self.target_config)


def _scaling_words(entry: dict[str, Any] | None) -> list[tuple[str, str]]:
    if not entry:
        return [("Auto scaling", "no scalable target")]
    words = [
        ("Instances", f"{entry.get('min_capacity')}–{entry.get('max_capacity')}"),
        (
            "Suspended",
            ", ".join(suspension_words(entry.get("suspended"))) or "nothing (scaling is active)",
        ),
    ]
    for policy_entry in entry.get("policies") or []:
        words.append((f"Policy {policy_entry.get('name')}", _policy_words(policy_entry)))
    if not entry.get("policies"):
        words.append(("Policies", "none"))
    return words


def _policy_words(entry: dict[str, Any]) -> str:
    metric = entry.get("metric") or (
        "custom metric" if entry.get("customized_metric") else "invocations per instance"
    )
    target = entry.get("target_value")
    no_in = ", no scale-in" if entry.get("disable_scale_in") else ""
    return (
        f"{metric} at {target if target is not None else '–'}; cooldowns out "
        f"{entry.get('scale_out_cooldown')} s, in {entry.get('scale_in_cooldown')} s{no_in}"
    )


def _deployment_words(deployment: dict[str, Any]) -> list[tuple[str, str]]:
    if not deployment:
        return []
    strategy = str(deployment.get("strategy") or "ALL_AT_ONCE")
    words = [("Strategy", strategy.replace("_", " ").lower())]
    if strategy != "ALL_AT_ONCE":
        unit = "%" if deployment.get("size_type") == "CAPACITY_PERCENT" else "instances"
        words.append(("Step size", f"{deployment.get('size_value')} {unit}"))
    words.append(("Bake per step", f"{deployment.get('wait_seconds') or 0} s"))
    if strategy != "ROLLING":
        words.append(("Old fleet kept for", f"{deployment.get('termination_wait_seconds') or 0} s"))
    if deployment.get("max_execution_timeout_seconds"):
        words.append(("Time limit", f"{deployment['max_execution_timeout_seconds']} s"))
    if deployment.get("rollback_batch_percent"):
        words.append(("Rollback batch", f"{deployment['rollback_batch_percent']} %"))
    alarms = deployment.get("rollback_alarms") or []
    words.append(("Rollback alarms", ", ".join(map(str, alarms)) or "none"))
    return words


def _capacity_rows(proposal: ShiftProposal) -> list[CapacityRow]:
    before = (proposal.before_state or {}).get("capacity") or {}
    observed = (proposal.observed_state or {}).get("capacity") or {}
    wanted = (proposal.spec or {}).get("capacity") or {}
    return [
        CapacityRow(
            variant=name,
            before=describe_capacity(before.get(name) or {}) if name in before else "–",
            after=describe_capacity(values) if isinstance(values, dict) else "–",
            observed=describe_capacity(observed[name]) if name in observed else "–",
        )
        for name, values in wanted.items()
    ]


def change_view(*, proposal: ShiftProposal) -> ChangeView:
    """What a non-traffic change request changes, what its approval is bound to, the
    warnings given when it was proposed and what the poll saw, in words."""
    spec = proposal.spec or {}
    before = proposal.before_state or {}
    observed = proposal.observed_state or {}
    change: list[tuple[str, str]] = []
    bound: list[tuple[str, str]] = []
    outcome: list[tuple[str, str]] = []
    target_config = before_config = ""
    if proposal.change == ChangeType.AUTOSCALING:
        action = str(spec.get("action", ""))
        change = [
            ("Variant", str(spec.get("variant", ""))),
            ("Action", scaling_change.ACTIONS.get(action, action)),
        ]
        if action == scaling_change.TARGET:
            change.append(("Instances", f"{spec.get('min_capacity')}–{spec.get('max_capacity')}"))
        elif action == scaling_change.REMOVE_POLICY:
            change.append(("Policy", str(spec.get("policy_name", ""))))
        elif action == scaling_change.POLICY:
            policy_spec = spec.get("policy") or {}
            change.append((f"Policy {policy_spec.get('name')}", _policy_words(policy_spec)))
        bound = _scaling_words(before.get("scaling"))
        if "scaling" in observed:
            outcome = _scaling_words(observed.get("scaling"))
    elif proposal.change in (ChangeType.DEPLOY, ChangeType.ROLLBACK):
        before_config = str(before.get("config_name") or "")
        if proposal.change == ChangeType.DEPLOY:
            target_config = new_config_name(
                endpoint_name=proposal.endpoint.name, proposal_id=proposal.pk
            )
            change = [
                ("Variant", str(spec.get("variant", ""))),
                ("Model", f"{spec.get('from_model') or '–'} → {spec.get('model')}"),
            ]
            if spec.get("instance_type"):
                change.append(("Instance type", str(spec["instance_type"])))
            if spec.get("instance_count") is not None:
                change.append(("Instance count", str(spec["instance_count"])))
            change.append(("New endpoint config", target_config))
        else:
            target_config = str(spec.get("config_name") or "")
            change = [("Endpoint config", f"{before_config or '–'} → {target_config}")]
        bound = [("Endpoint config", before_config or "–")]
        if observed:
            outcome = [
                ("Status", str(observed.get("status") or "–")),
                ("Endpoint config", str(observed.get("config_name") or "–")),
            ]
            if observed.get("failure_reason"):
                outcome.append(("Failure reason", str(observed["failure_reason"])))
    elif proposal.change == ChangeType.CAPACITY:
        bound = [
            (name, describe_capacity(values))
            for name, values in (before.get("capacity") or {}).items()
            if isinstance(values, dict)
        ]
    return ChangeView(
        label=change_label(proposal),
        summary=summary_of(proposal),
        change=change,
        bound=bound,
        outcome=outcome,
        capacity=_capacity_rows(proposal) if proposal.change == ChangeType.CAPACITY else [],
        warnings=[str(w) for w in spec.get("warnings") or []],
        deployment=_deployment_words(spec.get("deployment") or {}),
        target_config=target_config,
        before_config=before_config,
    )


def rollback_alarm_states(*, endpoint: Endpoint, names: list[str]) -> list[tuple[str, Any]]:
    """Each rollback alarm a deployment watches with the portal's synced row (None when
    the portal does not know it: not on this endpoint, or not synced yet)."""
    known = {a.name: a for a in endpoint_alarms(endpoint=endpoint)}
    return [(name, known.get(name)) for name in names]
