"""The default broker (no REDIS_URL: kombu's filesystem transport, what `make demo` runs)
must survive the processes that run tasks being killed, as an OOM kill would, and the
demo must start a dead worker again."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from scripts.demo import Supervisor

ROOT = Path(__file__).resolve().parents[2]
RECOVERY_SECONDS = 60


def _worker_env(var_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "DATABASE_URL"} and not key.startswith("CELERY_")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="opsportal.settings",
        OPSPORTAL_SECURE="false",
        OPSPORTAL_VAR_DIR=str(var_dir),
        PYTHONUNBUFFERED="1",
    )
    return env


def _filesystem_app(var_dir: Path) -> Celery:
    """A publisher on the same broker folders the worker's settings choose."""
    broker = var_dir / "celery-broker"
    broker.mkdir(parents=True, exist_ok=True)
    return Celery(
        "probe",
        broker="filesystem://",
        broker_transport_options={
            "data_folder_in": str(broker),
            "data_folder_out": str(broker),
            "control_folder": str(var_dir / "celery-control"),
            "store_processed": False,
        },
    )


@pytest.fixture
def supervised_worker(tmp_path: Path) -> Iterator[tuple[Celery, Path]]:
    var_dir = tmp_path / "var"
    supervisor = Supervisor(_worker_env(var_dir), cwd=ROOT)
    supervisor.start(
        "worker",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "opsportal",
            "worker",
            "-I",
            "tests.support.probe_tasks",
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        restart=True,
    )
    stop = threading.Event()
    watcher = threading.Thread(target=supervisor.watch, kwargs={"stop": stop}, daemon=True)
    watcher.start()
    try:
        yield _filesystem_app(var_dir), tmp_path
    finally:
        stop.set()
        watcher.join(timeout=5)
        supervisor.stop()


def _probe_pids(app: Celery, folder: Path, *, count: int, pause: float) -> set[int]:
    """Send `count` probes and wait for every one to run; the pids that ran them."""
    files = [folder / f"probe-{uuid.uuid4().hex[:8]}" for _ in range(count)]
    for path in files:
        app.send_task("tests.support.probe_tasks.record_pid", args=[str(path), pause])
    deadline = time.monotonic() + RECOVERY_SECONDS
    while time.monotonic() < deadline:
        if all(path.exists() and path.read_text() for path in files):
            return {int(path.read_text()) for path in files}
        time.sleep(0.2)
    ran = sum(path.exists() for path in files)
    raise AssertionError(f"{ran} of {count} tasks ran within {RECOVERY_SECONDS} s")


def test_tasks_run_again_after_the_processes_running_them_are_killed(supervised_worker):
    app, folder = supervised_worker
    # Overlapping probes, so every process of the pool runs one.
    runners = _probe_pids(app, folder, count=6, pause=0.5)

    for pid in runners:
        os.kill(pid, signal.SIGKILL)

    assert _probe_pids(app, folder, count=2, pause=0)


def test_tasks_sent_while_the_worker_is_dead_run_once_it_is_back(supervised_worker):
    app, folder = supervised_worker
    killed = _probe_pids(app, folder, count=1, pause=0)
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    # Sent at once, while nothing is consuming: the broker keeps them for the new worker.
    assert not _probe_pids(app, folder, count=3, pause=0) & killed
