"""/healthz and /readyz, the deploy checklist and the security headers browsers enforce."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone
from kombu import Queue

from core.aws import clients
from core.aws.errors import Throttled
from core.models import SyncKind
from core.sync_status import sync_failed
from core.targets import target_by_name
from core.tasks import worker_heartbeat
from core.worker_health import heartbeat_record

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_healthz_is_liveness_only(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"ok": True, "checks": {"database": {"ok": True}}}


@pytest.mark.django_db
def test_healthz_stays_up_and_fast_while_aws_hangs(client, monkeypatch, hanging_aws):
    monkeypatch.setenv("AWS_ENDPOINT_URL", hanging_aws)
    clients.forget_clients()
    before = clients.call_counts()
    started = time.monotonic()
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert time.monotonic() - started < 1
    assert clients.call_counts() == before


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_fails(client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("gone")):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "error": "OperationalError"}


@pytest.fixture
def private_queue():
    """The broker's default queue, private to this test, emptied afterwards."""
    from opsportal.celery import app

    saved = app.conf.task_default_queue
    app.conf.task_default_queue = f"test-readyz-{uuid.uuid4().hex[:8]}"
    yield app
    with app.connection_for_write() as conn:
        Queue(app.conf.task_default_queue, channel=conn.default_channel).purge()
    app.conf.task_default_queue = saved


@pytest.mark.django_db
def test_readyz_reports_every_dependency(client, private_queue):
    heartbeat_record(hostname="celery@worker-1")
    with private_queue.connection_for_write() as conn:
        waiting = Queue(private_queue.conf.task_default_queue)
        for _ in range(2):
            conn.Producer().publish({}, routing_key=waiting.name, declare=[waiting])
    sync_failed(
        kind=SyncKind.INVENTORY,
        target=target_by_name("sandbox"),
        region="eu-west-1",
        error=Throttled("Rate exceeded", code="ThrottlingException"),
    )

    response = client.get(reverse("readyz"))
    data = response.json()
    assert response.status_code == 200, data
    checks = data["checks"]
    assert checks["database"]["ok"] and checks["broker"]["ok"] and checks["worker"]["ok"]
    assert checks["broker"]["queued"] == 2
    assert checks["worker"]["last_heartbeat"]
    # AWS failing in one region is reported, and does not make the portal unready.
    assert checks["aws"]["ok"] is False
    assert checks["aws"]["targets"]["sandbox/us-east-1"]["ok"] is True
    eu = checks["aws"]["targets"]["sandbox/eu-west-1"]
    assert eu["ok"] is False and eu["failing"] == ["inventory"] and eu["last_error"] == "Throttled"


@pytest.mark.django_db
def test_readyz_is_503_when_no_worker_has_run_a_task(client):
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["last_heartbeat"] is None

    heartbeat_record(hostname="celery@worker-1")
    assert client.get(reverse("readyz")).status_code == 200

    stale = timezone.now() + timedelta(seconds=settings.OPSPORTAL_WORKER_STALE_SECONDS + 1)
    with mock.patch("django.utils.timezone.now", return_value=stale):
        response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["ok"] is False


@pytest.mark.django_db
def test_readyz_is_503_within_its_bound_when_the_broker_is_down(client, broker_down):
    heartbeat_record(hostname="celery@worker-1")
    started = time.monotonic()
    response = client.get(reverse("readyz"))
    assert time.monotonic() - started < settings.CELERY_BROKER_CONNECTION_TIMEOUT + 2
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


@pytest.mark.django_db
def test_heartbeat_task_marks_the_worker_alive(client):
    worker_heartbeat.apply()
    assert client.get(reverse("readyz")).json()["checks"]["worker"]["ok"] is True


@pytest.mark.django_db
def test_every_page_says_when_background_work_stopped(role_client):
    viewer = role_client("Viewer")
    heartbeat_record(hostname="celery@worker-1")
    assert b"worker-silent" not in viewer.get(reverse("overview")).content

    later = timezone.now() + timedelta(seconds=settings.OPSPORTAL_WORKER_STALE_SECONDS + 60)
    with mock.patch("django.utils.timezone.now", return_value=later):
        body = viewer.get(reverse("endpoints:list")).content.decode()
    assert 'data-testid="worker-silent"' in body
    assert "No Celery worker has run a task since" in body


def production_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPSPORTAL_", "DJANGO_", "CELERY_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="opsportal.settings",
        DJANGO_SECRET_KEY="x7!pQ2#vL9$zR4&mW8^kT1*bN6(cY3)hJ5-dF0+gS2=aE7@uI4~oP9%lK1",
        DJANGO_ALLOWED_HOSTS="opsportal.example.com",
        **extra,
    )
    return env


def test_production_settings_pass_check_deploy(tmp_path):
    signing_key = tmp_path / "audit.pem"
    signing_key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(
            OPSPORTAL_AUDIT_HMAC_KEY="k" * 48,
            OPSPORTAL_AUDIT_SIGNING_KEY_FILE=str(signing_key),
            OPSPORTAL_AUDIT_DIGESTS="s3://opsportal-audit/digests/",
        ),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_requires_a_secret_key():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


@pytest.mark.django_db
def test_pages_carry_csp_without_unsafe_inline(role_client):
    response = role_client("Viewer").get(reverse("overview"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Request-ID"]
    body = response.content.decode()
    assert "<script>" not in body and " style=" not in body
