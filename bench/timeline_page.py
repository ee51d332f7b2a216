"""Endpoint timeline page over 30 days of history: AWS calls (at most one GetMetricData,
then cached) and server time with warm caches (target p95 ≤ 300 ms).

The history is what a busy month leaves: hourly Model Monitor runs (some with violations,
some failed), a few deploys and weight changes a day in CloudTrail among many reads, alarm
flaps, traffic shifts, and the inventory's state snapshots.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apihistory.models import TrailEvent
from apihistory.search import search_text_for
from core.aws import clients
from endpoints.models import Endpoint, EndpointSnapshot
from endpoints.services import inventory_sync
from monitoring.models import Alarm, MonitoringExecution, MonitoringSchedule, MonitoringViolation
from sandbox.testing import SandboxServer
from shifts.models import ShiftEvent, ShiftProposal

DAYS = 30
REQUESTS = 50
BUDGET_MS = 300.0


def _history(endpoint: Endpoint, owner: User) -> dict[str, int]:
    now = timezone.now()
    hours = DAYS * 24
    schedule = MonitoringSchedule.objects.create(
        target=endpoint.target,
        account_id=endpoint.account_id,
        region=endpoint.region,
        endpoint_name=endpoint.name,
        name=f"{endpoint.name}-bench-dq",
        status="Scheduled",
        synced_at=now,
    )
    executions = MonitoringExecution.objects.bulk_create(
        MonitoringExecution(
            schedule=schedule,
            scheduled_time=now - timedelta(hours=h),
            status="CompletedWithViolations"
            if h % 24 == 5
            else "Failed"
            if h % 97 == 0
            else "Completed",
            violation_count=2 if h % 24 == 5 else 0,
            failure_reason="Job inputs had no data" if h % 97 == 0 else "",
        )
        for h in range(hours)
    )
    MonitoringViolation.objects.bulk_create(
        MonitoringViolation(execution=e, feature_name=f, check_type="baseline_drift_check")
        for e in executions
        if e.violation_count
        for f in ("mean_radius", "mean_texture")
    )
    events = []
    for i in range(DAYS * 200):  # 200 calls a day, one in 20 a write on this endpoint
        write = i % 20 == 0
        name = "UpdateEndpoint" if write else "DescribeEndpoint"
        config = f"{endpoint.name}-config-{i // 100}" if write else ""
        events.append(
            TrailEvent(
                event_id=f"bench-timeline-{i}",
                target=endpoint.target,
                account_id=endpoint.account_id,
                region=endpoint.region,
                event_time=now - timedelta(minutes=i * 24 * 60 / 200),
                event_source="sagemaker.amazonaws.com",
                event_name=name,
                read_only=not write,
                identity_type="AssumedRole",
                principal_arn="arn:aws:sts::123456789012:assumed-role/ci-deployer/s",
                principal_name="ci-deployer",
                endpoint_name=endpoint.name,
                endpoint_config_name=config,
                record={"eventName": name, "requestParameters": {"endpointName": endpoint.name}},
                search_text=search_text_for([name, endpoint.name, config]),
            )
        )
    TrailEvent.objects.bulk_create(events)
    Alarm.objects.filter(endpoint_name=endpoint.name).update(
        history=[
            {
                "time": (now - timedelta(hours=h)).isoformat(),
                "type": "StateUpdate",
                "summary": "Alarm updated from OK to ALARM"
                if h % 2
                else "Alarm updated from ALARM to OK",
            }
            for h in range(0, hours, 12)
        ]
    )
    shifts = 0
    for day in range(DAYS):
        at = now - timedelta(days=day, hours=3)
        proposal = ShiftProposal.objects.create(
            endpoint=endpoint,
            proposer=owner,
            state="applied",
            reason="bench",
            before_weights={"A": 80.0, "B": 20.0},
            desired_weights={"A": 70.0, "B": 30.0},
            created_at=at,
            expires_at=at + timedelta(hours=1),
            updated_at=at,
        )
        ShiftEvent.objects.create(
            proposal=proposal, at=at, username="bench", action="applied", to_state="applied"
        )
        shifts += 1
    base = EndpointSnapshot.objects.filter(endpoint=endpoint).first()
    snapshots = 0
    if base is not None:
        for i in range(DAYS * 10):
            variants = {
                name: {**state, "current_instance_count": 1 + (i + j) % 3}
                for j, (name, state) in enumerate(base.variants.items())
            }
            EndpointSnapshot.objects.create(
                endpoint=endpoint,
                observed_at=now - timedelta(hours=i * 2.4),
                last_modified_time=now,
                status="InService" if i % 5 else "Updating",
                config_name=base.config_name,
                variants=variants,
                fingerprint=f"bench-{i}",
            )
            snapshots += 1
    return {
        "monitor runs": len(executions),
        "API calls": len(events),
        "shifts": shifts,
        "snapshots": snapshots,
    }


def run() -> None:
    with SandboxServer(port=0, seed="demo", creating_seconds=0.0) as server:
        os.environ["AWS_ENDPOINT_URL"] = server.url
        clients.forget_clients()
        time.sleep(0.5)
        inventory_sync(target=settings.OPSPORTAL_TARGETS[0], region="us-east-1")
        from monitoring.services import alarm_sync

        alarm_sync(target=settings.OPSPORTAL_TARGETS[0], region="us-east-1")
        endpoint = Endpoint.objects.get(name="tumor-classifier")
        user = User.objects.create_user("bench-oncall", password="unused-bench-password")
        user.groups.add(Group.objects.get(name="Viewer"))
        counts = _history(endpoint, user)
        client = Client()
        client.force_login(user)
        url = f"/endpoints/{endpoint.pk}/timeline?range=30d"
        print(f"== Timeline page: {endpoint.name}, {DAYS} days of history ==")
        print("history: " + ", ".join(f"{n:,} {what}" for what, n in counts.items()))
        cache.clear()
        clients.reset_call_counts()
        started = time.perf_counter()
        response = client.get(url)
        cold_ms = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.status_code
        cold_calls = dict(clients.call_counts())
        markers = response.content.decode().count('data-kind="')
        clients.reset_call_counts()
        timings = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            timings.append((time.perf_counter() - started) * 1000)
        warm_calls = sum(clients.call_counts().values())
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        metric_calls = cold_calls.get(("cloudwatch", "GetMetricData"), 0)
        print(
            f"cold: {metric_calls} GetMetricData, {sum(cold_calls.values())} AWS call(s) in all, "
            f"{cold_ms:.0f} ms; {markers} events listed"
        )
        print(
            f"warm over {REQUESTS} requests: {warm_calls} AWS calls, "
            f"p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, "
            f"{len(ctx.captured_queries)} SQL queries "
            f"(budget p95 ≤ {BUDGET_MS:.0f} ms: {'met' if p95 <= BUDGET_MS else 'MISSED'})"
        )
