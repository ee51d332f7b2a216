"""The portal's own Prometheus metrics: what each process counts, and how /metrics adds the
processes up.

Web (gunicorn, several workers), the Celery worker and beat are separate processes, yet
one scrape of the web's /metrics must show what the worker counted. prometheus-client's
multiprocess mode does that with nothing more to run: every process writes its counters
and histograms to memory-mapped files in one directory (OPSPORTAL_METRICS_DIR, under the
var dir unless PROMETHEUS_MULTIPROC_DIR names another) and /metrics sums the files. A
push gateway would be one more service whose last push of a dead process lingers, and
counting in the database would cost a write per AWS call; neither is needed while the
portal's processes share a machine or a volume (as web, worker and beat share the var
volume in docker-compose).

The files are named after the host and the process id, not the process id alone, so
containers sharing that volume (each numbering its processes from 1) never write one
file. The client's docs ask for the directory to be emptied before the processes start;
here they do not start together (a worker restarts while the web keeps serving), so each
process, as Django starts in it (CoreConfig.ready), calls `metrics_dir_clean`, which
removes only the files of this host's processes that are no longer running: a restarted
process counts from zero again, as any restarted exporter does, and Prometheus's rate()
reads the drop as a counter reset. Another host's files are left to that host; a
container replaced under a new host name leaves its last counts in the sums, unchanging.
Gauges are never written to files: what is a level (sync lag, queue, approvals,
incidents) is computed at scrape time by collectors (core.health_metrics and
opsportal.metrics).
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

_HOST = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())[:60] or "host"


def _process_id() -> str:
    # No "_" in it: the client splits file names on "_".
    return f"{_HOST}-{os.getpid()}"


def metrics_dir() -> Path:
    return Path(settings.OPSPORTAL_METRICS_DIR)


# Before the first metric below exists: its values live in this process's files.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir())
values.ValueClass = values.MultiProcessValue(process_identifier=_process_id)

REQUEST_SECONDS = Histogram(
    "opsportal_http_request_duration_seconds",
    "Time to answer a request, by view (the URL's name; 'unmatched' when no route "
    "matched), method and status.",
    ["view", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
TASKS = Counter(
    "opsportal_celery_tasks",
    "Celery tasks run to an end, by task name and outcome (success, failure, retry, revoked).",
    ["task", "outcome"],
)
AWS_THROTTLED_ATTEMPTS = Counter(
    "opsportal_aws_throttled_attempts",
    "Attempts AWS answered with a throttling error, by service and operation: each of a "
    "call's attempts, including those that botocore's retries then got through (which "
    "opsportal_aws_calls counts as ok).",
    ["service", "operation"],
)
AWS_CALLS = Counter(
    "opsportal_aws_calls",
    "AWS API calls the portal made (after botocore's retries), by service, operation and "
    "outcome: ok, throttled, client_error (4xx), server_error (5xx) or no_answer "
    "(timeout, refused or reset connection).",
    ["service", "operation", "outcome"],
)


def metrics_dir_clean() -> int:
    """Remove the files of this host's processes that are no longer running; how many."""
    removed = 0
    pattern = re.compile(rf"_{re.escape(_HOST)}-(\d+)\.db$")
    for path in metrics_dir().glob("*.db"):
        match = pattern.search(path.name)
        if match and not _running(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def metrics_text(*, collectors: Iterable[Collector] = ()) -> bytes:
    """Every process's counts summed, then `collectors` (levels read at scrape time), in
    the Prometheus text format."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(metrics_dir()))
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)
