"""Who may do what to an endpoint through the portal (reading is every role's)."""

from __future__ import annotations

from typing import Any

from core.policy import role_refusal
from core.roles import Role

ACTIONS: dict[str, tuple[Role, str]] = {
    "view": (Role.VIEWER, "Reading the inventory"),
    "refresh": (Role.OPERATOR, "Refreshing an endpoint"),
    "test_invoke": (Role.OPERATOR, "Sending a test request to an endpoint"),
}


def refusal_for(action: str, actor: Any, obj: object = None) -> str | None:
    """Why `actor` may not do `action` (a key of ACTIONS), or None when they may."""
    role, doing = ACTIONS[action]
    return role_refusal(actor, role, doing)
