"""Endpoint state and its lifecycle, as SageMaker runs it rather than as moto fakes it.

On AWS an endpoint is ``Creating`` for minutes before it is ``InService`` (or ``Failed``), a
weight change passes through ``Updating``, and every status change moves LastModifiedTime,
which is what an incremental inventory sync keys on. Transitions are computed lazily against
the clock whenever a record is read, so no timer thread is needed and ListEndpoints and
DescribeEndpoint can never disagree. LastModifiedTime is the moment the transition was due,
not the moment someone happened to look.

UpdateEndpoint is a deployment: the old fleet keeps serving while the new config's fleet
launches (``PendingDeploymentSummary``), then traffic moves to it as its DeploymentConfig says,
all at once or in canary, linear or rolling steps watched by alarms (``sandbox.deployments``).
The endpoint is Updating throughout, RollingBack while a tripped alarm sends traffic back, and
InService on whichever config won at the end.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sandbox.deployments import Outcome, Pace, PendingDeployment
from sandbox.variants import VariantState, VariantStatusEntry, copy_variant

__all__ = [
    "EndpointError",
    "EndpointRecord",
    "EndpointStatus",
    "EndpointStore",
    "EndpointSummary",
    "InstanceLimit",
    "InstanceLimitExceeded",
    "PendingDeployment",
    "Timings",
    "VariantChange",
    "VariantState",
    "VariantStatusEntry",
]

Clock = Callable[[], float]
AccountRegion = tuple[str, str]


class EndpointStatus(StrEnum):
    OUT_OF_SERVICE = "OutOfService"
    CREATING = "Creating"
    UPDATING = "Updating"
    SYSTEM_UPDATING = "SystemUpdating"
    ROLLING_BACK = "RollingBack"
    IN_SERVICE = "InService"
    DELETING = "Deleting"
    FAILED = "Failed"
    UPDATE_ROLLBACK_FAILED = "UpdateRollbackFailed"


class EndpointError(Exception):
    """A refused request, worded as SageMaker words it; the API answers ValidationException."""


# An instance type's endpoint-usage quota in the caller's account and region: the quota's
# name and value, or None for a type without one.
InstanceLimit = Callable[[str], "tuple[str, float] | None"]


class InstanceLimitExceeded(Exception):
    """The request would take the account over an endpoint-usage instance quota."""

    def __init__(self, quota_name: str, limit: float, in_use: int, delta: int) -> None:
        super().__init__(quota_name)
        self.quota_name = quota_name
        self.limit = limit
        self.in_use = in_use
        self.delta = delta


@dataclass
class EndpointRecord:
    """Everything DescribeEndpoint reports about one endpoint, plus its pending transition."""

    account_id: str
    region: str
    name: str
    arn: str
    config_name: str
    variants: list[VariantState]
    data_capture: dict[str, Any] | None
    creation_time: float
    last_modified_time: float
    status: EndpointStatus
    failure_reason: str | None = None
    transition_at: float | None = None
    transition_to: EndpointStatus | None = None
    pending_failure_reason: str | None = None
    pending_deployment: PendingDeployment | None = None
    # The DeploymentConfig of the last CreateEndpoint or UpdateEndpoint that gave one.
    deployment_config: dict[str, Any] | None = None
    # ShadowProductionVariants: each is sent a copy of a share of the production variant's
    # requests, and its answers are dropped (``sandbox.shadow_copies``).
    shadow_variants: list[VariantState] = dataclasses.field(default_factory=list)
    # The config's AsyncInferenceConfig, for InvokeEndpointAsync (``sandbox.async_inference``).
    async_config: dict[str, Any] | None = None

    def advance(self, now: float) -> None:
        """Apply the pending transition if its time has come."""
        if self.pending_deployment is not None:
            self._advance_deployment(self.pending_deployment, now)
            return
        if self.transition_at is None or self.transition_to is None or now < self.transition_at:
            return
        self.status = self.transition_to
        self.last_modified_time = self.transition_at
        if self.status == EndpointStatus.FAILED:
            self.failure_reason = self.pending_failure_reason
            for variant in self.all_variants:
                variant.status = []
        else:
            for variant in self.all_variants:
                variant.go_live()
        self.transition_at = None
        self.transition_to = None
        self.pending_failure_reason = None

    def _advance_deployment(self, deployment: PendingDeployment, now: float) -> None:
        """Follow the deployment; each change of EndpointStatus moves LastModifiedTime."""
        progress = deployment.advance(now, self.account_id, self.region, self.variants)
        if not progress.finished:
            status = (
                EndpointStatus.ROLLING_BACK
                if progress.outcome == Outcome.ROLLING_BACK
                else EndpointStatus.UPDATING
            )
            if status != self.status:
                self.status = status
                self.last_modified_time = progress.at
            return
        self.pending_deployment = None
        self.status = EndpointStatus.IN_SERVICE
        self.last_modified_time = progress.at
        if progress.outcome == Outcome.SUCCEEDED:
            self._finish_deployment(deployment)
            return
        # Rolled back, or the new fleet never started: the old config keeps serving.
        self.failure_reason = progress.reason
        for variant in self.variants:
            variant.status = []

    def _finish_deployment(self, deployment: PendingDeployment) -> None:
        """The new fleet serves everything and the old one is gone."""
        self.failure_reason = None
        self.config_name = deployment.config_name
        self.data_capture = deployment.data_capture
        self.variants = deployment.variants
        self.shadow_variants = deployment.shadow_variants
        self.async_config = deployment.async_config
        for variant in self.all_variants:
            variant.go_live()

    @property
    def all_variants(self) -> list[VariantState]:
        """Production variants, then shadow variants: every fleet the endpoint runs."""
        return [*self.variants, *self.shadow_variants]

    def variant(self, name: str) -> VariantState | None:
        """A production variant: only these take requests of their own."""
        return next((v for v in self.variants if v.name == name), None)

    def any_variant(self, name: str) -> VariantState | None:
        """A production or shadow variant: weights and capacities can change either."""
        return next((v for v in self.all_variants if v.name == name), None)

    def snapshot(self) -> EndpointRecord:
        """A copy safe to read outside the store's lock while other requests change state."""
        pending = self.pending_deployment.snapshot() if self.pending_deployment else None
        return dataclasses.replace(
            self,
            variants=[copy_variant(v) for v in self.variants],
            shadow_variants=[copy_variant(v) for v in self.shadow_variants],
            async_config=dict(self.async_config) if self.async_config else None,
            pending_deployment=pending,
            deployment_config=dict(self.deployment_config) if self.deployment_config else None,
        )


