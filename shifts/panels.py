"""What shifts show on the endpoint pages (registered in ShiftsConfig.ready)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from shifts import policy, selectors
from shifts.reversions import latest_reversion
from shifts.shadow_test import shadow_comparisons

# How long after it was applied a change's reversion is bannered on every tab (its own
# page says it for good).
REVERSION_BANNER = timedelta(hours=24)


def emergency_banner(endpoint: Any, user: Any) -> dict[str, Any] | None:
    """The red banner on every endpoint tab until an emergency change is acknowledged, and
    the notice that the last applied change was undone outside the portal (so no page
    claims the state it applied)."""
    emergency = selectors.unacknowledged_emergency(endpoint_id=endpoint.pk)
    reversion = latest_reversion(endpoint_id=endpoint.pk)
    if reversion is not None and reversion.proposal.pk != getattr(emergency, "pk", None):
        finished = reversion.proposal.finished_at
        if finished is None or finished < timezone.now() - REVERSION_BANNER:
            reversion = None
    if emergency is None and reversion is None:
        return None
    return {"emergency": emergency, "reversion": reversion}


def shift_summary(endpoint: Any, user: Any) -> dict[str, Any]:
    """Open shifts and the last one applied, on the Configuration tab."""
    return {
        "shift_summary": selectors.endpoint_shifts(endpoint_id=endpoint.pk),
        "can_propose": policy.refusal_for("propose", user) is None,
    }


def shadow_test(endpoint: Any, user: Any) -> dict[str, Any] | None:
    """A shadow variant against production, and the way to promote it (Configuration tab)."""
    comparisons = shadow_comparisons(endpoint=endpoint)
    if not comparisons:
        return None
    return {
        "comparisons": comparisons,
        "can_propose": policy.refusal_for("propose", user) is None,
    }
