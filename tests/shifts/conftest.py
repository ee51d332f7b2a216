"""Fixtures for the traffic-shift tests: people in each role, and inventory endpoints with
and without a sandbox behind them (delayed tasks are held by the suite's `held_tasks`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from core.aws.clients import forget_clients
from endpoints.models import Endpoint
from sandbox.testing import SandboxServer
from tests.shifts.helpers import EndpointPool, adopt, make_endpoint


def _reset_broker_pools() -> None:
    from kombu import pools

    from opsportal.celery import app

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(autouse=True)
def _fresh_broker_pools() -> Iterator[None]:
    """Even eager tasks take a producer from kombu's shared pool, and the `broker_down`
    fixture closes that pool without removing it ("Acquire on closed pool" in whichever test
    comes next). Start and leave every shift test with fresh pools."""
    _reset_broker_pools()
    yield
    _reset_broker_pools()


@pytest.fixture
def people(user_factory) -> SimpleNamespace:
    """One user per role (two Approvers), each with an email address."""
    made = {}
    for key, role in [
        ("viewer", "Viewer"),
        ("operator", "Operator"),
        ("approver", "Approver"),
        ("approver2", "Approver"),
        ("admin", "Admin"),
    ]:
        user = user_factory(key, role)
        user.email = f"{key}@example.com"
        user.save(update_fields=["email"])
        made[key] = user
    return SimpleNamespace(**made)


@pytest.fixture
def endpoint(db) -> Endpoint:
    """An InService inventory endpoint, variants A and B at 50/50, no AWS behind it."""
    return make_endpoint()


@pytest.fixture(scope="session")
def endpoint_pool(sandbox_server) -> EndpointPool:
    return EndpointPool(sandbox_server.url)


@pytest.fixture(scope="module")
def aws_sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """The portal's gateway pointed at the sandbox for a whole module (the `sandbox`
    fixture does it per test, rebuilding every boto3 client each time)."""
    previous = os.environ.get("AWS_ENDPOINT_URL", "")
    os.environ["AWS_ENDPOINT_URL"] = sandbox_server.url
    forget_clients()
    yield sandbox_server
    os.environ["AWS_ENDPOINT_URL"] = previous
    forget_clients()


@pytest.fixture
def aws_unreachable() -> Iterator[None]:
    """AWS at a closed local port, whatever earlier tests left in the environment."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        forget_clients()
        yield
    forget_clients()


@pytest.fixture
def live(aws_sandbox, db, endpoint_pool: EndpointPool) -> Endpoint:
    """A fresh sandbox endpoint (v0 and v1 at weight 1/1, one instance each), in the
    inventory."""
    return adopt(endpoint_pool.take())


@pytest.fixture
def run_commits(django_capture_on_commit_callbacks):
    """Run what services queue on commit (the apply task, notifications) as a real commit
    would."""

    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


@pytest.fixture
def plan_endpoint(live, aws_sandbox) -> Iterator[Endpoint]:
    """A fresh sandbox endpoint with all traffic on v0 and the candidate v1 idle, as a
    staged shift starts; faults set on it are cleared afterwards."""
    from sandbox.testing import control
    from tests.shifts.plan_helpers import candidate_only_at_baseline

    yield candidate_only_at_baseline(aws_sandbox.url, live)
    control(aws_sandbox.url, "faults", "DELETE")
