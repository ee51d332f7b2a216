"""Shared fixtures: the sandbox over real HTTP, users per role, AWS call counting."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group

from opsportal.aws.clients import forget_clients
from sandbox.server import SandboxServer

ROLE_NAMES = ("Viewer", "Operator", "Approver", "Admin")


def _point_aws_at(url: str) -> None:
    os.environ["AWS_ENDPOINT_URL"] = url
    forget_clients()


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One seeded sandbox for the session (demo world), on a free port."""
    server = SandboxServer(port=0, seed="demo", creating_seconds=0.5)
    server.start()
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
