"""Who may act on an incident (reading the board is every role's)."""

from __future__ import annotations

from typing import Any

from core.policy import role_refusal
from core.roles import Role

ACTIONS: dict[str, tuple[Role, str]] = {
    "take": (Role.OPERATOR, "Taking ownership of an incident"),
    "release": (Role.OPERATOR, "Releasing an incident"),
    "move": (Role.OPERATOR, "Acknowledging, mitigating or resolving an incident"),
}


def refusal_for(action: str, actor: Any, obj: object = None) -> str | None:
    """Why `actor` may not do `action` (a key of ACTIONS), or None when they may."""
    role, doing = ACTIONS[action]
    return role_refusal(actor, role, doing)
