"""The whole portal, started for the load benchmark as docker-compose runs it.

PostgreSQL (a database of its own, dropped and created), Redis (a database number of its
own, flushed), the sandbox seeded with the demo world, the syncs `make demo` runs, a Celery
worker and beat, and gunicorn with docker-compose's 3 workers × 4 threads. Every process
it starts is stopped by `stop()`; their output goes to one log file, named on failure.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit, urlunsplit

from scripts.demo import ROOT, Supervisor, demo_environment

PY = sys.executable
DATABASE_NAME = "opsportal_load"
REDIS_DATABASE = 5


class Unavailable(Exception):
    """PostgreSQL or Redis cannot be reached: the benchmark cannot run here."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def database_url() -> str:
    """The load database's URL, on the server DATABASE_URL names (or the local one)."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        base = "postgres://postgres@127.0.0.1:5432/postgres"
    return _with_path(base, f"/{DATABASE_NAME}")


def redis_url() -> str:
    return _with_path(
        os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0", f"/{REDIS_DATABASE}"
    )


def fresh_database(url: str) -> None:
    """Drop and create the load database; Unavailable when PostgreSQL does not answer."""
    import psycopg

    try:
        with psycopg.connect(
            _with_path(url, "/postgres"), connect_timeout=3, autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    except psycopg.OperationalError as error:
        raise Unavailable(f"PostgreSQL at {urlsplit(url).netloc} is unreachable: {error}") from None


def fresh_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).flushdb()
    except redis.RedisError as error:
        raise Unavailable(f"Redis at {urlsplit(url).netloc} is unreachable: {error}") from None


def wait_until_up(url: str, *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer 200 within {seconds:.0f} s")


@dataclass
class Stack:
    env: dict[str, str]
    web_url: str
    sandbox_url: str
    supervisor: Supervisor
    log_path: Path

    def stop(self) -> None:
        self.supervisor.stop()


def stack_start(*, log: TextIO) -> Stack:
    """Start everything; the caller stops it with `Stack.stop()`, also after a failure."""
    db_url, cache_url = database_url(), redis_url()
    fresh_database(db_url)
    fresh_redis(cache_url)
    web_port, sandbox_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = {
        **demo_environment(),
        # Production's sync interval, not the demo's faster one.
        "OPSPORTAL_SYNC_INTERVAL_SECONDS": "60",
        "OPSPORTAL_SECURE": "false",
        "OPSPORTAL_VAR_DIR": tempfile.mkdtemp(prefix="opsportal-load-"),
        "DATABASE_URL": db_url,
        "REDIS_URL": cache_url,
        "AWS_ENDPOINT_URL": sandbox_url,
        "DJANGO_SETTINGS_MODULE": "opsportal.settings",
    }
    supervisor = Supervisor(env, cwd=ROOT, out=log)
    stack = Stack(
        env=env,
        web_url=f"http://127.0.0.1:{web_port}",
        sandbox_url=sandbox_url,
        supervisor=supervisor,
        log_path=Path(log.name),
    )
    try:
        supervisor.start(
            "sandbox",
            [PY, "-m", "sandbox", "serve", "--host", "127.0.0.1", "--port", str(sandbox_port)]
            + ["--seed", "demo", "--traffic", "1"],
            wait_for="http://",
        )
        for command in (
            ["migrate", "--noinput", "-v", "0"],
            ["collectstatic", "--noinput", "-v", "0"],
            ["sync_inventory"],
            ["sync_alarms"],
            ["sync_transform_jobs"],
            ["ingest_cloudtrail", "--since", "7d"],
            ["sync_model_monitor"],
        ):
            supervisor.run([PY, "manage.py", *command])
        celery = [PY, "-m", "celery", "-A", "opsportal"]
        supervisor.start(
            "worker",
            [*celery, "worker", "--concurrency", "2", "--without-gossip", "--without-mingle"],
        )
        supervisor.start("beat", [*celery, "beat", "--loglevel", "WARNING"])
        supervisor.start(
            "web",
            [PY, "-m", "gunicorn", "opsportal.wsgi", "--bind", f"127.0.0.1:{web_port}"]
            + ["--workers", "3", "--threads", "4"],
        )
        wait_until_up(f"{stack.web_url}/healthz")
    except BaseException:
        stack.stop()
        raise
    return stack
