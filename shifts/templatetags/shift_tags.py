"""Template helpers for shifts on pages this app does not render (endpoint tabs, overview)."""

from __future__ import annotations

from typing import Any

from django import template

from shifts import selectors

register = template.Library()


@register.inclusion_tag("shifts/partials/_emergency_banner.html")
def shift_emergency_banner(endpoint: Any) -> dict[str, Any]:
    """The red banner every endpoint tab shows until an emergency shift is acknowledged."""
    pk = getattr(endpoint, "pk", None)
    return {"emergency": selectors.unacknowledged_emergency(endpoint_id=pk) if pk else None}


@register.simple_tag
def pending_shift_count() -> int:
    return selectors.pending_count()


@register.filter
def change_summary(proposal: Any) -> str:
    """The change's one line (`CHANGES[type].summary`), for lists and banners."""
    return selectors.summary_of(proposal)


@register.filter
def change_noun(proposal: Any) -> str:
    """ "shift" for traffic, "change" for every other type."""
    return "shift" if getattr(proposal, "is_traffic", True) else "change"
