"""An endpoint's timeline: everything that happened to it, from every source, in time order.

At 3 a.m. the question is "what changed before this started?", and the answer is spread
over CloudWatch alarms, CloudTrail, the portal's own traffic shifts, Model Monitor and the
inventory's state history. Each source here turns its rows into `Marker`s; the timeline is
their merge, newest first. Every source reads the database only (the beat tasks keep it
filled), so the page costs no AWS call but the one cached metrics query for the chart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.urls import reverse

from apihistory.links import rows_with_links
from apihistory.selectors import endpoint_change_events
from endpoints.selectors import endpoint_timeline as state_timeline
from endpoints.state_diff import Change
from monitoring.selectors import endpoint_alarms, executions_with_findings
from shifts.changes import change_summary
from shifts.selectors import outcome_events
from triage.wording import requested_models, requested_weights

if TYPE_CHECKING:
    from apihistory.models import TrailEvent
    from endpoints.models import Endpoint
    from monitoring.live.metrics import Panel
    from shifts.models import ShiftEvent


@dataclass(frozen=True)
class Marker:
    """One thing that happened, as the timeline and the incident summary show it."""

    time: datetime
    kind: str  # alarm | spike | change | shift | monitor | status | scaling
    title: str
    detail: str = ""
    who: str = ""
    url: str = ""
    severity: str = "info"  # info | warn | bad | ok
    logs_url: str = ""  # the containers' logs around the moment, for what went wrong

    def as_chart_point(self) -> dict[str, str]:
        return {
            "time": self.time.isoformat(),
            "kind": self.kind,
            "title": self.title,
            "who": self.who,
            "url": self.url or self.logs_url,
            "severity": self.severity,
        }


Source = Callable[["Endpoint", datetime, datetime], list[Marker]]


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def logs_between(endpoint: Endpoint, start: datetime, end: datetime, variant: str = "") -> str:
    """The Logs tab over [start, end) in whole UTC minutes, of one variant when given."""
    window = {
        "range": "custom",
        "start": f"{_minute(start):%Y-%m-%dT%H:%M}",
        "end": f"{_minute(end):%Y-%m-%dT%H:%M}",
    }
    if variant:
        window["variant"] = variant
    return f"{reverse('monitoring:endpoint_logs', args=[endpoint.pk])}?{urlencode(window)}"


def _minute(when: datetime) -> datetime:
    moment = when.astimezone(UTC) if when.tzinfo else when
    return moment.replace(second=0, microsecond=0)


def logs_around(endpoint: Endpoint, when: datetime) -> str:
    """The Logs tab over the minutes before `when` and its own: an alarm goes to ALARM
    after the bad minutes it judged, so their lines come first."""
    minute = _minute(when)
    return logs_between(endpoint, minute - timedelta(minutes=5), minute + timedelta(minutes=1))


# A 5XX spike: a period (one minute on ranges up to six hours, longer beyond) in which a
# production variant answered at least SPIKE_MIN_ERRORS requests with a 5XX, and at least
# SPIKE_MIN_RATE % of its requests, right after a period below that rate or without data.
SPIKE_MIN_ERRORS = 5
SPIKE_MIN_RATE = 5.0


def spike_markers(endpoint: Endpoint, panel: Panel) -> list[Marker]:
    """The periods where a variant's 5XX errors rose sharply, each linked to that
    variant's container logs of the period (where the tracebacks of the failed requests
    are). Read from the page's metrics panel, so they cost no AWS call of their own.

    A spike is the start of a bad stretch, not every bad minute in it: a variant failing
    for twenty minutes is marked once, where it began, and again only if it recovers
    and fails anew. Shadow variants are left out: their errors reach no caller."""
    production = {v.name for v in endpoint.variants.all() if not v.is_shadow}
    charts = {chart["id"]: chart for chart in panel.charts}
    if "invocations" not in charts or "errors5xx" not in charts:
        return []
    calls = {t["variant"]: t for t in charts["invocations"]["traces"]}
    period = timedelta(seconds=panel.period)
    markers = []
    for trace in charts["errors5xx"]["traces"]:
        variant = trace["variant"]
        counts = calls.get(variant)
        if variant not in production or counts is None:
            continue
        requests = dict(zip(counts["x"], counts["y"], strict=True))
        quiet_before = True
        for x, rate in zip(trace["x"], trace["y"], strict=True):
            served = requests.get(x) or 0
            errors = round(served * rate / 100) if rate is not None else 0
            spiking = rate is not None and errors >= SPIKE_MIN_ERRORS and rate >= SPIKE_MIN_RATE
            if spiking and quiet_before:
                start = datetime.fromisoformat(x)
                markers.append(
                    Marker(
                        time=start,
                        kind="spike",
                        title=f"5XX spike on {variant}: {errors:,} of {served:,.0f} requests "
                        f"({rate:.1f} %)",
                        detail=f"after a period under {SPIKE_MIN_RATE:g} % 5XX",
                        severity="bad",
                        logs_url=logs_between(endpoint, start, start + period, variant),
                    )
                )
            quiet_before = rate is None or rate < SPIKE_MIN_RATE
    return markers


def alarm_markers(endpoint: Endpoint, start: datetime, end: datetime) -> list[Marker]:
    """State changes of the endpoint's CloudWatch alarms (from their synced history)."""
    markers = []
    for alarm in endpoint_alarms(endpoint=endpoint):
        for item in alarm.history or []:
            when = _parse_time(item.get("time", ""))
            if when is None or not (start <= when < end):
                continue
            summary = item.get("summary", "")
            to_alarm = "to ALARM" in summary
            markers.append(
                Marker(
                    time=when,
                    kind="alarm",
                    title=f"{alarm.name}: {summary}",
                    detail=alarm.reason if to_alarm else "",
                    url=reverse("monitoring:endpoint_metrics", args=[endpoint.pk]),
                    severity="bad" if to_alarm else "ok" if "to OK" in summary else "warn",
                    logs_url=logs_around(endpoint, when) if to_alarm else "",
                )
            )
    return markers


