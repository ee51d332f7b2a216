"""The role a route needs, checked before it reads or writes anything. Services check
their own policy again (a route is never the only guard)."""

from __future__ import annotations

from django.http import HttpRequest

from core.roles import Role, has_role


class RoleTooLow(Exception):
    """The authenticated user's role is below what the route needs (403)."""


def require_role(request: HttpRequest, role: Role, doing: str) -> None:
    """Raise RoleTooLow unless the caller holds `role` or above."""
    if not has_role(request.user, role):
        raise RoleTooLow(f"{doing} needs the {role.label} role.")


# Ids beyond what a database column holds are simply not found, never an overflow (500).
MAX_ID = 2**63 - 1
