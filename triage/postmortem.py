"""An incident as the skeleton of its post-mortem, in Markdown: what happened when, the
likely cause, what people did (state changes and change requests), and the impact read from
the metrics (errored requests and the minutes they fell in).

Names and notes are escaped (core.text.markdown_text) so that they read as typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.text import markdown_code as code
from core.text import markdown_text as md
from triage.models import Incident


@dataclass(frozen=True)
class Impact:
    """Errored requests over the incident, from CloudWatch (None when it could not be read)."""

    errors_5xx: int | None
    invocations: int | None
    bad_minutes: int | None
    note: str = ""


@dataclass(frozen=True)
class Action:
    """One thing a person did; `url` is the page of the change request it names (a path,
    so the incident page links it and the post-mortem gives it wherever the portal runs)."""

    at: datetime
    who: str
    what: str
    url: str = ""


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC" if at else "—"


def postmortem_markdown(
    *, incident: Incident, actions: list[Action], impact: Impact, now: datetime
) -> str:
    endpoint = incident.endpoint
    end = incident.resolved_at or now
    minutes = int((end - incident.opened_at).total_seconds() // 60)
    lines = [
        f"# Incident #{incident.pk}: {md(endpoint.name)} ({endpoint.region}, account "
        f"{endpoint.account_id})",
        "",
        f"- **State:** {incident.get_state_display()}",
        f"- **Opened:** {_when(incident.opened_at)} ({md(incident.first_signal)})",
        f"- **Resolved:** {_when(incident.resolved_at)}",
        f"- **Duration:** {minutes} min" + ("" if incident.resolved_at else " so far"),
        "",
        "## Impact",
        "",
    ]
    if impact.errors_5xx is None:
        lines.append(f"Not read from CloudWatch: {md(impact.note)}")
    else:
        lines.append(
            f"{impact.errors_5xx:,} requests answered with a 5XX error out of "
            f"{impact.invocations or 0:,}, in {impact.bad_minutes} minute"
            f"{'' if impact.bad_minutes == 1 else 's'} with errors."
        )
    lines += ["", "## Likely cause", ""]
    if incident.cause_text:
        lines.append(md(incident.cause_text))
        if incident.cause_note:
            lines.append(f"({md(incident.cause_note)})")
    else:
        lines.append("No change to the endpoint or its configs was found before it began.")
    lines += ["", "## Timeline", ""]
    for event in incident.events.all():
        note = f": {md(event.note)}" if event.note else ""
        lines.append(f"- {_when(event.at)} — {md(event.username)} — {event.action}{note}")
    lines += ["", "## Actions taken", ""]
    if actions:
        lines += [
            f"- {_when(a.at)} — {md(a.who)} — {md(a.what)}" + (f" ({code(a.url)})" if a.url else "")
            for a in actions
        ]
    else:
        lines.append("- None recorded in the portal.")
    lines += [
        "",
        "## What went well / what went wrong / follow-ups",
        "",
        "- ",
        "",
    ]
    return "\n".join(lines)
