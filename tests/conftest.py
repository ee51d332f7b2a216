"""Shared fixtures: the sandbox over real HTTP, users per role, AWS call counting."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from celery.app.task import Task
from django.contrib.auth.models import Group

from core.aws.clients import forget_clients
from sandbox.testing import SandboxServer, allow_endpoint_instances
from tests.support.clock import Clock, frozen_clock
from tests.support.hanging import hanging_server
from tests.support.queue import HeldTasks, hold_countdowns

# Browser fixtures for every directory: one Playwright per session.
pytest_plugins = ["tests.support.browser"]

ROLE_NAMES = ("Viewer", "Operator", "Approver", "Admin")


def _point_aws_at(url: str) -> None:
    os.environ["AWS_ENDPOINT_URL"] = url
    forget_clients()


def wait_until_settled(url: str, timeout: float = 30.0) -> None:
    """Wait until no demo endpoint is still Creating, so tests see the settled world."""
    from tests.aws_actor import sagemaker

    deadline = time.monotonic() + timeout
    for region in ("us-east-1", "eu-west-1"):
        sm = sagemaker(url, region)
        while any(
            e["EndpointStatus"] in ("Creating", "Updating")
            for e in sm.list_endpoints(MaxResults=100)["Endpoints"]
        ):
            if time.monotonic() > deadline:
                raise AssertionError(f"sandbox endpoints in {region} did not settle")
            time.sleep(0.1)


def allow_the_sessions_endpoints(url: str) -> None:
    """The suite creates endpoints by the dozen on these types, more than the default
    endpoint-usage quota allows in a region."""
    for instance_type in ("ml.m5.large", "ml.m5.xlarge"):
        allow_endpoint_instances(url, instance_type, 1000)


def restart_sandbox(server: SandboxServer) -> None:
    """Start a stopped sandbox again on the same port, with a freshly seeded demo world."""
    server.start()
    allow_the_sessions_endpoints(server.url)
    wait_until_settled(server.url)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One seeded sandbox for the session (demo world), on a free port that a restart
    keeps, so the portal's AWS_ENDPOINT_URL stays right."""
    server = SandboxServer(port=0, seed="demo", creating_seconds=0.5)
    server.start()
    server.port = int(server.url.rsplit(":", 1)[1])
    allow_the_sessions_endpoints(server.url)
    wait_until_settled(server.url)
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """Point the portal's AWS gateway at the running sandbox for this test."""
    previous = os.environ.get("AWS_ENDPOINT_URL", "")
    _point_aws_at(sandbox_server.url)
    yield sandbox_server
    _point_aws_at(previous)


@pytest.fixture
def hanging_aws() -> Iterator[str]:
    """The URL of an AWS that accepts connections and never answers (see `sandbox` for a
    working one); the test points AWS_ENDPOINT_URL at it."""
    previous = os.environ.get("AWS_ENDPOINT_URL", "")
    with hanging_server() as url:
        yield url
    _point_aws_at(previous)


@pytest.fixture
def user_factory(db):
    from django.contrib.auth import get_user_model

    def make(username: str, role: str | None) -> object:
        user = get_user_model().objects.create_user(username=username, password="pw-" + username)
        if role:
            group, _ = Group.objects.get_or_create(name=role)
            user.groups.add(group)
        return user

    return make


@pytest.fixture
def role_client(client, user_factory):
    """`role_client("Operator")` returns a test client logged in as a user with that role."""

    def make(role: str | None):
        user = user_factory(f"user-{(role or 'none').lower()}", role)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """The time frozen at the test's start; `clock.advance(minutes=16)` moves it."""
    with frozen_clock(monkeypatch) as frozen:
        yield frozen


@pytest.fixture
def broker_down() -> Iterator[None]:
    """Publish through a broker that refuses connections (a closed local port)."""
    from opsportal.celery import app

    keys = ("task_always_eager", "broker_url", "broker_transport_options")
    saved = {key: app.conf[key] for key in keys}

    def fresh_pool() -> None:
        # Forget the app's cached pools (not close them: kombu shares pools per broker
        # URL, and a closed one would break every later publish to the real broker).
        app._pool = None
        app.amqp._producer_pool = None

    fresh_pool()
    app.conf.update(
        task_always_eager=False, broker_url="redis://127.0.0.1:9/0", broker_transport_options={}
    )
    yield
    fresh_pool()
    app.conf.update(saved)


@pytest.fixture(autouse=True)
def held_tasks(monkeypatch: pytest.MonkeyPatch) -> HeldTasks:
    """Tasks sent with a countdown are held until the test runs them (`held_tasks.run()`);
    the others run at once, eagerly, as the suite's settings say."""
    held = HeldTasks()
    monkeypatch.setattr(Task, "apply_async", hold_countdowns(held))
    return held
