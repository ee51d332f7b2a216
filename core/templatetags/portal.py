"""Template filters for on-call reading: exact, short ages ("42 s ago")."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def ago(value: datetime | None) -> str:
    """How long ago, to the second under a minute: "synced 0 minutes ago" hides a stall."""
    if not isinstance(value, datetime):
        return "never"
    seconds = max(0, int((timezone.now() - value).total_seconds()))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min ago"
    return f"{seconds // 86400} d ago"


@register.filter
def signed(value: float | None, digits: str = "1") -> str:
    """A difference with its sign, e.g. +1.5 or -0.3."""
    if value is None:
        return "–"
    return f"{float(value):+.{int(digits)}f}"


@register.filter
def ms(value: float | None) -> str:
    """Milliseconds with the precision a latency needs: 0.048 ms, 3.21 ms, 512.3 ms."""
    if value is None:
        return "–"
    value = float(value)
    digits = 3 if abs(value) < 1 else 2 if abs(value) < 10 else 1
    return f"{value:.{digits}f} ms"


@register.filter
def isotime(value: str | None) -> str:
    """An ISO timestamp stored in JSON, shown like every other time: 2026-11-27 16:15:22 UTC."""
    if not value:
        return "–"
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return f"{parsed:%Y-%m-%d %H:%M:%S} UTC"


@register.filter
def compact_json(value: object) -> str:
    """A request parameter as one short line: scalars as they are, structures as JSON."""
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, separators=(", ", ": "), sort_keys=True, default=str)
    return text if len(text) <= 300 else text[:299] + "…"