@dataclass(frozen=True)
class EndpointSummary:
    """One ListEndpoints row."""

    name: str
    arn: str
    creation_time: float
    last_modified_time: float
    status: str


@dataclass(frozen=True)
class VariantChange:
    """One DesiredWeightsAndCapacities item; None means "keep the current value"."""

    variant_name: str
    desired_weight: float | None = None
    desired_instance_count: int | None = None
    max_concurrency: int | None = None
    provisioned_concurrency: int | None = None


@dataclass(frozen=True)
class Timings:
    """How long the simulated fleet takes; AWS takes minutes, tests want fractions of a second."""

    creating_seconds: float = 5.0
    updating_seconds: float | None = None
    # How much faster than AWS the waits a DeploymentConfig names (baking, termination) pass.
    clock_speed: float = 1.0

    @property
    def update_duration(self) -> float:
        return (
            self.updating_seconds
            if self.updating_seconds is not None
            else self.creating_seconds / 2
        )

    @property
    def pace(self) -> Pace:
        """A deployment's durations: launches take creating_seconds, traffic switches
        update_duration, and its waits run clock_speed times faster than on AWS."""
        return Pace(self.creating_seconds, self.update_duration, self.clock_speed)


class EndpointStore:
    """All endpoints the sandbox serves, per account and region, safe for a threaded server."""

    def __init__(self, timings: Timings | None = None, clock: Clock = time.time) -> None:
        self.timings = timings or Timings()
        self.clock = clock
        self._lock = threading.RLock()
        self._endpoints: dict[AccountRegion, dict[str, EndpointRecord]] = {}

    def _region(self, account_id: str, region: str) -> dict[str, EndpointRecord]:
        return self._endpoints.setdefault((account_id, region), {})

    def exists(self, account_id: str, region: str, name: str) -> bool:
        with self._lock:
            return name in self._region(account_id, region)

    def add(self, record: EndpointRecord, *, limit: InstanceLimit | None = None) -> None:
        """Store a new endpoint; EndpointError if the name is taken in its region,
        InstanceLimitExceeded if its instances would exceed a quota."""
        with self._lock:
            endpoints = self._region(record.account_id, record.region)
            if record.name in endpoints:
                raise EndpointError(f'Cannot create already existing endpoint "{record.arn}".')
            self._admit_instances(record.account_id, record.region, _instances_held(record), limit)
            endpoints[record.name] = record

    def _admit_instances(
        self, account_id: str, region: str, requested: Counter[str], limit: InstanceLimit | None
    ) -> None:
        """InstanceLimitExceeded if `requested` more instances of a type would take the
        region over its quota; called with the lock held, so two requests cannot both
        squeeze under it."""
        if limit is None:
            return
        now = self.clock()
        in_use: Counter[str] = Counter()
        for record in self._region(account_id, region).values():
            record.advance(now)
            in_use.update(_instances_held(record))
        for instance_type, delta in sorted(requested.items()):
            quota = limit(instance_type) if delta > 0 else None
            if quota is not None and in_use[instance_type] + delta > quota[1]:
                name, value = quota
                raise InstanceLimitExceeded(name, value, in_use[instance_type], delta)

    def get(self, account_id: str, region: str, name: str) -> EndpointRecord | None:
        """A snapshot of the endpoint with due transitions applied, or None."""
        with self._lock:
            record = self._region(account_id, region).get(name)
            if record is None:
                return None
            record.advance(self.clock())
            return record.snapshot()

    def backdate_creation(self, account_id: str, region: str, name: str, created: float) -> bool:
        """Set a seeded endpoint's CreationTime: a seeded world was built before the sandbox
        started, and its trail says when (``sandbox/creation_story.py``)."""
        with self._lock:
            record = self._region(account_id, region).get(name)
            if record is None:
                return False
            record.creation_time = created
            return True

    def summaries(self, account_id: str, region: str) -> list[EndpointSummary]:
        """Every endpoint in a region as ListEndpoints rows, transitions applied."""
        now = self.clock()
        with self._lock:
            rows = []
            for record in self._region(account_id, region).values():
                record.advance(now)
                rows.append(
                    EndpointSummary(
                        name=record.name,
                        arn=record.arn,
                        creation_time=record.creation_time,
                        last_modified_time=record.last_modified_time,
                        status=record.status.value,
                    )
                )
            return rows

    def all_records(self) -> list[EndpointRecord]:
        """Snapshots of every endpoint in every account and region, transitions applied.

        The metrics publisher, traffic generator and fault checks work across regions.
        """
        now = self.clock()
        with self._lock:
            records = []
            for endpoints in self._endpoints.values():
                for record in endpoints.values():
                    record.advance(now)
                    records.append(record.snapshot())
            return records

    def advance_all(self) -> None:
        """Bring every endpoint up to now, so a deployment's alarms are watched even while
        nobody reads the endpoint (SageMaker watches them throughout)."""
        now = self.clock()
        with self._lock:
            for endpoints in self._endpoints.values():
                for record in endpoints.values():
                    record.advance(now)

    def remove(self, account_id: str, region: str, name: str) -> EndpointRecord | None:
        with self._lock:
            return self._region(account_id, region).pop(name, None)

    def update_weights_and_capacities(
        self,
        account_id: str,
        region: str,
        name: str,
        arn: str,
        changes: list[VariantChange],
        *,
        limit: InstanceLimit | None = None,
    ) -> EndpointRecord:
        """Start an Updating phase; Current* keep the live values until it completes."""
        now = self.clock()
        with self._lock:
            record = self._region(account_id, region).get(name)
            if record is None:
                raise EndpointError(f'Could not find endpoint "{arn}".')
            record.advance(now)
            _check_changes(record, changes)
            self._admit_instances(account_id, region, _instances_added(record, changes), limit)
            record.status = EndpointStatus.UPDATING
            record.last_modified_time = now
            record.transition_at = now + self.timings.update_duration
            record.transition_to = EndpointStatus.IN_SERVICE
            for change in changes:
                variant = record.any_variant(change.variant_name)
                assert variant is not None
                _apply_change(variant, change, now)
            return record.snapshot()

    def update_endpoint(
        self,
        account_id: str,
        region: str,
        name: str,
        arn: str,
        deployment: PendingDeployment,
        *,
        deployment_config: dict[str, Any] | None = None,
        limit: InstanceLimit | None = None,
    ) -> EndpointRecord:
        """Start deploying a new config; the old fleet serves until the deployment ends.

        The new fleet launches like a new endpoint's (``creating_seconds``), then takes the
        traffic as the deployment's policy plans; its instances count against the quotas
        beside the old fleet's until then (a rolling deployment's one batch at a time).
        """
        now = self.clock()
        with self._lock:
            record = self._region(account_id, region).get(name)
            if record is None:
                raise EndpointError(f'Could not find endpoint "{arn}".')
            record.advance(now)
            _check_updatable(record)
            self._admit_instances(account_id, region, deployment.instances_held(), limit)
            deployment.schedule(record.variants, self.timings.pace)
            record.status = EndpointStatus.UPDATING
            record.last_modified_time = now
            record.pending_deployment = deployment
            if deployment_config is not None:
                record.deployment_config = deployment_config
            return record.snapshot()

    def clear(self) -> None:
        with self._lock:
            self._endpoints.clear()


