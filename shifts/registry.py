"""Checks that hold a staged shift back, registered by the apps above shifts.

shifts sits below triage in the layers (it may not import it), yet an incident a person
keeps open after its alarm has cleared should stop a plan from moving traffic as much as the
alarm did. So triage registers a check here from its AppConfig.ready(), and
`selectors.plan_incident` asks every registered check as well as the endpoint's alarms.
"""

from __future__ import annotations

from collections.abc import Callable

# fn(endpoint_id) -> the open incident in words ("incident #12, acknowledged: …"), or None.
OpenIncidentCheck = Callable[[int], str | None]

_checks: list[OpenIncidentCheck] = []


def register_open_incident_check(check: OpenIncidentCheck) -> None:
    """Add a check (once: ready() may run again in tests and management commands)."""
    if check not in _checks:
        _checks.append(check)


def open_incident_words(*, endpoint_id: int) -> list[str]:
    """What every registered check says about the endpoint's open incidents."""
    return [words for check in _checks if (words := check(endpoint_id))]
