"""The address a request came from, as sign-in limits and the audit log see it.

Directly connected, it is the connection's address. Behind the portal's own proxies (a load
balancer terminating TLS: OPSPORTAL_BEHIND_PROXY), every connection comes from a proxy, and
the client's address is the one the outermost trusted proxy appended to X-Forwarded-For:
OPSPORTAL_PROXY_HOPS entries from the right. Entries further left were written by the
client and prove nothing, so they are never used.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(raw: str) -> str | None:
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address, normalised; None when there is no trustworthy one."""
    if settings.OPSPORTAL_BEHIND_PROXY:
        hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= settings.OPSPORTAL_PROXY_HOPS:
            return _valid(hops[-settings.OPSPORTAL_PROXY_HOPS])
        return None
    return _valid(request.META.get("REMOTE_ADDR", ""))