def _fleet(variants: list[VariantState]) -> Counter[str]:
    """Instances per type of a fleet: each variant's larger of its live and requested count."""
    held: Counter[str] = Counter()
    for variant in variants:
        if variant.instance_type and not variant.is_serverless:
            held[variant.instance_type] += max(
                variant.current_instance_count or 0, variant.desired_instance_count or 0
            )
    return held


def _instances_held(record: EndpointRecord) -> Counter[str]:
    """What an endpoint holds against the quotas: its fleet, and a deployment's new fleet
    besides while both run. A Failed endpoint holds none."""
    if record.status == EndpointStatus.FAILED:
        return Counter()
    held = _fleet(record.all_variants)
    if record.pending_deployment is not None:
        held.update(record.pending_deployment.instances_held())
    return held


def _instances_added(record: EndpointRecord, changes: list[VariantChange]) -> Counter[str]:
    """The instances a capacity change asks for beyond what each variant already holds."""
    added: Counter[str] = Counter()
    for change in changes:
        variant = record.any_variant(change.variant_name)
        if variant is None or variant.instance_type is None:
            continue
        if change.desired_instance_count is None or variant.is_serverless:
            continue
        held = max(variant.current_instance_count or 0, variant.desired_instance_count or 0)
        if change.desired_instance_count > held:
            added[variant.instance_type] += change.desired_instance_count - held
    return added


