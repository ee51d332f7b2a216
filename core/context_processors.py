"""Template context every page needs: the user's role and the AWS-reachability banner."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from core import roles as rbac


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    role = rbac.role_of(user) if user is not None else rbac.Role.NONE
    context: dict[str, Any] = {
        "user_role": role,
        "can_read_audit": role >= rbac.Role.APPROVER,
        "can_operate": role >= rbac.Role.OPERATOR,
        "aws_outages": [],
    }
    if role >= rbac.Role.VIEWER:
        from endpoints.selectors import aws_outages

        context["aws_outages"] = aws_outages()
    return context
