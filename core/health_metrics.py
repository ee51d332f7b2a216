"""Levels /metrics reads at scrape time from what core already tracks: how far behind each
AWS sync is, and whether background work is keeping up.

The age of the oldest message waiting in the broker is not something either broker (Redis
lists, kombu's filesystem folders) answers cheaply; the worker heartbeat is its proxy. Beat
queues the heartbeat task every OPSPORTAL_HEARTBEAT_SECONDS behind whatever is waiting, so
the time since a worker last ran it is how long queued work has waited (plus at most one
interval), and it grows without bound when no worker runs at all. The number of messages
waiting comes from the same passive queue declare /readyz makes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from django.conf import settings
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from core.health import check_broker
from core.models import SyncKind
from core.sync_status import sync_statuses
from core.worker_health import worker_last_seen


class SyncLagCollector(Collector):
    """Per kind of sync and target-region: seconds since it last succeeded (+Inf when it
    never has), and whether it is failing now."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        lag = GaugeMetricFamily(
            "opsportal_sync_lag_seconds",
            "Seconds since the sync of this kind last succeeded in the target-region "
            "(+Inf: never).",
            labels=["kind", "target", "region"],
        )
        failing = GaugeMetricFamily(
            "opsportal_sync_failing",
            "1 while the sync of this kind is failing in the target-region.",
            labels=["kind", "target", "region"],
        )
        for kind in SyncKind.values:
            for status in sync_statuses(kind=kind):
                labels = [kind, status.target, status.region]
                last = status.last_success_at
                lag.add_metric(labels, (now - last).total_seconds() if last else math.inf)
                failing.add_metric(labels, 1.0 if status.failing_since else 0.0)
        yield lag
        yield failing


class QueueCollector(Collector):
    """Background work: the worker heartbeat's age (the queue-age proxy) and the messages
    waiting in the default queue."""

    def collect(self) -> Iterator[Metric]:
        last = worker_last_seen()
        age = (timezone.now() - last).total_seconds() if last else math.inf
        yield GaugeMetricFamily(
            "opsportal_worker_heartbeat_age_seconds",
            "Seconds since a Celery worker last ran the heartbeat task beat queues every "
            f"{settings.OPSPORTAL_HEARTBEAT_SECONDS} s: how long queued work waits, plus at "
            "most one interval (+Inf: never).",
            value=age,
        )
        broker = check_broker()
        up = GaugeMetricFamily(
            "opsportal_broker_up", "1 when the Celery broker answered this scrape."
        )
        up.add_metric([], 1.0 if broker["ok"] else 0.0)
        yield up
        if broker["ok"]:
            yield GaugeMetricFamily(
                "opsportal_queue_messages",
                "Messages waiting in the default Celery queue.",
                value=float(broker["queued"]),
            )
