"""SageMaker's per-instance-type quotas, as Service Quotas reports them.

Every SageMaker instance type has an account-level quota per region and per use, named
``<instance type> for transform job usage`` or ``<instance type> for endpoint usage``. New
AWS accounts get 0 for some common types, which is why a first batch transform on
``ml.m5.large`` fails with ResourceLimitExceeded; the sandbox's defaults reproduce that
(``ml.m5.large for transform job usage`` is 0) while a few other CPU types allow 4 instances.
Accelerated types (``ml.g5.*``, ``ml.p4d.*``, ``ml.inf2.*``…) start at 0 for endpoints as
well, so a first GPU deployment fails as it does in a new account; CPU types allow 20
endpoint instances per region. CreateEndpoint, UpdateEndpoint and
UpdateEndpointWeightsAndCapacities are refused over them (sandbox/endpoints.py).

Quota codes are made up but stable: derived from the quota's name, so a code copied from one
run works in the next. Applied values start at the defaults and can be changed per account
and region (or for every region) through ``/_sandbox/quotas``.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from dataclasses import dataclass

TRANSFORM_USAGE = "for transform job usage"
ENDPOINT_USAGE = "for endpoint usage"

# Made up: what a fresh demo account is granted. ml.m5.large transform is 0 on purpose.
_TRANSFORM_GRANTS = {
    "ml.m5.large": 0.0,
    "ml.m5.xlarge": 4.0,
    "ml.m5.2xlarge": 4.0,
    "ml.c5.xlarge": 4.0,
    "ml.c5.2xlarge": 4.0,
}
_OTHER_CPU_TRANSFORM = 2.0
_CPU_ENDPOINT = 20.0
_ACCELERATED_PREFIXES = ("ml.p", "ml.g", "ml.trn", "ml.inf", "ml.dl")


@dataclass(frozen=True)
class QuotaDefinition:
    """One quota of the ``sagemaker`` service: its name, code and AWS default value."""

    name: str
    code: str
    instance_type: str
    usage: str
    default_value: float


def quota_code(name: str) -> str:
    """A stable Service Quotas code (``L-`` and eight hex digits) for a quota name."""
    return "L-" + hashlib.sha256(name.encode()).hexdigest()[:8].upper()


def _instance_types(shape: str) -> tuple[str, ...]:
    """The instance types botocore's SageMaker model allows for a resource."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return tuple(model.shape_for(shape).enum)


def _default_value(instance_type: str, usage: str) -> float:
    if instance_type.startswith(_ACCELERATED_PREFIXES):
        return 0.0
    if usage == TRANSFORM_USAGE:
        return _TRANSFORM_GRANTS.get(instance_type, _OTHER_CPU_TRANSFORM)
    return _CPU_ENDPOINT


@functools.cache
def catalog() -> tuple[QuotaDefinition, ...]:
    """Every sagemaker instance-type quota, ordered by name."""
    definitions: list[QuotaDefinition] = []
    for shape, usage in (
        ("TransformInstanceType", TRANSFORM_USAGE),
        ("ProductionVariantInstanceType", ENDPOINT_USAGE),
    ):
        for instance_type in _instance_types(shape):
            name = f"{instance_type} {usage}"
            definitions.append(
                QuotaDefinition(
                    name=name,
                    code=quota_code(name),
                    instance_type=instance_type,
                    usage=usage,
                    default_value=_default_value(instance_type, usage),
                )
            )
    definitions.sort(key=lambda d: d.name)
    if len({d.code for d in definitions}) != len(definitions):
        raise RuntimeError("Two sagemaker quota names hash to the same quota code.")
    return tuple(definitions)


@functools.cache
def _by_code() -> dict[str, QuotaDefinition]:
    return {d.code: d for d in catalog()}


@functools.cache
def _by_name() -> dict[str, QuotaDefinition]:
    return {d.name: d for d in catalog()}


def by_code(code: str) -> QuotaDefinition | None:
    return _by_code().get(code)


def lookup(name_or_code: str) -> QuotaDefinition | None:
    """A quota by its code or its exact name."""
    return _by_code().get(name_or_code) or _by_name().get(name_or_code)


def transform_quota(instance_type: str) -> QuotaDefinition | None:
    return _by_name().get(f"{instance_type} {TRANSFORM_USAGE}")


def endpoint_quota(instance_type: str) -> QuotaDefinition | None:
    return _by_name().get(f"{instance_type} {ENDPOINT_USAGE}")


@functools.cache
def endpoint_instance_types() -> frozenset[str]:
    """The instance types SageMaker hosts endpoints on, as botocore lists them."""
    return frozenset(_instance_types("ProductionVariantInstanceType"))


def quota_message(name: str, limit: float, in_use: int, delta: int) -> str:
    """AWS's wording for a request over an account-level instance quota."""
    return (
        f"The account-level service limit '{name}' is {limit:g} Instances, with current "
        f"utilization of {in_use} Instances and a request delta of {delta} Instances. Please use "
        "AWS Service Quotas to request an increase for this quota."
    )


def transform_instance_types() -> tuple[str, ...]:
    return tuple(d.instance_type for d in catalog() if d.usage == TRANSFORM_USAGE)


class QuotaError(ValueError):
    """A bad request to the quota controls, worded for the person who sent it."""


@dataclass(frozen=True)
class AppliedValue:
    """An applied value that differs from the default; ``region`` None means every region."""

    account_id: str
    region: str | None
    code: str
    value: float

    def to_json(self) -> dict[str, object]:
        definition = by_code(self.code)
        return {
            "account": self.account_id,
            "region": self.region,
            "code": self.code,
            "name": definition.name if definition else None,
            "value": self.value,
        }


class QuotaStore:
    """Applied quota values: defaults unless set for an account and region (or all regions)."""

    def __init__(self) -> None:
        self._applied: dict[tuple[str, str | None, str], float] = {}
        self._lock = threading.Lock()

    def value(self, account_id: str, region: str, definition: QuotaDefinition) -> float:
        with self._lock:
            for scope in (region, None):
                applied = self._applied.get((account_id, scope, definition.code))
                if applied is not None:
                    return applied
        return definition.default_value

    def set(self, account_id: str, region: str | None, code: str, value: float) -> AppliedValue:
        if by_code(code) is None:
            raise QuotaError(f"No sagemaker quota has the code {code}.")
        if value < 0:
            raise QuotaError("A quota value cannot be negative.")
        with self._lock:
            self._applied[(account_id, region, code)] = float(value)
        return AppliedValue(account_id, region, code, float(value))

    def applied(self) -> list[AppliedValue]:
        with self._lock:
            return [
                AppliedValue(account, region, code, value)
                for (account, region, code), value in sorted(
                    self._applied.items(),
                    key=lambda item: (item[0][0], item[0][1] or "", item[0][2]),
                )
            ]

    def clear(self) -> None:
        with self._lock:
            self._applied.clear()
