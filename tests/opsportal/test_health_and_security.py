"""/healthz, the deploy checklist and the security headers users' browsers enforce."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.urls import reverse

from core.aws import clients

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_healthz_reports_each_dependency(client, sandbox):
    response = client.get(reverse("healthz"))
    data = response.json()
    assert response.status_code == 200, data
    assert data["checks"]["database"]["ok"] is True
    assert data["checks"]["broker"]["ok"] is True
    assert data["checks"]["aws"]["targets"] == {
        "sandbox/us-east-1": {"ok": True},
        "sandbox/eu-west-1": {"ok": True},
    }


@pytest.mark.django_db
def test_healthz_is_503_when_aws_is_unreachable(client, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    clients.forget_clients()
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    aws = response.json()["checks"]["aws"]
    assert aws["ok"] is False
    assert aws["targets"]["sandbox/us-east-1"]["ok"] is False


@pytest.mark.django_db
def test_healthz_is_503_when_broker_is_down(client, sandbox, broker_down):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


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


def test_production_settings_pass_check_deploy():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
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