def _check_updatable(record: EndpointRecord) -> None:
    """Only an InService endpoint can change; SageMaker's wording for the other cases."""
    if record.status == EndpointStatus.IN_SERVICE:
        return
    if record.status == EndpointStatus.FAILED:
        raise EndpointError(
            f'Cannot update endpoint "{record.arn}" because it is in Failed status; '
            "delete it and create it again."
        )
    raise EndpointError(f'Cannot update in-progress endpoint "{record.arn}".')


def _check_changes(record: EndpointRecord, changes: list[VariantChange]) -> None:
    """Refuse the whole request before touching anything, as SageMaker does."""
    _check_updatable(record)
    seen: set[str] = set()
    for change in changes:
        if change.variant_name in seen:
            raise EndpointError(
                f'The variant name "{change.variant_name}" was non-unique within the request.'
            )
        seen.add(change.variant_name)
    missing = [c.variant_name for c in changes if record.any_variant(c.variant_name) is None]
    if missing:
        names = ", ".join(missing)
        raise EndpointError(
            f'The variant name(s) "{names}" is/are not present within endpoint configuration '
            f'"{record.config_name}".'
        )
    for change in changes:
        variant = record.any_variant(change.variant_name)
        assert variant is not None
        serverless_change = (
            change.max_concurrency is not None or change.provisioned_concurrency is not None
        )
        if (
            change.desired_weight is None
            and change.desired_instance_count is None
            and not (serverless_change)
        ):
            raise EndpointError(
                f'Variant "{change.variant_name}" needs at least one of DesiredWeight, '
                "DesiredInstanceCount or ServerlessUpdateConfig."
            )
        if change.desired_weight is not None and change.desired_weight < 0:
            raise EndpointError(
                f"Value '{change.desired_weight}' at 'desiredWeight' failed to satisfy "
                "constraint: Member must have value greater than or equal to 0"
            )
        if change.desired_instance_count is not None:
            if variant.is_serverless:
                raise EndpointError(
                    f'Variant "{variant.name}" is serverless; update it with '
                    "ServerlessUpdateConfig instead of DesiredInstanceCount."
                )
            if change.desired_instance_count < 0:
                raise EndpointError(
                    f"Value '{change.desired_instance_count}' at 'desiredInstanceCount' "
                    "failed to satisfy constraint: Member must have value greater than or "
                    "equal to 0"
                )
            if change.desired_instance_count == 0 and not _may_scale_to_zero(record):
                raise EndpointError(
                    f'Variant "{variant.name}" of endpoint "{record.arn}" cannot have 0 '
                    "instances: only an asynchronous inference endpoint (or one hosting "
                    "inference components) can scale to zero."
                )
        if serverless_change and not variant.is_serverless:
            raise EndpointError(
                f'Variant "{variant.name}" is not serverless; ServerlessUpdateConfig does not '
                "apply to it."
            )


