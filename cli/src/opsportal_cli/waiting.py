"""Following a change request until it ends, for ``shift propose --wait``: the exit status
says how it ended, so a CI job can gate on it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from opsportal_cli.client import Api, ApiError, Unreachable, one_line

# The exit statuses of `--wait` (documented in the README and in `opsportal shift propose
# --help`). 1 and 2 stay what they are for every command: an error, bad usage.
APPLIED = 0
REJECTED = 3
EXPIRED = 4
FAILED = 5
CANCELLED = 6
SUPERSEDED = 7
TIMED_OUT = 8

OUTCOMES: dict[str, int] = {
    "applied": APPLIED,
    "rejected": REJECTED,
    "expired": EXPIRED,
    "failed": FAILED,
    "cancelled": CANCELLED,
    "superseded": SUPERSEDED,
}
EXIT_CODES_HELP = (
    "Exit status with --wait: 0 applied, 3 rejected, 4 expired, 5 failed, 6 cancelled, "
    "7 superseded, 8 still not ended after --timeout (the change request goes on); "
    "1 any other error, 2 bad usage."
)

WAITING_FOR = {
    "pending": "waiting for an Approver",
    "approved": "approved; waiting for the portal to apply it",
    "applying": "applying on AWS",
}


def progress_line(shift: dict[str, Any]) -> str:
    """``shift 42 on fraud-detection: applying on AWS``, with the portal's own sentence
    about the latest outcome when it has one."""
    state = str(shift.get("state", "?"))
    line = f"shift {shift.get('id')} on {shift.get('endpoint_name', '?')}: {state}"
    if state in WAITING_FOR:
        line += f" ({WAITING_FOR[state]})"
    outcome = one_line(str(shift.get("outcome") or ""))
    if outcome:
        line += f": {outcome}"
    return line


def follow(
    api: Api,
    shift: dict[str, Any],
    *,
    timeout: float,
    interval: float,
    say: Callable[[str], None],
) -> tuple[dict[str, Any], int]:
    """Poll the shift until it reaches an end state or `timeout` seconds pass; say each
    change of state (and each outcome sentence) once. Returns the last shift read and the
    exit status. A poll that fails on the way (the portal restarting, a network blip) is
    said once and the waiting goes on: only the timeout ends it."""
    deadline = time.monotonic() + timeout
    said = progress_line(shift)
    say(said)
    trouble = ""
    while str(shift.get("state")) not in OUTCOMES:
        if time.monotonic() >= deadline:
            return shift, TIMED_OUT
        time.sleep(min(interval, max(deadline - time.monotonic(), 0.0)))
        try:
            shift = api.get(f"shifts/{shift['id']}")
        except (Unreachable, ApiError) as error:
            if isinstance(error, ApiError) and error.status < 500 and error.status != 429:
                raise
            if error.message != trouble:
                trouble = error.message
                say(f"still waiting: {trouble}")
            continue
        trouble = ""
        line = progress_line(shift)
        if line != said:
            said = line
            say(line)
    return shift, OUTCOMES[str(shift["state"])]
