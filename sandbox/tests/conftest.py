"""Fixtures for the sandbox's own tests: one real sandbox over HTTP for the session.

moto keeps its state per process, so only one SandboxServer can run at a time: these tests run
in a pytest process of their own and start the one they share. They never mutate the demo
world and create their own resources in regions the demo world does not use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from sandbox.server import SandboxServer
from sandbox.testing import allow_endpoint_instances, aws_client

# Endpoints come up (and fail) this soon after CreateEndpoint, so the suite stays quick...
CREATING_SECONDS = 0.5
# ...except in tests that look at an endpoint while it is still Creating: loading its model
# (or finding it missing) may take longer than the brief time above on a busy machine.
SLOW_CREATING_SECONDS = 5.0


@pytest.fixture(scope="session")
def running_sandbox() -> Iterator[SandboxServer]:
    """The session's sandbox with the demo world."""
    with SandboxServer(
        seed="demo", creating_seconds=CREATING_SECONDS, transform_seconds=0.5
    ) as server:
        # The suite creates endpoints by the dozen, more than the default quota allows.
        allow_endpoint_instances(server.url, "ml.m5.large", 1000)
        yield server


@pytest.fixture
def slow_creation(running_sandbox: SandboxServer) -> Iterator[float]:
    """Endpoints created (or redeployed with UpdateEndpoint) during the test stay Creating
    (Updating) for ``SLOW_CREATING_SECONDS``, so the test reliably sees them in that state;
    weight and capacity updates keep their brief duration."""
    endpoints = running_sandbox.state.endpoints
    brief = endpoints.timings
    endpoints.timings = replace(
        brief, creating_seconds=SLOW_CREATING_SECONDS, updating_seconds=brief.update_duration
    )
    yield SLOW_CREATING_SECONDS
    endpoints.timings = brief


@pytest.fixture(scope="session")
def aws(running_sandbox: SandboxServer) -> Callable[..., Any]:
    """``aws("sagemaker", "eu-west-1")``: a boto3 client pointed at the sandbox."""

    def make(service: str, region: str = "us-east-1") -> Any:
        return aws_client(running_sandbox.url, service, region)

    return make
