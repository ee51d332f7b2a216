"""The endpoint pages' tabs, the panels other apps register for them, and when the
inventory last read an endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from core.models import SyncKind
from core.sync_status import sync_status
from endpoints import policy
from endpoints.registry import panels_for, tabs_for

register = template.Library()


@register.inclusion_tag("endpoints/partials/_tabs.html", takes_context=True)
def endpoint_tabs(context: template.Context, endpoint: Any) -> dict[str, Any]:
    """The tab bar, the current tab (the view's `tab`) marked."""
    user = context.get("user")
    current = context.get("tab", "")
    return {
        "tabs": [
            {
                "key": tab.key,
                "label": tab.label,
                "url": reverse(tab.url_name, args=[endpoint.pk]),
                "current": tab.key == current,
            }
            for tab in tabs_for(user, endpoint)
        ]
    }


@register.simple_tag(takes_context=True)
def endpoint_panels(context: template.Context, endpoint: Any, slot: str) -> SafeString:
    """Every panel registered for `slot`, rendered in order (each escapes its own data)."""
    user = context.get("user")
    request = context.get("request")
    parts = []
    for panel in panels_for(slot):
        extra = panel.context(endpoint, user)
        if extra is None:
            continue
        page: dict[str, Any] = {str(key): value for key, value in context.flatten().items()}
        page.update(endpoint=endpoint, **extra)
        parts.append(render_to_string(panel.template, page, request))
    return mark_safe("".join(parts))  # noqa: S308 - each part is a rendered, escaped template


@register.simple_tag(takes_context=True)
def endpoint_may(context: template.Context, action: str) -> bool:
    """Whether the signed-in user may do `action` (endpoints.policy) to an endpoint:
    `{% endpoint_may "refresh" as can_refresh %}`."""
    return policy.refusal_for(action, context.get("user")) is None


@register.simple_tag
def endpoint_read_at(endpoint: Any) -> datetime | None:
    """When the inventory last read the endpoint's region: the endpoint's own `synced_at`
    moves only when it changed (the sync describes only what changed), so "synced" from it
    would call a minute-old read an hour old."""
    status = sync_status(kind=SyncKind.INVENTORY, target=endpoint.target, region=endpoint.region)
    if status is None or status.last_success_at is None:
        return None
    return max(status.last_success_at, endpoint.synced_at)
