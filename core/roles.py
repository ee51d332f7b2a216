"""Roles and what each may do.

Roles are cumulative: Operator can do all a Viewer can, Approver all an Operator can,
Admin everything. A user's role is the highest of the role groups they belong to
(superusers are Admins). Views declare the role they need with `@role_required`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


class Role(enum.IntEnum):
    NONE = 0
    VIEWER = 1
    OPERATOR = 2
    APPROVER = 3
    ADMIN = 4

    @property
    def label(self) -> str:
        return self.name.title()


ROLE_GROUPS: dict[str, Role] = {
    "Viewer": Role.VIEWER,
    "Operator": Role.OPERATOR,
    "Approver": Role.APPROVER,
    "Admin": Role.ADMIN,
}


def role_of(user: Any) -> Role:
    """The user's highest role, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Role.NONE
    cached = getattr(user, "_opsportal_role", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        role = Role.ADMIN
    else:
        names = user.groups.values_list("name", flat=True)
        role = max((ROLE_GROUPS[n] for n in names if n in ROLE_GROUPS), default=Role.NONE)
    user._opsportal_role = role
    return role


def has_role(user: Any, role: Role) -> bool:
    return role_of(user) >= role


def can_view(user: Any) -> bool:
    return has_role(user, Role.VIEWER)


def can_refresh_inventory(user: Any) -> bool:
    return has_role(user, Role.OPERATOR)


def can_read_audit(user: Any) -> bool:
    return has_role(user, Role.APPROVER)


def role_required(
    role: Role,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Anonymous users go to the login page; signed-in users below `role` get 403."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, role):
                raise PermissionDenied(f"This page needs the {role.label} role.")
            return view(request, *args, **kwargs)

        wrapped.required_role = role  # type: ignore[attr-defined]
        return wrapped

    return decorator
