"""Who may do what to batch transform jobs (reading them is every role's)."""

from __future__ import annotations

from typing import Any

from core.policy import role_refusal
from core.roles import Role

ACTIONS: dict[str, tuple[Role, str]] = {
    "launch": (Role.OPERATOR, "Launching a batch transform job"),
    "stop": (Role.OPERATOR, "Stopping a batch transform job"),
}


def refusal_for(action: str, actor: Any, obj: object = None) -> str | None:
    """Why `actor` may not do `action` (a key of ACTIONS), or None when they may."""
    role, doing = ACTIONS[action]
    return role_refusal(actor, role, doing)