def change_markers(endpoint: Endpoint, start: datetime, end: datetime) -> list[Marker]:
    """CloudTrail write calls on the endpoint and its configs, with who made them."""
    rows = rows_with_links(
        endpoint_change_events(endpoint=endpoint, start=start, end=end, limit=500)
    )
    markers = []
    for row in rows:
        event: TrailEvent = row.event
        via = f" (via portal: {row.portal.label})" if row.portal else ""
        markers.append(
            Marker(
                time=event.event_time,
                kind="change",
                title=f"{event.event_name}{' failed: ' + event.error_code if event.failed else ''}",
                detail=_change_detail(event) + via,
                who=f"{event.principal_name or 'unknown'} ({event.identity_type})",
                url=reverse("apihistory:detail", args=[event.pk]),
                severity="warn" if event.failed else "info",
            )
        )
    return markers


def _change_detail(event: TrailEvent) -> str:
    parts = [f"config {event.endpoint_config_name}"] if event.endpoint_config_name else []
    return "; ".join(parts + requested_weights(event) + requested_models(event))


def shift_markers(endpoint: Endpoint, start: datetime, end: datetime) -> list[Marker]:
    """The portal's traffic shifts that reached AWS or failed to."""
    markers = []
    for shift_event in outcome_events(endpoint_id=endpoint.pk, start=start, end=end):
        proposal = shift_event.proposal
        emergency = proposal.is_emergency
        if proposal.is_plan:
            markers.append(plan_marker(shift_event))
            continue
        if proposal.is_traffic:
            noun = "Emergency shift" if emergency else "Traffic shift"
            weights = ", ".join(f"{n} {w:g}" for n, w in (proposal.desired_weights or {}).items())
            what = f"weights {weights}"
        else:
            noun = "Emergency change" if emergency else "Change"
            what = change_summary(proposal=proposal)
        markers.append(
            Marker(
                time=shift_event.at,
                kind="shift",
                title=f"{noun} #{proposal.pk} {shift_event.to_state}",
                detail=f"{what}; reason: {proposal.reason}",
                who=proposal.proposer.get_username(),
                url=reverse("shifts:detail", args=[proposal.pk]),
                severity="bad" if shift_event.to_state == "failed" else "ok",
            )
        )
    return markers


