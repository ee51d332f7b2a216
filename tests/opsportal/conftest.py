"""Fixtures for the page-wide tests (role matrix, no-5xx)."""

from __future__ import annotations

import pytest

from endpoints.models import Endpoint
from tests.support.world import matrix_endpoint


@pytest.fixture
def endpoint(db) -> Endpoint:
    return matrix_endpoint()
