"""Telling people about traffic shifts: email through Django's backend and an optional
Slack-compatible webhook.

Runs in a Celery task after the transition has committed. A notification is a courtesy,
never part of the change: every failure is logged and swallowed, so a dead SMTP server or
webhook cannot hold up, fail or roll back a shift.
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
from shifts import selectors
from shifts.changes import change_summary
from shifts.models import ShiftProposal
from shifts.weights import shares

logger = logging.getLogger(__name__)

EVENTS = (
    "proposed",
    "approved",
    "rejected",
    "applied",
    "failed",
    "superseded",
    "expired",
    "emergency",
    "paused",
)


def _split(weights: dict[str, float]) -> str:
    return ", ".join(f"{name} {share:.1f} %" for name, share in shares(weights).items())


def _headline(proposal: ShiftProposal, event: str) -> str:
    who = proposal.proposer.get_username()
    last = proposal.events.order_by("-at", "-id").first()
    said = f": {last.comment}" if last and last.comment else ""
    by = f" by {last.username}" if last and last.username != "system" else ""
    needed = selectors.approvals_required()
    return {
        "proposed": f"proposed by {who}, waiting for {needed} approval(s) from someone else",
        "approved": f"approved{by}; applying now",
        "rejected": f"rejected{by}{said}",
        "applied": f"applied (AWS request {proposal.aws_request_id or 'unknown'})",
        "failed": proposal.error
        if proposal.is_plan and proposal.error.startswith("Rolled back")
        else f"FAILED: {proposal.error}",
        "paused": f"PAUSED{said}",
        "superseded": f"superseded{said}",
        "expired": f"expired{said}",
        "emergency": f"EMERGENCY {_noun(proposal).lower()} by {who}, applied at once "
        "without approval",
    }[event]


def _noun(proposal: ShiftProposal) -> str:
    if proposal.is_plan:
        return "Staged shift"
    return "Shift" if proposal.is_traffic else "Change"


def message(proposal: ShiftProposal, event: str) -> tuple[str, str]:
    """Subject and body, plain text (also the webhook's text)."""
    endpoint = proposal.endpoint
    subject = f"[Ops Portal] {_noun(proposal)} #{proposal.pk} on {endpoint.name}: {event}"
    link = f"{settings.OPSPORTAL_PUBLIC_URL}{reverse('shifts:detail', args=[proposal.pk])}"
    what = (
        f"Split: {_split(proposal.before_weights)} → {_split(proposal.desired_weights)}"
        if proposal.is_traffic
        else change_summary(proposal=proposal)
    )
    noun = "Traffic shift" if proposal.is_traffic else "Change"
    body = (
        f"{noun} #{proposal.pk} on {endpoint.name} "
        f"({endpoint.account_id}/{endpoint.region}) {_headline(proposal, event)}.\n"
        f"{what}\n"
        f"Reason: {proposal.reason}\n"
        f"{link}\n"
    )
    return subject, body


def recipients(proposal: ShiftProposal, event: str) -> list[str]:
    """Emergencies go to everyone; a new proposal to the Approvers who may act on it;
    every other outcome to the proposer."""
    if proposal.is_emergency:
        users = list(selectors.users_with_role(Role.VIEWER))
    elif event == "proposed":
        users = [
            u for u in selectors.users_with_role(Role.APPROVER) if u.pk != proposal.proposer_id
        ]
    else:
        users = [proposal.proposer]
    return sorted({u.email for u in users if u.email and u.is_active})


def shift_notify(*, proposal_id: int, event: str) -> dict[str, Any]:
    """Send the email(s) and the webhook message for one event; report what went out."""
    sent: dict[str, Any] = {"emails": 0, "webhook": False}
    proposal = ShiftProposal.objects.select_related("endpoint", "proposer").filter(pk=proposal_id)
    found = proposal.first()
    if found is None or event not in EVENTS:
        logger.warning("no notification for shift %s event %s", proposal_id, event)
        return sent
    try:
        subject, body = message(found, event)
        to = recipients(found, event)
    except Exception:
        logger.exception("could not compose the notification for shift %s", proposal_id)
        return sent
    if to:
        try:
            sent["emails"] = send_mass_mail(
                [(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in to],
                fail_silently=False,
            )
        except Exception as exc:
            logger.warning("email for shift %s (%s) failed: %s", proposal_id, event, exc)
    url = settings.OPSPORTAL_WEBHOOK_URL
    if url:
        try:
            post_json(url, {"text": slack_text(f"{subject}\n{body}")})
        except Exception as exc:
            logger.warning("webhook for shift %s (%s) failed: %s", proposal_id, event, exc)
        else:
            sent["webhook"] = True
    return sent
