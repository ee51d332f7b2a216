"""A production variant's state: what DescribeEndpoint reports for one variant of a fleet.

Both an endpoint's live fleet and the fleet a deployment is launching are lists of these, so
the endpoint store and the deployment state machine (``sandbox.deployments``) share them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from sandbox.models import SandboxModel


@dataclass
class VariantStatusEntry:
    """One DescribeEndpoint VariantStatus item: what is happening to the variant right now."""

    status: str
    message: str
    start_time: float


@dataclass
class VariantState:
    """A production variant's desired and live values; Current* lag Desired* during changes."""

    name: str
    model_name: str
    instance_type: str | None
    desired_weight: float
    desired_instance_count: int | None
    desired_serverless: dict[str, int] | None
    specified_images: tuple[str, ...] = ()
    current_weight: float | None = None
    current_instance_count: int | None = None
    current_serverless: dict[str, int] | None = None
    status: list[VariantStatusEntry] = field(default_factory=list)
    model: SandboxModel | None = None
    # The fraction of requests the variant's container fails by itself (a broken model build).
    failure_rate: float = 0.0
    # A multi-model container's S3 prefix: each request's TargetModel is loaded from under it
    # (``sandbox.multi_model``); None for a variant that serves one model.
    model_data_prefix: str | None = None

    @property
    def is_serverless(self) -> bool:
        return self.desired_serverless is not None

    def go_live(self) -> None:
        """The fleet now matches the request: Current takes the Desired values."""
        self.current_weight = self.desired_weight
        self.current_instance_count = self.desired_instance_count
        self.current_serverless = (
            dict(self.desired_serverless) if self.desired_serverless is not None else None
        )
        self.status = []


def copy_variant(variant: VariantState) -> VariantState:
    """A copy whose lists and dicts are its own, safe to hand out of the store's lock."""
    return dataclasses.replace(
        variant,
        status=list(variant.status),
        desired_serverless=(
            dict(variant.desired_serverless) if variant.desired_serverless else None
        ),
        current_serverless=(
            dict(variant.current_serverless) if variant.current_serverless else None
        ),
    )
