"""Template tags and filters every page uses: exact, short ages ("42 s ago"), times in
UTC, and the coloured pill every status, state and outcome is shown in."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

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
def stamp(value: datetime | None, precision: str = "seconds") -> str:
    """A time in UTC as `2026-12-04 15:20:19`, wrapping only between the date and the time:
    a narrow table cell would otherwise break the date at a hyphen. Copied, it is the same
    text as before; `precision="minutes"` drops the seconds."""
    if not isinstance(value, datetime):
        return "–"
    if timezone.is_aware(value):
        value = value.astimezone(UTC)
    clock = value.strftime("%H:%M" if precision == "minutes" else "%H:%M:%S")
    return format_html(
        '<time class="stamp" datetime="{}"><span>{}</span> <span>{}</span></time>',
        value.isoformat(),
        value.strftime("%Y-%m-%d"),
        clock,
    )


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
def us_ms(value: float | None) -> str:
    """Microseconds (SageMaker's unit for ModelLatency and OverheadLatency) in milliseconds."""
    return ms(None if value is None else float(value) / 1000.0)


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


# The one place a status, state or outcome gets its colour. Keys are the values as AWS or
# the portal spell them; anything not listed is neutral grey.
PILL_TONES: dict[str, str] = {
    **dict.fromkeys(
        ("InService", "Completed", "Scheduled", "OK", "Ready", "applied", "completed", "ok"),
        "ok",
    ),
    **dict.fromkeys(
        (
            "Failed",
            "UpdateRollbackFailed",
            "OutOfService",
            "CompletedWithViolations",
            "Stopped",
            "ALARM",
            "failed",
            "rejected",
            "bad",
        ),
        "bad",
    ),
    **dict.fromkeys(
        (
            "Creating",
            "Updating",
            "SystemUpdating",
            "RollingBack",
            "Deleting",
            "InProgress",
            "Stopping",
            "Pending",
            "INSUFFICIENT_DATA",
            "pending",
            "approved",
            "applying",
            "running",
            "denied",
            "warn",
        ),
        "warn",
    ),
}


@register.filter
def pill_tone(value: object) -> str:
    """ "ok", "bad", "warn" or "" for a status, state or outcome."""
    return PILL_TONES.get(str(value), "")


@register.simple_tag
def pill(
    value: object,
    *,
    tone: str | None = None,
    label: object = None,
    testid: str = "",
    title: str = "",
) -> SafeString:
    """`{% pill endpoint.status %}`: the value in a pill coloured by `PILL_TONES`.

    `tone` overrides the colour (a value that means different things in different places,
    e.g. a completed check with violations), `label` the text shown.
    """
    chosen = pill_tone(value) if tone is None else tone
    css = f"pill pill-{chosen}" if chosen else "pill"
    text = value if label is None else label
    if testid and title:
        return format_html(
            '<span class="{}" data-testid="{}" title="{}">{}</span>', css, testid, title, text
        )
    if testid:
        return format_html('<span class="{}" data-testid="{}">{}</span>', css, testid, text)
    if title:
        return format_html('<span class="{}" title="{}">{}</span>', css, title, text)
    return format_html('<span class="{}">{}</span>', css, text)


@register.filter
def section(path: str) -> str:
    """The main-menu section a page belongs to: the first segment of its path, so every
    endpoint tab counts as Endpoints whichever app renders it."""
    return str(path).strip("/").split("/", 1)[0]
