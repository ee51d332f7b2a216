"""Fixtures for the REST API: a token per role and a client that sends it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.test import Client

from endpoints.models import Endpoint
from tests.shifts.helpers import make_endpoint
from tokens.services import token_create


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit windows and idempotency keys live in the cache: each test starts clean."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def token_for(user_factory) -> Callable[..., str]:
    """`token_for("Operator")` makes a user with that role and returns a token of theirs."""

    def make(role: str | None, username: str | None = None) -> str:
        user = user_factory(username or f"api-{(role or 'none').lower()}", role)
        return token_create(actor=user, name="tests", expires_days=1).secret

    return make


@pytest.fixture
def bearer() -> Callable[[str], dict[str, str]]:
    return lambda token: {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def api(client: Client) -> Client:
    return client


@pytest.fixture
def endpoint(db) -> Endpoint:
    """An InService inventory endpoint, variants A and B at 50/50, no AWS behind it."""
    return make_endpoint()
