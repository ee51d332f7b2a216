"""Fixtures for the sandbox's own tests: one real sandbox over HTTP for the session.

moto keeps its state per process, so only one SandboxServer can run at a time. When the
suite-wide ``sandbox_server`` fixture exists, these tests share it instead of starting a
second one; they never mutate the demo world and create their own resources in regions the
demo world does not use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sandbox.server import SandboxServer
from tests.sandbox.world import aws_client


@pytest.fixture(scope="session")
def running_sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """The session's demo sandbox: the suite-wide one if defined, else our own."""
    try:
        shared = request.getfixturevalue("sandbox_server")
    except pytest.FixtureLookupError:
        shared = None
    if isinstance(shared, SandboxServer):
        yield shared
        return
    with SandboxServer(seed="demo", creating_seconds=0.3, transform_seconds=0.5) as server:
        yield server


@pytest.fixture(scope="session")
def aws(running_sandbox: SandboxServer) -> Callable[..., Any]:
    """``aws("sagemaker", "eu-west-1")``: a boto3 client pointed at the sandbox."""

    def make(service: str, region: str = "us-east-1") -> Any:
        return aws_client(running_sandbox.url, service, region)

    return make
