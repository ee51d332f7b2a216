"""What shifts show on the endpoint pages (registered in ShiftsConfig.ready)."""

from __future__ import annotations

from typing import Any

from shifts import policy, selectors


def emergency_banner(endpoint: Any, user: Any) -> dict[str, Any] | None:
    """The red banner on every endpoint tab until an emergency shift is acknowledged."""
    emergency = selectors.unacknowledged_emergency(endpoint_id=endpoint.pk)
    return {"emergency": emergency} if emergency is not None else None


def shift_summary(endpoint: Any, user: Any) -> dict[str, Any]:
    """Open shifts and the last one applied, on the Configuration tab."""
    return {
        "shift_summary": selectors.endpoint_shifts(endpoint_id=endpoint.pk),
        "can_propose": policy.refusal_for("propose", user) is None,
    }