def plan_marker(shift_event: ShiftEvent) -> Marker:
    """A staged shift's step going live, its pause, its promotion or its rollback, in the
    runner's own words (a rollback's carry the failed gate's numbers)."""
    proposal = shift_event.proposal
    step = (shift_event.detail or {}).get("step")
    if shift_event.action == "plan.live":
        title, severity = f"Staged shift #{proposal.pk}: step {step} live", "info"
    elif shift_event.action == "plan.pause":
        title, severity = f"Staged shift #{proposal.pk} paused at step {step}", "warn"
    elif shift_event.to_state == "applied":
        title, severity = f"Staged shift #{proposal.pk} promoted", "ok"
    elif proposal.error.startswith("Rolled back"):
        title, severity = f"Staged shift #{proposal.pk} rolled back", "bad"
    else:
        title, severity = f"Staged shift #{proposal.pk} {shift_event.to_state}", "bad"
    return Marker(
        time=shift_event.at,
        kind="shift",
        title=title,
        detail=shift_event.comment,
        who="portal" if shift_event.username == "system" else shift_event.username,
        url=reverse("shifts:detail", args=[proposal.pk]),
        severity=severity,
    )


def state_markers(endpoint: Endpoint, start: datetime, end: datetime) -> list[Marker]:
    """What the inventory saw change: status changes, instance counts (autoscaling or a
    person), and config/model/weight changes, each from the snapshot diff."""
    markers = []
    for entry in state_timeline(endpoint=endpoint, start=start, end=end):
        if entry.diff.before is None:
            continue  # the first state the portal saw: nothing changed, it was just found
        changes = entry.diff.changes
        url = reverse("triage:what_changed", args=[endpoint.pk])
        statuses = [c for c in changes if c.kind == "status"]
        counts = [c for c in changes if c.kind == "instance_count"]
        rest = [c for c in changes if c.kind not in ("status", "instance_count", "share")]
        when = entry.snapshot.observed_at
        for change in statuses:
            markers.append(
                Marker(
                    time=when,
                    kind="status",
                    title=f"status {change.before} → {change.after}",
                    url=url,
                    severity="bad"
                    if change.after in ("Failed", "UpdateRollbackFailed")
                    else "info",
                )
            )
        if counts:
            markers.append(
                Marker(
                    time=when,
                    kind="scaling",
                    title=_scaling_title(counts),
                    detail="; ".join(c.text for c in counts),
                    url=url,
                )
            )
        if rest:
            markers.append(
                Marker(
                    time=when,
                    kind="status",
                    title="state changed",
                    detail="; ".join(c.text for c in rest),
                    url=url,
                )
            )
    return markers


def _scaling_title(counts: list[Change]) -> str:
    """ "scale out", "scale in", or both when variants moved different ways."""
    directions = set()
    for change in counts:
        try:
            before, after = int(change.before), int(change.after)
        except ValueError:
            continue
        directions.add("out" if after > before else "in")
    if directions == {"out"}:
        return "scale out"
    if directions == {"in"}:
        return "scale in"
    return "instance count changed"


def monitor_markers(endpoint: Endpoint, start: datetime, end: datetime) -> list[Marker]:
    """Model Monitor runs that reported violations or failed (clean runs are not news)."""
    executions = executions_with_findings(endpoint=endpoint, start=start, end=end)
    url = reverse("monitoring:endpoint_monitoring", args=[endpoint.pk])
    markers = []
    for execution in executions:
        if execution.status == "Failed":
            title, detail, severity = "monitoring run failed", execution.failure_reason, "warn"
        else:
            features = sorted({v.feature_name for v in execution.violations.all()})
            title = f"{execution.violation_count} monitoring violation(s)"
            detail, severity = ", ".join(features[:8]), "warn"
        markers.append(
            Marker(
                time=execution.scheduled_time,
                kind="monitor",
                title=f"{execution.schedule.name}: {title}",
                detail=detail,
                url=f"{url}?execution={execution.pk}#violations",
                severity=severity,
            )
        )
    return markers


SOURCES: list[Source] = [
    alarm_markers,
    change_markers,
    shift_markers,
    state_markers,
    monitor_markers,
]


def endpoint_timeline(*, endpoint: Endpoint, start: datetime, end: datetime) -> list[Marker]:
    """Every marker of every source in [start, end), newest first."""
    markers: list[Marker] = []
    for source in SOURCES:
        markers.extend(source(endpoint, start, end))
    markers.sort(key=lambda m: m.time, reverse=True)
    return markers
