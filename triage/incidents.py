"""Incidents as records: opened by the sync at an endpoint's first symptom, moved along
open → acknowledged → mitigated → resolved by people, kept afterwards.

The board (`board.py`) says what is wrong now; an incident remembers. The beat sync
(`incidents_sync`) compares the two: an endpoint with a symptom and no unresolved incident
gets one (opened at the symptom's time, with the likely cause the board found, fixed from
then on); an incident whose endpoint left the board is marked "symptoms cleared" (it stays
until someone resolves it: an alarm that clears because the bad variant now gets no traffic
has not fixed the model); symptoms that come back are recorded, and reopen a mitigated one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import audit_record, enforce
from core.errors import Conflict, Invalid
from core.queue import enqueue_on_commit
from triage import board, policy, tasks
from triage.models import (
    INCIDENT_TRANSITIONS,
    UNRESOLVED,
    Incident,
    IncidentEvent,
    IncidentOwnership,
    IncidentState,
)

if TYPE_CHECKING:
    from triage.board import BoardEntry

# Signals that make an incident: customer-facing symptoms (an asynchronous endpoint's
# growing queue among them) and a staged shift's automatic rollback or troubled pause.
# Drift and unacknowledged emergencies need attention, not an incident of their own.
INCIDENT_KINDS = ("alarm", "failed", "stuck", "backlog", "plan")
# Signals whose text carries numbers that change at every sync: one row each, its text the
# latest, rather than a row per number seen.
MOVING_KINDS = ("backlog",)
MAX_NOTE = 2000
# The moves people make (reopening is the sync's, when symptoms come back), and the ones
# that need a note saying what was done.
PEOPLE_MOVES = (IncidentState.ACKNOWLEDGED, IncidentState.MITIGATED, IncidentState.RESOLVED)
NOTE_REQUIRED = (IncidentState.MITIGATED, IncidentState.RESOLVED)


@dataclass
class IncidentSyncReport:
    opened: int = 0
    updated: int = 0
    cleared: int = 0
    paged_unowned: int = 0


def page(incident: Incident, event: str) -> None:
    """Tell on-call (email, webhook, PagerDuty) once the change has committed."""
    enqueue_on_commit(tasks.incident_page_task, incident.pk, event)


def _event(
    incident: Incident,
    *,
    action: str,
    now: datetime,
    note: str = "",
    actor: Any = None,
    source: str = "",
) -> None:
    IncidentEvent.objects.create(
        incident=incident,
        at=now,
        actor=actor if getattr(actor, "pk", None) else None,
        username=actor.get_username() if actor is not None else "portal",
        action=action,
        from_state=source,
        to_state=incident.state,
        note=note,
    )


def _signal_rows(entry: BoardEntry, known: list[dict[str, Any]], now: datetime) -> list[Any]:
    """Every signal the incident has seen, each with when it was last seen."""

    def key(kind: str, text: str) -> tuple[str, str]:
        return (kind, "" if kind in MOVING_KINDS else text)

    rows = {key(row["kind"], row["text"]): dict(row) for row in known}
    for signal in entry.signals:
        row = rows.setdefault(
            key(signal.kind, signal.text),
            {"kind": signal.kind, "text": signal.text, "since": signal.since.isoformat()},
        )
        row["text"] = signal.text
        row["last_seen"] = now.isoformat()
    return list(rows.values())


def _fix_cause(incident: Incident, entry: BoardEntry, now: datetime, *, note: str) -> None:
    cause = entry.cause
    if cause is None:
        return
    incident.cause_event = cause.event
    incident.cause_text = cause.text
    incident.cause_parts = {
        "what": cause.what,
        "minutes_before": cause.minutes_before,
        "signal": cause.signal,
    }
    incident.cause_found_at = now
    incident.cause_note = note
    _event(incident, action="cause", now=now, note=f"{note}: {cause.text}")


def _open(entry: BoardEntry, now: datetime) -> Incident | None:
    first = entry.first_symptom
    incident = Incident(
        endpoint=entry.endpoint,
        opened_at=first.since,
        first_signal=first.text,
        signals=_signal_rows(entry, [], now),
        last_signal_at=now,
        updated_at=now,
    )
    try:
        with transaction.atomic():
            incident.save(force_insert=True)
            _event(incident, action="open", now=now, note=first.text)
            _fix_cause(incident, entry, now, note="Found when the incident opened")
            incident.save()
            page(incident, "opened")
            audit_record(
                actor=None,
                action="incident.open",
                target=entry.endpoint.arn,
                after={"incident": incident.pk, "signal": first.text, "cause": incident.cause_text},
            )
    except IntegrityError:
        return None  # another sync opened it at the same moment
    return incident


def _still_on(incident: Incident, entry: BoardEntry, now: datetime) -> None:
    incident.signals = _signal_rows(entry, incident.signals, now)
    incident.last_signal_at = now
    if incident.signals_cleared_at is not None:
        incident.signals_cleared_at = None
        _event(incident, action="symptoms back", now=now, note=entry.first_symptom.text)
        if incident.state == IncidentState.MITIGATED:
            source = incident.state
            incident.state = IncidentState.OPEN
            _event(
                incident,
                action="reopen",
                now=now,
                source=source,
                note="The symptoms came back after it was mitigated.",
            )
            page(incident, "reopened")
    if not incident.cause_text and entry.cause is not None:
        minutes = int((now - incident.opened_at).total_seconds() // 60)
        _fix_cause(
            incident,
            entry,
            now,
            note=f"Found {minutes} min after the incident opened (CloudTrail had not yet "
            "delivered the change)",
        )
    incident.updated_at = now
    incident.save()


def incidents_sync(*, now: datetime | None = None) -> IncidentSyncReport:
    """Open, update and mark cleared the incidents against the board as it is now."""
    now = now or timezone.now()
    report = IncidentSyncReport()
    unresolved = {
        i.endpoint_id: i
        for i in Incident.objects.filter(state__in=UNRESOLVED).select_related("endpoint")
    }
    for entry in board.incident_board():
        if not any(s.kind in INCIDENT_KINDS for s in entry.signals):
            continue
        incident = unresolved.pop(entry.endpoint.pk, None)
        if incident is None:
            report.opened += _open(entry, now) is not None
            continue
        with transaction.atomic():
            locked = Incident.objects.select_for_update().get(pk=incident.pk)
            if locked.state in UNRESOLVED:
                _still_on(locked, entry, now)
                report.updated += 1
    report.paged_unowned = _page_unowned(now)
    for incident in unresolved.values():
        if incident.signals_cleared_at is not None:
            continue
        with transaction.atomic():
            locked = Incident.objects.select_for_update().get(pk=incident.pk)
            if locked.state in UNRESOLVED and locked.signals_cleared_at is None:
                locked.signals_cleared_at = now
                locked.updated_at = now
                locked.save()
                _event(
                    locked,
                    action="symptoms cleared",
                    now=now,
                    note="No alarm in ALARM, failure, growing queue or troubled plan on the "
                    "board any more; resolve it once the cause is dealt with.",
                )
                report.cleared += 1
    return report


def _page_unowned(now: datetime) -> int:
    """Page once about each open incident nobody has taken for OPSPORTAL_PAGE_UNOWNED_MINUTES."""
    due = now - timedelta(minutes=settings.OPSPORTAL_PAGE_UNOWNED_MINUTES)
    owned = set(
        IncidentOwnership.objects.filter(released_at__isnull=True).values_list(
            "endpoint_id", flat=True
        )
    )
    paged = 0
    for incident in Incident.objects.filter(
        state=IncidentState.OPEN, opened_at__lte=due, paged_unowned_at__isnull=True
    ).exclude(endpoint_id__in=owned):
        with transaction.atomic():
            incident.paged_unowned_at = now
            incident.save(update_fields=["paged_unowned_at"])
            _event(
                incident,
                action="paged",
                now=now,
                note=f"Nobody had taken it {settings.OPSPORTAL_PAGE_UNOWNED_MINUTES} min after "
                "it opened.",
            )
            page(incident, "unowned")
        paged += 1
    return paged


def incident_move(
    *,
    incident_id: int,
    actor: Any,
    to: str,
    note: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Incident:
    """Acknowledge, mitigate or resolve (Operator and above; audited, refusals too).
    Mitigating and resolving need a note saying what was done."""
    now = now or timezone.now()
    incident = Incident.objects.select_related("endpoint").filter(pk=incident_id).first()
    if incident is None:
        raise Invalid("No such incident.")
    enforce(
        policy.refusal_for("move", actor),
        actor=actor,
        action=f"incident.{to}",
        target=incident.endpoint.arn,
        request=request,
    )
    if to not in PEOPLE_MOVES:
        raise Invalid("An incident is acknowledged, mitigated or resolved.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise Invalid(f"Keep the note under {MAX_NOTE} characters.")
    if to in NOTE_REQUIRED and not note:
        raise Invalid(
            f"Say what was done: a {IncidentState(to).label.lower()} incident needs a note."
        )
    with transaction.atomic():
        incident = (
            Incident.objects.select_for_update().select_related("endpoint").get(pk=incident_id)
        )
        source = incident.state
        if to not in INCIDENT_TRANSITIONS[source]:
            raise Conflict(f"Incident #{incident.pk} is {source}; it cannot become {to}.")
        incident.state = to
        setattr(incident, f"{to}_at", now)
        incident.updated_at = now
        incident.save()
        _event(incident, action=to, now=now, note=note, actor=actor, source=source)
        page(incident, to)
        audit_record(
            actor=actor,
            action=f"incident.{to}",
            target=incident.endpoint.arn,
            before={"incident": incident.pk, "state": source},
            after={"incident": incident.pk, "state": to, "note": note},
            request=request,
        )
    return incident


def next_moves(incident: Incident) -> list[str]:
    """The moves a person may make from the incident's state, in lifecycle order."""
    allowed = INCIDENT_TRANSITIONS[incident.state]
    return [str(move) for move in PEOPLE_MOVES if move in allowed]
