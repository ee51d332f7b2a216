"""Template context every page needs: the user's role, which main-menu entries they may
open, the stale-AWS-data banner and the stopped-worker banner. (The navigation's badges
load by themselves, `views.nav_badge`, so that no page pays their queries.)"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from audit import policy as audit_policy
from core.roles import Role, role_of
from core.sync_status import sync_outages
from core.worker_health import worker_silent_since


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    role = role_of(user) if user is not None else Role.NONE
    return {
        "user_role": role,
        "is_approver": role >= Role.APPROVER,
        "can_read_audit": audit_policy.refusal_for("read", user) is None,
        # Signed-out visitors learn nothing about the AWS accounts behind the portal.
        "aws_outages": sync_outages() if role >= Role.VIEWER else [],
        "worker_silent_since": worker_silent_since() if role >= Role.VIEWER else None,
    }
