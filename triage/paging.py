"""Paging on-call about incidents: by email, to the Slack-compatible webhook, and through
PagerDuty's Events API v2 (one dedup key per incident, so PagerDuty's own incident follows
the portal's: triggered when it opens, reopens or has had no owner too long, acknowledged,
resolved).

Runs in a Celery task after the change has committed. Paging is a courtesy to people, never
part of the incident's record: every channel's failure is logged and swallowed, so a dead
SMTP server cannot hold up the sync or a person's click.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.urls import reverse

from core.roles import Role
from core.text import slack_text
from core.webhooks import post_json
from shifts.selectors import users_with_role
from triage.models import Incident

logger = logging.getLogger(__name__)

EVENTS = ("opened", "reopened", "unowned", "acknowledged", "mitigated", "resolved")
# PagerDuty's event action per portal event (mitigated changes nothing there: it is still
# someone's until resolved).
PAGERDUTY_ACTIONS = {
    "opened": "trigger",
    "reopened": "trigger",
    "unowned": "trigger",
    "acknowledged": "acknowledge",
    "resolved": "resolve",
}


def dedup_key(incident: Incident) -> str:
    return f"opsportal-incident-{incident.pk}"


def _link(incident: Incident) -> str:
    return f"{settings.OPSPORTAL_PUBLIC_URL}{reverse('triage:incident', args=[incident.pk])}"


def message(incident: Incident, event: str) -> tuple[str, str]:
    """Subject and body, plain text (also the webhook's text)."""
    endpoint = incident.endpoint
    headline = {
        "opened": "opened",
        "reopened": "REOPENED: the symptoms came back",
        "unowned": f"has had no owner for {settings.OPSPORTAL_PAGE_UNOWNED_MINUTES} min",
        "acknowledged": "acknowledged",
        "mitigated": "mitigated",
        "resolved": "resolved",
    }[event]
    last = incident.events.order_by("-at", "-id").first()
    said = f"\n{last.username}: {last.note}" if last and last.note and event != "opened" else ""
    subject = f"[Ops Portal] Incident #{incident.pk} on {endpoint.name} {headline}"
    body = (
        f"Incident #{incident.pk} on {endpoint.name} ({endpoint.account_id}/{endpoint.region}) "
        f"{headline}.\nFirst signal: {incident.first_signal}\n"
        f"Likely cause: {incident.cause_text or 'no change found before it began'}{said}\n"
        f"{_link(incident)}\n"
    )
    return subject, body


def pagerduty_event(incident: Incident, event: str) -> dict[str, Any] | None:
    """The Events API v2 document for the event, or None when PagerDuty has nothing to do."""
    action = PAGERDUTY_ACTIONS.get(event)
    if action is None:
        return None
    document: dict[str, Any] = {
        "routing_key": settings.OPSPORTAL_PAGERDUTY_ROUTING_KEY,
        "event_action": action,
        "dedup_key": dedup_key(incident),
    }
    if action == "trigger":
        endpoint = incident.endpoint
        document["payload"] = {
            "summary": message(incident, event)[0].removeprefix("[Ops Portal] ")[:1024],
            "source": endpoint.arn or endpoint.name,
            "severity": "critical" if event != "unowned" else "error",
            "component": endpoint.name,
            "group": f"{endpoint.account_id}/{endpoint.region}",
            "custom_details": {
                "first_signal": incident.first_signal,
                "likely_cause": incident.cause_text,
            },
        }
        document["links"] = [{"href": _link(incident), "text": f"Incident #{incident.pk}"}]
    return document


def recipients() -> list[str]:
    if settings.OPSPORTAL_ONCALL_EMAILS:
        return sorted(set(settings.OPSPORTAL_ONCALL_EMAILS))
    return sorted({u.email for u in users_with_role(Role.OPERATOR) if u.email and u.is_active})


def incident_page(*, incident_id: int, event: str) -> dict[str, Any]:
    """Send the event on every configured channel; report what went out."""
    sent: dict[str, Any] = {"emails": 0, "webhook": False, "pagerduty": False}
    incident = Incident.objects.select_related("endpoint").filter(pk=incident_id).first()
    if incident is None or event not in EVENTS:
        logger.warning("no page for incident %s event %s", incident_id, event)
        return sent
    subject, body = message(incident, event)
    to = recipients()
    if to:
        try:
            sent["emails"] = send_mass_mail(
                [(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in to],
                fail_silently=False,
            )
        except Exception as exc:
            logger.warning("email for incident %s (%s) failed: %s", incident_id, event, exc)
    if settings.OPSPORTAL_WEBHOOK_URL:
        try:
            post_json(settings.OPSPORTAL_WEBHOOK_URL, {"text": slack_text(f"{subject}\n{body}")})
        except Exception as exc:
            logger.warning("webhook for incident %s (%s) failed: %s", incident_id, event, exc)
        else:
            sent["webhook"] = True
    document = pagerduty_event(incident, event)
    if settings.OPSPORTAL_PAGERDUTY_ROUTING_KEY and document is not None:
        try:
            post_json(settings.OPSPORTAL_PAGERDUTY_URL, document)
        except Exception as exc:
            logger.warning("PagerDuty for incident %s (%s) failed: %s", incident_id, event, exc)
        else:
            sent["pagerduty"] = True
    return sent
