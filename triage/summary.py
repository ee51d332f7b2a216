"""The Markdown summary an on-call engineer pastes into the incident channel.

What is wrong, since when, the impact, what changed before it, and what has been done —
built from the same board entry and timeline the pages show, so the channel hears exactly
what the portal knows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from core.text import duration, readable_numbers
from core.text import markdown_text as md
from triage.board import BoardEntry
from triage.timeline import Marker, endpoint_timeline

# The summary looks back this far before the first signal for changes.
LOOKBACK = timedelta(hours=2)


def _hm(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def incident_summary(*, entry: BoardEntry, now: datetime | None = None) -> str:
    now = now or timezone.now()
    endpoint = entry.endpoint
    since = entry.since
    minutes = int((now - since).total_seconds() // 60)
    markers = endpoint_timeline(endpoint=endpoint, start=since - LOOKBACK, end=now)
    changes = [m for m in markers if m.kind == "change" and m.time <= since]
    actions = [m for m in markers if m.kind == "shift" and m.time >= since]
    alarms = [m for m in markers if m.kind == "alarm"]
    lines = [
        f"**{md(endpoint.name)}** ({endpoint.region}, account {endpoint.account_id}) — "
        f"since {_hm(since)} ({duration(minutes * 60)})",
        "",
        "**What**",
        *(
            f"- {md(readable_numbers(s.text))} "
            f"({'last at' if s.kind == 'violations' else 'since'} {_hm(s.since)})"
            for s in entry.signals
        ),
    ]
    if entry.cause is not None:
        lines += ["", "**Likely cause**", f"- {md(entry.cause.text)}"]
    lines += ["", "**Impact**"]
    impact = [m for m in alarms if m.severity == "bad"]
    if impact:
        lines += [
            f"- {_line(m)}{': ' + md(readable_numbers(m.detail)) if m.detail else ''}"
            for m in impact[:5]
        ]
    else:
        lines.append("- no alarm in ALARM (see the signals above)")
    lines += ["", f"**Changes in the {int(LOOKBACK.total_seconds() // 3600)} h before**"]
    lines += [
        f"- {_line(m)} by {md(m.who)}{' — ' + md(m.detail) if m.detail else ''}" for m in changes
    ]
    if not changes:
        lines.append("- none recorded by CloudTrail")
    lines += ["", "**Actions taken**"]
    if entry.owner is not None:
        lines.append(
            f"- {_hm(entry.owner.taken_at)} {md(entry.owner.owner.get_username())} took "
            f"ownership: {md(entry.owner.note)}"
        )
    lines += [
        f"- {_line(m)} by {md(m.who)} — {md(m.detail)}"
        for m in sorted(actions, key=lambda m: m.time)
    ]
    if entry.owner is None and not actions:
        lines.append("- none yet")
    if entry.runbook_url:
        lines += ["", f"Runbook: <{entry.runbook_url}>"]
    return "\n".join(lines) + "\n"


def _line(marker: Marker) -> str:
    return f"{marker.time:%H:%M} {md(marker.title)}"