def _may_scale_to_zero(record: EndpointRecord) -> bool:
    """SageMaker lets an endpoint run on 0 instances when requests can wait for capacity:
    asynchronous inference (they queue) or inference components (their own scaling)."""
    hosts_components = bool(record.variants) and all(not v.model_name for v in record.variants)
    return bool(record.async_config) or hosts_components


def _apply_change(variant: VariantState, change: VariantChange, now: float) -> None:
    messages = []
    if change.desired_weight is not None and change.desired_weight != variant.desired_weight:
        messages.append(f"weight {variant.desired_weight:g} to {change.desired_weight:g}")
        variant.desired_weight = change.desired_weight
    if change.desired_instance_count is not None:
        if change.desired_instance_count != variant.desired_instance_count:
            messages.append(
                f"instance count {variant.desired_instance_count} to "
                f"{change.desired_instance_count}"
            )
        variant.desired_instance_count = change.desired_instance_count
    if variant.desired_serverless is not None:
        updated = dict(variant.desired_serverless)
        if change.max_concurrency is not None:
            updated["MaxConcurrency"] = change.max_concurrency
        if change.provisioned_concurrency is not None:
            updated["ProvisionedConcurrency"] = change.provisioned_concurrency
        if updated != variant.desired_serverless:
            messages.append("serverless configuration")
        variant.desired_serverless = updated
    # Moving instances or concurrency is an update of the fleet; a weight alone only reroutes.
    capacity_changes = change.desired_instance_count is not None or (
        change.max_concurrency is not None or change.provisioned_concurrency is not None
    )
    status = "Updating" if capacity_changes else "ActivatingTraffic"
    message = "Changing " + ", ".join(messages) if messages else "Applying the requested values"
    variant.status = [VariantStatusEntry(status=status, message=message, start_time=now)]
