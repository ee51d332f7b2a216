"""Helpers shared by the shift tests and the shift browser test. Delayed apply and poll
tasks are held by the suite's `held_tasks` fixture (tests/support/queue.py) until a test
runs them, after a short real wait, so the sandbox's Updating window passes the way the
poll interval would let it in production."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.aws import clients
from endpoints.models import Endpoint, Variant
from endpoints.services import endpoint_refresh, inventory_sync
from shifts.models import ShiftProposal, ShiftState
from tests.aws_actor import sagemaker, wait_for_status
from tests.support.queue import HeldTasks

UPDATE_CALL = ("sagemaker", "UpdateEndpointWeightsAndCapacities")


def make_endpoint(
    name: str = "checkout",
    *,
    weights: tuple[float, ...] = (50.0, 50.0),
    status: str = "InService",
) -> Endpoint:
    """An inventory row with variants A, B, … (no AWS behind it)."""
    now = timezone.now()
    endpoint = Endpoint.objects.create(
        target="sandbox",
        account_id="123456789012",
        region="us-east-1",
        name=name,
        arn=f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{name}",
        status=status,
        status_changed_at=now,
        creation_time=now,
        last_modified_time=now,
        synced_at=now,
    )
    for index, weight in enumerate(weights):
        Variant.objects.create(
            endpoint=endpoint,
            name="ABCDEFGH"[index],
            position=index,
            instance_type="ml.m5.large",
            current_weight=weight,
            desired_weight=weight,
            current_instance_count=1,
            desired_instance_count=1,
        )
    return endpoint


@functools.cache
def console(url: str, region: str = "us-east-1") -> Any:
    """A colleague's SageMaker client (tests.aws_actor), built once: building a boto3 client
    costs more than the calls these tests make with it."""
    return sagemaker(url, region)


class EndpointPool:
    """Fresh sandbox endpoints (v0 and v1 at weight 1/1, one instance each), created in
    batches so that the tests share one Creating wait instead of paying one each."""

    def __init__(self, url: str, batch: int = 12) -> None:
        self.url = url
        self.batch = batch
        self.ready: list[str] = []

    def take(self) -> str:
        """An endpoint that still exists: other tests restart the sandbox, which forgets
        everything created before."""
        while True:
            if not self.ready:
                self.ready = self._create()
            name = self.ready.pop()
            try:
                console(self.url).describe_endpoint(EndpointName=name)
            except console(self.url).exceptions.ClientError:
                self.ready = []
                continue
            return name

    def _create(self) -> list[str]:
        sm = console(self.url)
        model = sm.list_models(NameContains="tumor", MaxResults=100)["Models"][0]["ModelName"]
        names = [f"shift-{uuid.uuid4().hex[:10]}" for _ in range(self.batch)]
        for name in names:
            sm.create_endpoint_config(
                EndpointConfigName=name,
                ProductionVariants=[
                    {
                        "VariantName": f"v{i}",
                        "ModelName": model,
                        "InstanceType": "ml.m5.large",
                        "InitialInstanceCount": 1,
                        "InitialVariantWeight": 1.0,
                    }
                    for i in range(2)
                ],
            )
            sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
        for name in names:
            wait_for_status(sm, name, "InService")
        return names


def adopt(name: str) -> Endpoint:
    """Bring one sandbox endpoint into the inventory (a refresh of just that endpoint)."""
    now = timezone.now()
    row = Endpoint.objects.create(
        target="sandbox",
        account_id=settings.OPSPORTAL_TARGETS[0].account_id,
        region="us-east-1",
        name=name,
        arn="",
        status="Creating",
        status_changed_at=now,
        creation_time=now,
        last_modified_time=now,
        synced_at=now,
    )
    assert endpoint_refresh(endpoint_id=row.pk) in ("updated", "unchanged")
    return Endpoint.objects.get(pk=row.pk)


def sync(region: str = "us-east-1") -> None:
    report = inventory_sync(target=settings.OPSPORTAL_TARGETS[0], region=region)
    assert report.ok, report.error


def update_calls() -> int:
    return clients.call_counts()[UPDATE_CALL]


def reload(proposal: ShiftProposal) -> ShiftProposal:
    return ShiftProposal.objects.get(pk=proposal.pk)


def settle(held_tasks: HeldTasks, proposal: ShiftProposal) -> ShiftProposal:
    """Let the delayed polls run until the proposal reaches an outcome."""
    held_tasks.run()
    proposal = reload(proposal)
    assert proposal.state not in (ShiftState.APPROVED, ShiftState.APPLYING), proposal.state
    return proposal


@functools.cache
def autoscaling(url: str, region: str = "us-east-1") -> Any:
    """A colleague's Application Auto Scaling client (built once)."""
    import boto3

    return boto3.client(
        "application-autoscaling",
        region_name=region,
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def refreshed(endpoint: Endpoint) -> Endpoint:
    """The endpoint after its Refresh (the region's sync re-reads only endpoints whose
    LastModifiedTime moved, and auto scaling changes do not move it)."""
    endpoint_refresh(endpoint_id=endpoint.pk)
    return Endpoint.objects.get(pk=endpoint.pk)
