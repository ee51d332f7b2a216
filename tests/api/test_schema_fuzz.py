"""Schemathesis over the whole API, as an Admin: whatever it sends (valid, or any size and
alphabet), the answer is never a 5xx and always matches the published schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from opsportal.api import api as portal_api
from opsportal.wsgi import application
from tests.shifts.helpers import make_endpoint
from tests.support.world import incident, shift, trail_event, transform_job

schema = schemathesis.openapi.from_dict(portal_api.get_openapi_schema())
schema.app = application
CHECKS = [st_checks.not_a_server_error, st_checks.response_schema_conformance]


@pytest.fixture
def admin_token(transactional_db, user_factory, settings):
    from tokens.services import token_create

    settings.OPSPORTAL_API_RATE = "100000/min"
    endpoint = make_endpoint()
    proposer = user_factory("fuzz-proposer", "Operator")
    shift(endpoint, proposer)
    transform_job()
    incident(endpoint)
    trail_event()
    admin = user_factory("fuzz-admin", "Admin")
    return token_create(actor=admin, name="fuzz", expires_days=1).secret


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_never_fails_and_matches_its_schema(case, admin_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS)
