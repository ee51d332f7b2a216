"""Building blocks for each app's `policy.py`, where who-may-do-what is decided.

An app's policy answers `refusal_for(action, actor, obj) -> str | None`: None when the
actor may, else the sentence the refusal page and the audit log show. Services ask it
before every write (and audit a refusal); selectors ask it to decide which buttons a page
offers; views never decide it themselves.
"""

from __future__ import annotations

from typing import Any

from core.roles import Role, has_role


def role_refusal(actor: Any, role: Role, doing: str) -> str | None:
    """The refusal "<doing> needs the <role> role.", unless the actor holds `role` or above."""
    if has_role(actor, role):
        return None
    return f"{doing} needs the {role.label} role."
