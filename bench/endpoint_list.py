"""Endpoint list page with 1,000 endpoints × 3 variants: queries per page and server time."""

from __future__ import annotations

import statistics
import time

from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from endpoints.models import Endpoint, Variant

REQUESTS = 200


def _populate(start: int, count: int) -> None:
    now = timezone.now()
    statuses = ["InService"] * 8 + ["Updating", "Failed"]
    endpoints = Endpoint.objects.bulk_create(
        Endpoint(
            target="sandbox",
            account_id="123456789012",
            region=("us-east-1", "eu-west-1")[i % 2],
            name=f"bench-{i:05d}",
            arn=f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/bench-{i:05d}",
            status=statuses[i % len(statuses)],
            status_changed_at=now,
            creation_time=now,
            last_modified_time=now,
            synced_at=now,
        )
        for i in range(start, start + count)
    )
    Variant.objects.bulk_create(
        Variant(
            endpoint=e,
            name=f"v{j}",
            position=j,
            instance_type="ml.m5.large",
            current_weight=float(j + 1),
            desired_weight=float(j + 1),
            current_instance_count=2,
            desired_instance_count=2,
        )
        for e in endpoints
        for j in range(3)
    )


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


def run() -> None:
    user = User.objects.create_user("bench-viewer", password="unused-bench-password")
    user.groups.add(Group.objects.get(name="Viewer"))
    client = Client()
    client.force_login(user)
    url = "/endpoints/"
    _populate(0, 100)
    queries_100 = _queries(client, url)
    _populate(100, 900)
    queries_1000 = _queries(client, url)
    pages = [
        "/endpoints/",
        "/endpoints/?page=10",
        "/endpoints/?status=InService&sort=-modified",
        "/endpoints/?name=bench-009&region=us-east-1",
    ]
    for page in pages:
        client.get(page)  # warm caches and templates
    timings: list[float] = []
    for i in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(pages[i % len(pages)])
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    print("== Endpoint list: 1,000 endpoints × 3 variants ==")
    print(
        f"SQL queries per page: {queries_100} at 100 endpoints, {queries_1000} at 1,000 "
        f"({'constant' if queries_100 == queries_1000 else 'GROWS'})"
    )
    print(
        f"server time over {REQUESTS} requests: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
        f"(budget p95 ≤ 50 ms: {'met' if p95 <= 50 else 'MISSED'})"
    )
    print(f"database: {connection.vendor}")
