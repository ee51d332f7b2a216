"""Who may read the audit log: Approvers and Admins (it holds everyone's actions)."""

from __future__ import annotations

from typing import Any

from core.policy import role_refusal
from core.roles import Role


def refusal_for(action: str, actor: Any, obj: object = None) -> str | None:
    """Why `actor` may not `action` ("read") the audit log, or None when they may."""
    if action != "read":
        raise ValueError(f"unknown audit action {action!r}")
    return role_refusal(actor, Role.APPROVER, "Reading the audit log")
