"""A Completed job's preview and a region's model names are read from AWS once, then
served from the cache: reloading the page makes no AWS call."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from core.aws import clients
from tests.transforms.conftest import tumor_launch
from transforms import live, services
from transforms.models import TransformJob

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_model_names_are_listed_once_a_minute(sandbox):
    clients.reset_call_counts()
    first, error = live.model_names(target_name="sandbox", region="us-east-1")
    assert not error and "tumor-model-v1" in first
    again, _ = live.model_names(target_name="sandbox", region="us-east-1")
    assert again == first
    assert clients.call_counts()[("sagemaker", "ListModels")] == 1


def test_completed_preview_is_read_once(sandbox, operator):
    job = services.transform_job_launch(launch=tumor_launch(), actor=operator)
    services.transform_job_create(job_id=str(job.pk))
    for _ in range(200):
        TransformJob.objects.filter(pk=job.pk).update(last_polled_at=None)
        services.transform_job_poll(job_id=str(job.pk))
        job.refresh_from_db()
        if job.is_terminal:
            break
        time.sleep(0.05)
    assert job.status == "Completed"
    clients.reset_call_counts()
    first = live.output_preview(job=job)
    reads = sum(clients.call_counts().values())
    second = live.output_preview(job=job)
    assert not first.error and first.objects[0].rows == second.objects[0].rows
    assert reads >= 2 and sum(clients.call_counts().values()) == reads
