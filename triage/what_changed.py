"""The "What changed" page's two times: the ones chosen, or sensible defaults.

On call the question is "what changed just before this started?", so without a chosen
`from` the page compares now with one hour before the first alarm of the current incident
(the change that caused it usually came shortly before), else with a day earlier; the page
says which default it used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

INCIDENT_LEAD = timedelta(hours=1)
DEFAULT_LOOKBACK = timedelta(hours=24)


@dataclass(frozen=True)
class ComparisonWindow:
    """The two times a "What changed" page compares, and why those times."""

    start: datetime
    end: datetime
    basis: str  # "chosen", "incident" or "day": where `start` came from
    end_is_now: bool = True
    incident_at: datetime | None = None

    @property
    def basis_text(self) -> str:
        """Says which default was used, so nobody mistakes a guess for their choice."""
        to = "now" if self.end_is_now else "the chosen 'to' time"
        if self.basis == "incident" and self.incident_at is not None:
            return (
                f"Default: {to} compared with one hour before the first alarm of the current "
                f"incident (in ALARM since {self.incident_at:%Y-%m-%d %H:%M:%S} UTC)."
            )
        if self.basis == "day":
            reason = (
                "no alarm of this endpoint is in ALARM"
                if self.incident_at is None
                else "the current incident began after it"
            )
            return f"Default: {to} compared with 24 hours earlier ({reason})."
        if self.end_is_now:
            return "Comparing the 'from' time you chose with now."
        return "Comparing the times you chose."


def comparison_window(
    *,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
    incident_at: datetime | None,
) -> ComparisonWindow:
    """Fill in the times not chosen: `end` is now; `start` is one hour before the first
    alarm of the current incident (the change that caused it usually came shortly before),
    else 24 hours before `end`."""
    end_is_now = end is None
    end = end or now
    if start is not None:
        return ComparisonWindow(start=start, end=end, basis="chosen", end_is_now=end_is_now)
    if incident_at is not None and incident_at - INCIDENT_LEAD < end:
        return ComparisonWindow(
            start=incident_at - INCIDENT_LEAD,
            end=end,
            basis="incident",
            end_is_now=end_is_now,
            incident_at=incident_at,
        )
    return ComparisonWindow(
        start=end - DEFAULT_LOOKBACK,
        end=end,
        basis="day",
        end_is_now=end_is_now,
        incident_at=incident_at,
    )
