"""What the load generator's users do: their sessions and the pages they read.

Runs in the benchmark's own process against the load stack's database (the same settings
and secret key as its gunicorn), after the syncs: it signs in one Approver per simulated
user — sessions made directly, as the PBKDF2 cost of hundreds of logins would otherwise be
measured with the pages — and lists every page a reader opens, with how often.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

# (page name, URL template, weight). "{endpoint}" is a random endpoint per request; the
# names group each page's requests in the report. The database pages render from the
# portal's own tables; the others make an AWS read while rendering (bounded, see
# core/aws) or load a panel that does.
ENDPOINT_PAGES: list[tuple[str, str, int]] = [
    ("endpoint", "/endpoints/{endpoint}/", 8),
    ("metrics tab", "/endpoints/{endpoint}/metrics", 4),
    ("metrics panel", "/endpoints/{endpoint}/metrics/panel", 10),
    ("monitoring tab", "/endpoints/{endpoint}/monitoring", 2),
    ("monitoring charts", "/endpoints/{endpoint}/monitoring/charts", 2),
    ("api changes tab", "/endpoints/{endpoint}/changes", 2),
    ("timeline", "/endpoints/{endpoint}/timeline", 3),
    ("what changed", "/endpoints/{endpoint}/what-changed", 2),
    ("incident summary", "/incidents/endpoint/{endpoint}/summary", 1),
    ("traffic tab", "/shifts/endpoint/{endpoint}/", 2),
]
DATABASE_PAGES: list[tuple[str, str, int]] = [
    ("overview", "/", 10),
    ("endpoint list", "/endpoints/", 10),
    ("incident board", "/incidents/", 6),
    ("api history", "/api-history/", 4),
    ("shift list", "/shifts/", 3),
    ("batch jobs", "/transforms/", 3),
    ("audit log", "/audit/", 2),
]


def load_plan_write(*, env: dict[str, str], users: int, path: Path) -> dict[str, Any]:
    """Sign in `users` readers and write the plan the locustfile reads; returns it."""
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from apihistory.models import TrailEvent
    from endpoints.models import Endpoint
    from transforms.models import TransformJob

    group, _ = Group.objects.get_or_create(name="Approver")
    sessions = []
    for number in range(users):
        user, _ = User.objects.get_or_create(username=f"load-{number:03d}")
        user.groups.set([group])
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    endpoints = list(Endpoint.objects.filter(deleted_at__isnull=True).values_list("pk", flat=True))
    if not endpoints:
        raise RuntimeError("The inventory sync found no endpoints in the sandbox.")
    pages = [
        {"name": name, "url": url, "weight": weight, "database": True}
        for name, url, weight in DATABASE_PAGES
    ] + [
        {"name": name, "url": url, "weight": weight, "database": False}
        for name, url, weight in ENDPOINT_PAGES
    ]
    event = TrailEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    if event is not None:
        pages.append(
            {"name": "api event", "url": f"/api-history/{event}/", "weight": 2, "database": True}
        )
    job = TransformJob.objects.order_by("-pk").values_list("pk", flat=True).first()
    if job is not None:
        pages.append(
            {"name": "batch job", "url": f"/transforms/{job}/", "weight": 1, "database": False}
        )
    plan = {
        "cookie": settings.SESSION_COOKIE_NAME,
        "sessions": sessions,
        "endpoints": endpoints,
        "pages": pages,
    }
    path.write_text(json.dumps(plan))
    return plan
