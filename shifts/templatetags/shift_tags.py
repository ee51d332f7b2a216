"""Template helpers for shifts on pages this app does not render (endpoint tabs, overview)."""

from __future__ import annotations

from typing import Any

from django import template

from shifts import selectors

register = template.Library()

_PILLS = {
    "applied": "pill-ok",
    "failed": "pill-bad",
    "rejected": "pill-bad",
    "pending": "pill-warn",
    "approved": "pill-warn",
    "applying": "pill-warn",
}


@register.filter
def state_pill(state: str) -> str:
    """The pill colour class for a shift state (terminal non-outcomes stay grey)."""
    return _PILLS.get(str(state), "")


@register.inclusion_tag("shifts/partials/_emergency_banner.html")
def shift_emergency_banner(endpoint: Any) -> dict[str, Any]:
    """The red banner every endpoint tab shows until an emergency shift is acknowledged."""
    pk = getattr(endpoint, "pk", None)
    return {"emergency": selectors.unacknowledged_emergency(endpoint_id=pk) if pk else None}


@register.simple_tag
def pending_shift_count() -> int:
    return selectors.pending_count()
