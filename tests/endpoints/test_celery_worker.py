"""A real Celery worker process runs the refresh task end to end, through the configured
broker (Redis when REDIS_URL is set, the filesystem transport otherwise) and database."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from endpoints.models import Endpoint
from endpoints.services import endpoint_refresh_request, inventory_sync
from tests.celery_worker import running_worker


@pytest.fixture
def worker(sandbox, transactional_db):
    with running_worker(aws_endpoint_url=sandbox.url) as proc:
        yield proc


def test_worker_refreshes_an_endpoint(worker, sandbox, user_factory):
    inventory_sync(target=settings.OPSPORTAL_TARGETS[0], region="us-east-1")
    endpoint = Endpoint.objects.get(name="fraud-detection")
    Endpoint.objects.filter(pk=endpoint.pk).update(status="Updating", describe_raw={})

    operator = user_factory("refresher", "Operator")
    assert endpoint_refresh_request(endpoint=endpoint, actor=operator) is True

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        endpoint.refresh_from_db()
        if endpoint.status == "InService":
            break
        if worker.poll() is not None:
            pytest.fail(f"worker died:\n{worker.stdout.read()}")
        time.sleep(0.25)
    else:
        worker.terminate()
        pytest.fail(
            f"the worker did not refresh the endpoint:\n{worker.communicate(timeout=10)[0]}"
        )
    assert endpoint.describe_raw["EndpointName"] == "fraud-detection"
