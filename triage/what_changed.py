"""The "What changed" page's two times: the ones chosen, or sensible defaults.

On call the question is "what changed just before this started?", so without a chosen
`from` the page compares now with one hour before the first alarm of the current incident
(the change that caused it usually came shortly before), else with a day earlier; the page
says which default it used.

The portal knows an endpoint's state only from the first snapshot its inventory recorded.
A default start before that would compare "nothing" with now and show every variant as
new, so it is moved up to the first snapshot, whose state is then the "before"; a start
someone chose is kept. Either way the page says where the known history begins.
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
    history_start: datetime | None = None  # the first snapshot the inventory recorded
    clamped: bool = False  # the default start was moved up to `history_start`

    @property
    def starts_before_history(self) -> bool:
        """The start chosen or used lies before anything the portal recorded."""
        return self.history_start is not None and self.start < self.history_start

    @property
    def history_note(self) -> str:
        """Where the known history begins, when the window reaches (or was kept from)
        before it; "" when the whole window lies within it."""
        if self.history_start is None or not (self.clamped or self.starts_before_history):
            return ""
        return (
            "The portal's history of this endpoint starts at "
            f"{self.history_start:%Y-%m-%d %H:%M:%S} UTC; earlier changes are not known."
        )

    @property
    def basis_text(self) -> str:
        """Says which default was used, so nobody mistakes a guess for their choice."""
        to = "now" if self.end_is_now else "the chosen 'to' time"
        if self.clamped:
            default = (
                "one hour before the first alarm of the current incident"
                if self.basis == "incident"
                else "24 hours earlier"
            )
            return (
                f"Default: {to} compared with the first state the portal recorded (the usual "
                f"default, {default}, lies before it)."
            )
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
    history_start: datetime | None = None,
) -> ComparisonWindow:
    """Fill in the times not chosen: `end` is now; `start` is one hour before the first
    alarm of the current incident (the change that caused it usually came shortly before),
    else 24 hours before `end`, but not before `history_start` (the first snapshot) when
    that comes before `end`."""
    end_is_now = end is None
    end = end or now
    if start is not None:
        return ComparisonWindow(
            start=start,
            end=end,
            basis="chosen",
            end_is_now=end_is_now,
            history_start=history_start,
        )
    if incident_at is not None and incident_at - INCIDENT_LEAD < end:
        basis, start = "incident", incident_at - INCIDENT_LEAD
    else:
        basis, start = "day", end - DEFAULT_LOOKBACK
    clamped = history_start is not None and start < history_start < end
    if clamped and history_start is not None:
        start = history_start
    return ComparisonWindow(
        start=start,
        end=end,
        basis=basis,
        end_is_now=end_is_now,
        incident_at=incident_at,
        history_start=history_start,
        clamped=clamped,
    )
