"""`manage.py seed_demo_users`: one account per role for a demo or a manual test.

Passwords are new random ones on every run (re-running resets them) and appear only
in this command's output: they are not stored in clear anywhere or written to a log.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction

from audit.services import audit_record
from shifts.services import plan_template_save

DEMO_USERS: list[tuple[str, str]] = [
    ("viewer", "Viewer"),
    ("operator", "Operator"),
    ("approver", "Approver"),
    ("approver2", "Approver"),
    ("admin", "Admin"),
]


def demo_user_seed(*, username: str, group_name: str) -> tuple[User, str]:
    """Create or reset one demo user so that it belongs to exactly one role group."""
    password = secrets.token_urlsafe(18)
    with transaction.atomic():
        group, _ = Group.objects.get_or_create(name=group_name)
        user, created = User.objects.get_or_create(username=username)
        user.set_password(password)
        user.is_active = True
        user.save()
        user.groups.set([group])
        audit_record(
            actor=None,
            action="user.seed",
            target=f"user:{username}",
            after={"role": group_name, "created": created, "password_reset": True},
        )
    return user, password


# Staged-shift templates every endpoint offers in the demo: a production-like canary, and a
# quick one whose bakes suit the demo's light traffic.
DEMO_PLAN_TEMPLATES: list[tuple[str, dict[str, Any]]] = [
    (
        "Careful canary",
        {
            "steps": [
                {"candidate_percent": 5, "bake_seconds": 600},
                {"candidate_percent": 25, "bake_seconds": 600},
                {"candidate_percent": 50, "bake_seconds": 600, "manual": True},
                {"candidate_percent": 100, "bake_seconds": 0},
            ],
        },
    ),
    (
        "Quick demo canary",
        {
            "steps": [
                {"candidate_percent": 10, "bake_seconds": 120},
                {"candidate_percent": 50, "bake_seconds": 120},
                {"candidate_percent": 100, "bake_seconds": 0},
            ],
            # The demo's light traffic proves "no worse within 5 points" in minutes; one
            # point would take a quarter of an hour of it.
            "gates": {"min_invocations": 30, "error_rate_margin": 0.05},
            "max_extensions": 3,
        },
    ),
]


class Command(BaseCommand):
    help = (
        "Create (or reset the passwords of) one demo user per role and print the passwords; "
        "save the demo's staged-shift templates."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = []
        for username, group_name in DEMO_USERS:
            _, password = demo_user_seed(username=username, group_name=group_name)
            rows.append((username, group_name, password))
        operator = User.objects.get(username="operator")
        for name, spec in DEMO_PLAN_TEMPLATES:
            plan_template_save(actor=operator, name=name, spec=spec)
        width_user = max(len("username"), *(len(r[0]) for r in rows))
        width_role = max(len("role"), *(len(r[1]) for r in rows))
        self.stdout.write(f"{'username':<{width_user}}  {'role':<{width_role}}  password")
        for username, role, password in rows:
            self.stdout.write(f"{username:<{width_user}}  {role:<{width_role}}  {password}")
