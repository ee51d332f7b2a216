"""The incident board: endpoints that need attention now, ranked, each with its likely cause.

Signals come from what the portal already keeps in its database: alarms in ALARM (their
thresholds are the team's definition of "error rate or latency too high"), failed or
stuck endpoint updates, recent Model Monitor violations, and emergency shifts nobody has
acknowledged; and, from CloudWatch, asynchronous endpoints whose queue is growing (one
cached GetMetricData per account-region for all of them, see `endpoints.live_async`).
The likely cause is the last change to the endpoint before its first signal: on call,
"what changed just before this started?" is the first question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from apihistory.selectors import endpoint_change_events
from core.text import is_web_url
from endpoints.live_async import Backlog, endpoint_backlogs
from endpoints.selectors import (
    deploy_states,
    endpoint_problems,
    live_endpoints_by_key,
    previous_config,
)
from endpoints.selectors.async_inference import async_endpoints
from endpoints.state_diff import state_diff
from monitoring.selectors import endpoints_with_violations, firing_alarms
from shifts.selectors import plans_for_board, unacknowledged_emergencies
from triage.impact import error_free_minutes
from triage.models import UNRESOLVED, Incident, IncidentOwnership
from triage.wording import requested_models, requested_weights

if TYPE_CHECKING:
    from apihistory.models import TrailEvent
    from endpoints.models import Endpoint
    from monitoring.selectors import EndpointViolations


# A staged shift rolled back by its gates stays on the board this long (a paused one until
# someone acts on it).
PLAN_ROLLBACK_SHOWN = timedelta(hours=2)


def cause_window() -> timedelta:
    """How far before the first signal a change still counts as its likely cause."""
    return timedelta(minutes=settings.OPSPORTAL_CAUSE_WINDOW_MINUTES)


# Signal weights: what pages first. An alarm is a customer-facing symptom; a failed
# endpoint, requests piling up unanswered or an unacknowledged emergency shift needs a
# person; drift can wait an hour.
_WEIGHTS = {
    "alarm": 100,
    "failed": 80,
    "backlog": 70,
    "plan": 60,
    "emergency": 50,
    "stuck": 40,
    "violations": 20,
    "cleared": 5,
}


@dataclass(frozen=True)
class Signal:
    kind: str  # alarm | failed | stuck | backlog | plan | emergency | violations | cleared
    text: str
    since: datetime
    # How precisely `since` is known: a symptom read from a one-minute metric is known only
    # to its minute, so a change made within that minute may still have caused it.
    within: timedelta = timedelta(0)

    @property
    def headline(self) -> str:
        """The signal in a few words, for the cause line ("… 3 min before it became
        Failed"): the failure reason or a plan's gate numbers are on the signal's own line,
        and saying them twice makes the cause line unreadable."""
        if self.kind == "failed":
            return f"it became {self.text.split(':', 1)[0]}"
        if self.kind == "plan":
            return self.text.split(":", 1)[0]
        if self.kind == "backlog":
            return "its queue began to grow"
        return self.text


@dataclass(frozen=True)
class LikelyCause:
    event: TrailEvent
    what: str
    minutes_before: int
    signal: str

    @property
    def text(self) -> str:
        who = self.event.principal_name or "an unknown principal"
        kind = "role" if self.event.identity_type == "AssumedRole" else "user"
        if self.event.identity_type not in ("AssumedRole", "IAMUser"):
            kind = self.event.identity_type
        when = (
            f"{self.minutes_before} min before"
            if self.minutes_before
            else "less than a minute before"
        )
        return f"{self.what} {when} {self.signal}, by {kind} {who}"


@dataclass
class BoardEntry:
    endpoint: Endpoint
    signals: list[Signal] = field(default_factory=list)
    cause: LikelyCause | None = None
    # The last change in the window when the endpoint served well after it, so it is not
    # blamed: "config X created 25 min before …, then 22 min of traffic without a 5XX error".
    cleared_change: str = ""
    owner: IncidentOwnership | None = None
    runbook_url: str = ""
    # When the likely cause is the deploy the endpoint still runs: the config before it.
    rollback_to: str = ""
    # The endpoint's unresolved incident record, if the sync has opened one.
    incident: Incident | None = None

    @property
    def score(self) -> int:
        return sum(_WEIGHTS[s.kind] for s in self.signals)

    @property
    def since(self) -> datetime:
        """When the trouble started: the first symptom (an older violation or an
        unacknowledged shift does not make an incident that began minutes ago look old)."""
        return self.first_symptom.since

    @property
    def first_symptom(self) -> Signal:
        """The earliest signal that is a symptom (an alarm or a failure), else the earliest."""
        symptoms = [s for s in self.signals if s.kind in ("alarm", "failed", "stuck", "backlog")]
        return min(symptoms or self.signals, key=lambda s: s.since)


def runbook_url(endpoint: Endpoint) -> str:
    """The endpoint's runbook: its `runbook` tag, a per-endpoint setting, or the template.
    Only an http(s) URL is a runbook: a tag anyone can set must not become a script link."""
    tagged = next(
        (value for key, value in (endpoint.tags or {}).items() if key.lower() == "runbook"), ""
    )
    template = settings.OPSPORTAL_RUNBOOK_URL_TEMPLATE
    for candidate in (
        tagged,
        settings.OPSPORTAL_RUNBOOK_URLS.get(endpoint.name, ""),
        template.format(endpoint=endpoint.name, region=endpoint.region) if template else "",
    ):
        if is_web_url(candidate):
            return str(candidate).strip()
    return ""


def _entries(*, violating: list[EndpointViolations] | None = None) -> dict[int, BoardEntry]:
    entries: dict[int, BoardEntry] = {}

    def entry(endpoint: Endpoint) -> BoardEntry:
        return entries.setdefault(endpoint.pk, BoardEntry(endpoint=endpoint))

    firing = firing_alarms()
    endpoints = live_endpoints_by_key({(a.account_id, a.region, a.endpoint_name) for a in firing})
    for alarm in firing:
        endpoint = endpoints.get((alarm.account_id, alarm.region, alarm.endpoint_name))
        if endpoint is not None:
            since = alarm.state_updated_at or alarm.synced_at
            entry(endpoint).signals.append(Signal("alarm", f"{alarm.name} in ALARM", since))
    for problem in endpoint_problems(limit=None, kinds=("failed", "stuck")):
        endpoint = problem.endpoint
        if problem.kind == "failed":
            reason = endpoint.failure_reason or f"endpoint is {endpoint.status}"
            text = f"{endpoint.status}: {reason}"
        else:
            text = f"{endpoint.status} too long"
        entry(endpoint).signals.append(Signal(problem.kind, text, problem.since))
    for proposal in unacknowledged_emergencies():
        entry(proposal.endpoint).signals.append(
            Signal(
                "emergency",
                f"emergency {'shift' if proposal.is_traffic else 'change'} #{proposal.pk} "
                "awaits an Approver's acknowledgement",
                proposal.finished_at or proposal.created_at,
            )
        )
    for run in plans_for_board(since=timezone.now() - PLAN_ROLLBACK_SHOWN):
        proposal = run.proposal
        if run.status == "rolled_back":
            text = f"staged shift #{proposal.pk} rolled back: {run.outcome}"
            since = run.finished_at or proposal.updated_at
        else:
            text = f"staged shift #{proposal.pk} paused: {run.pause_reason}"
            since = proposal.updated_at
        entry(proposal.endpoint).signals.append(Signal("plan", text, since))
    for endpoint, text, since in backlog_signals():
        entry(endpoint).signals.append(Signal("backlog", text, since, timedelta(minutes=1)))
    if violating is None:
        violating = endpoints_with_violations(hours=24)
    for endpoint, text, since in violation_signals(violating):
        entry(endpoint).signals.append(Signal("violations", text, since))
    for incident in Incident.objects.filter(state__in=UNRESOLVED).select_related(
        "endpoint", "cause_event"
    ):
        if incident.endpoint_id not in entries:
            # Its symptoms have cleared, but nobody has resolved it: it stays on the board.
            cleared = incident.signals_cleared_at or incident.updated_at
            entry(incident.endpoint).signals.append(
                Signal(
                    "cleared",
                    f"symptoms cleared at {cleared:%H:%M} UTC; first was {incident.first_signal}",
                    incident.opened_at,
                )
            )
        entries[incident.endpoint_id].incident = incident
    return entries


def violation_signals(
    violating: list[EndpointViolations],
) -> list[tuple[Endpoint, str, datetime]]:
    """A signal for each endpoint whose Model Monitor runs reported violations."""
    found = []
    for item in violating:
        if item.endpoint is None or item.last_at is None:
            continue
        features = ", ".join(item.features[:5]) or "features"
        text = (
            f"{item.violations} Model Monitor violation{'s' if item.violations != 1 else ''} "
            f"in {item.executions} run{'s' if item.executions != 1 else ''} ({features})"
        )
        found.append((item.endpoint, text, item.last_at))
    return found


def backlog_signals() -> list[tuple[Endpoint, str, datetime]]:
    """A signal for each asynchronous endpoint whose requests pile up (see
    `backlog_symptom_since`), its text the numbers in words ("backlog 240 requests (up
    from 12), oldest 9 min, no instances running")."""
    endpoints = async_endpoints()
    if not endpoints:
        return []
    backlogs = endpoint_backlogs(endpoints=endpoints)
    oldest = settings.OPSPORTAL_BACKLOG_OLDEST_MINUTES * 60
    found = []
    for endpoint in endpoints:
        backlog = backlogs[endpoint.pk]
        since = backlog_symptom_since(backlog, oldest_seconds=oldest)
        if since is not None:
            found.append((endpoint, backlog.words, since))
    return found


def backlog_symptom_since(backlog: Backlog, *, oldest_seconds: int) -> datetime | None:
    """When an asynchronous endpoint's queue became a symptom, or None while it is not one.

    A queue is a symptom when it is longer now than at the start of the window and its
    oldest request has waited `oldest_seconds` (a queue that grows while answers come quickly is
    the endpoint doing its job), or when requests wait and no instance runs (nothing will
    answer them until it scales out, however young they are). It starts at the queue's low,
    or when capacity ran out, whichever came first."""
    starts = []
    rise = backlog.rise
    if rise is not None and (backlog.oldest_seconds or 0) >= oldest_seconds:
        starts.append(rise[0].at)
    if backlog.idle_since is not None:
        starts.append(backlog.idle_since)
    return min(starts) if starts else None


def likely_cause(*, endpoint: Endpoint, before: datetime, signal: str) -> LikelyCause | None:
    """The last successful write in the window before the first signal, in a line.

    A call on the endpoint itself (UpdateEndpoint, a weight change) wins over creating or
    deleting a config: a config changes nothing until an endpoint is pointed at it.
    """
    events = [
        e
        for e in endpoint_change_events(
            endpoint=endpoint, start=before - cause_window(), end=before, limit=50
        )
        if not e.failed
    ]
    on_endpoint = [e for e in events if e.endpoint_name == endpoint.name]
    candidates = on_endpoint or events
    if not candidates:
        return None
    event = candidates[0]
    minutes = max(0, int((before - event.event_time).total_seconds() // 60))
    what = deployed_changes(endpoint=endpoint, event=event) or describe_change(event)
    return LikelyCause(event=event, what=what, minutes_before=minutes, signal=signal)


# After an UpdateEndpoint the new fleet takes minutes to come up; the inventory sees the
# new config then. Look that far ahead for the state it produced.
DEPLOY_SETTLE = timedelta(minutes=30)


def deployed_changes(*, endpoint: Endpoint, event: TrailEvent) -> str:
    """What an UpdateEndpoint changed in the endpoint's variants (models, images, instance
    types), from the inventory's state before the call and the first state on its config:
    "variant B model tumor-model-v2 → tumor-model-v3" says more at 3 a.m. than a config
    name does."""
    if event.event_name != "UpdateEndpoint" or not event.endpoint_config_name:
        return ""
    states = deploy_states(
        endpoint=endpoint,
        config_name=event.endpoint_config_name,
        at=event.event_time,
        settle=DEPLOY_SETTLE,
    )
    if states is None:
        return ""
    before, after = states
    kinds = ("model", "image", "instance_type", "variant_added", "variant_removed")
    changes = [c.text for c in state_diff(before=before, after=after).changes if c.kind in kinds]
    return "; ".join(changes)


def describe_change(event: TrailEvent) -> str:
    """A write call in on-call words, when the snapshots cannot say what it changed."""
    if event.event_name == "UpdateEndpoint":
        return f"endpoint {event.endpoint_name} updated to config {event.endpoint_config_name}"
    if event.event_name == "UpdateEndpointWeightsAndCapacities":
        return f"weights changed ({'; '.join(requested_weights(event))})"
    if event.event_name == "CreateEndpointConfig":
        models = "; ".join(requested_models(event))
        return f"config {event.endpoint_config_name} created ({models})"
    return f"{event.event_name} on {event.endpoint_name or event.endpoint_config_name}"


def _ranked(entries: list[BoardEntry]) -> list[BoardEntry]:
    """Each entry with its owner, most urgent first."""
    owners = {
        o.endpoint_id: o
        for o in IncidentOwnership.objects.filter(
            endpoint_id__in=[e.endpoint.pk for e in entries], released_at__isnull=True
        ).select_related("owner")
    }
    for item in entries:
        item.owner = owners.get(item.endpoint.pk)
    entries.sort(key=lambda e: (-e.score, e.since))
    return entries


def _complete(entries: list[BoardEntry]) -> list[BoardEntry]:
    """Owner, runbook and likely cause for each entry, most urgent first."""
    for item in _ranked(entries):
        item.runbook_url = runbook_url(item.endpoint)
        first = item.first_symptom
        item.cause = fixed_cause(item.incident)
        if item.cause is None:
            found = likely_cause(
                endpoint=item.endpoint, before=first.since + first.within, signal=first.headline
            )
            healthy = served_well_after(endpoint=item.endpoint, cause=found, before=first.since)
            if found is not None and healthy >= settings.OPSPORTAL_CAUSE_HEALTHY_MINUTES:
                item.cleared_change = (
                    f"{found.what} {found.minutes_before} min before was followed by "
                    f"{healthy} min of traffic without a 5XX error"
                )
            else:
                item.cause = found
        item.rollback_to = rollback_target(endpoint=item.endpoint, cause=item.cause)
    return entries


def fixed_cause(incident: Incident | None) -> LikelyCause | None:
    """The cause an incident record fixed when it was found (not worked out again: the
    alarm that cleared after a mitigation must not make the deploy vanish from the card)."""
    if incident is None or incident.cause_event is None:
        return None
    parts = incident.cause_parts or {}
    return LikelyCause(
        event=incident.cause_event,
        what=str(parts.get("what", "")),
        minutes_before=int(parts.get("minutes_before", 0)),
        signal=str(parts.get("signal", "")),
    )


# Changes whose effect is not known at the call: a deploy's new fleet takes traffic only
# when the deployment ends, so minutes served during it say nothing about the new model.
_EFFECT_LATER = frozenset({"UpdateEndpoint"})


def served_well_after(*, endpoint: Endpoint, cause: LikelyCause | None, before: datetime) -> int:
    """Minutes between the change and the first symptom in which the endpoint served
    requests without a 5XX error (0 when unknown or not applicable). A change followed by
    OPSPORTAL_CAUSE_HEALTHY_MINUTES of them did not break it: an injected fault 25 minutes
    after a healthy CreateEndpoint is not the CreateEndpoint's doing. One cached
    GetMetricData per change and symptom (triage.impact.error_free_minutes)."""
    if cause is None or cause.event.event_name in _EFFECT_LATER:
        return 0
    after = cause.event.event_time + timedelta(minutes=1)  # the minute of the call is mixed
    return error_free_minutes(endpoint=endpoint, start=after, end=before) or 0


def rollback_target(*, endpoint: Endpoint, cause: LikelyCause | None) -> str:
    """The config to roll back to when the likely cause is an UpdateEndpoint to the config
    the endpoint still runs ("" otherwise: rolling back would not undo the cause)."""
    if cause is None or cause.event.event_name != "UpdateEndpoint":
        return ""
    if cause.event.endpoint_config_name != endpoint.config_name:
        return ""
    return previous_config(endpoint=endpoint)


def incident_board(*, violating: list[EndpointViolations] | None = None) -> list[BoardEntry]:
    """Endpoints that need attention now, most urgent first.

    `violating` is the last 24 hours' `endpoints_with_violations`, when the caller has
    read it already (the overview lists it too); else it is read here.
    """
    return _complete(list(_entries(violating=violating).values()))


def incidents_at_a_glance(*, violating: list[EndpointViolations]) -> list[BoardEntry]:
    """The board's entries with their owners, for the overview's card: it shows what is
    wrong and who has it, not the likely causes (a query or more per entry) or runbooks."""
    return _ranked(list(_entries(violating=violating).values()))


def board_entry(*, endpoint: Endpoint) -> BoardEntry | None:
    """One endpoint's entry, if it is on the board (the others' causes are not worked out)."""
    found = _entries().get(endpoint.pk)
    return _complete([found])[0] if found is not None else None


def current_owner(*, endpoint: Endpoint) -> IncidentOwnership | None:
    return (
        IncidentOwnership.objects.filter(endpoint=endpoint, released_at__isnull=True)
        .select_related("owner")
        .first()
    )
