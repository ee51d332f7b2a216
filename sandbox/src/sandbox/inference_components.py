"""Inference components: models placed as copies on an endpoint's instances.

An endpoint built for components has a production variant with InstanceType and
InitialInstanceCount but no ModelName. CreateInferenceComponent places copies of one model
on that variant, each copy taking the cores and memory its ComputeResourceRequirements ask
for; a copy that does not fit on the variant's instances (after the other components'
copies) is not placed: CurrentCopyCount stays below DesiredCopyCount, and a component none
of whose copies fit fails with AWS's capacity reason. The component is Creating for the
endpoint store's ``creating_seconds``, then InService (or Failed when its model cannot
load, as an endpoint would). InvokeEndpoint names the component in
``X-Amzn-SageMaker-Inference-Component``; each request is counted under the
InferenceComponentName dimension of AWS/SageMaker.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox import moto_bridge
from sandbox.aws_protocol import AwsError, AwsRequest, WsgiResponse, json_response
from sandbox.aws_protocol import validation_error as invalid
from sandbox.component_metrics import ComponentMetrics, ServingComponent
from sandbox.endpoint_metrics import vcpus
from sandbox.endpoints import EndpointRecord, EndpointStore, VariantState
from sandbox.listing import TimeBounds, enum_error, page_answer, paginate, parse_list_query
from sandbox.metric_store import MetricStore, SeriesKey, dimensions_key
from sandbox.model_data import ArtifactCache, prepare_variant
from sandbox.models import SandboxModel

COMPONENT_HEADER = "x-amzn-sagemaker-inference-component"
STATUSES = ("InService", "Creating", "Updating", "Failed", "Deleting")
# AWS's answer to an InvokeEndpoint without InferenceComponentName on a component endpoint.
NAME_REQUIRED = (
    "Inference Component Name header is required for endpoints to which you plan to deploy "
    "inference components. Please include Inference Component Name header or consider using "
    "SageMaker models."
)
# GiB of memory per vCPU by instance family letter (m: general purpose, c: compute, r: memory).
_GIB_PER_VCPU = {"c": 2, "m": 4, "r": 8, "g": 4, "p": 8, "t": 2}


def memory_mb(instance_type: str | None) -> int:
    """Memory of an ML instance type in MB, from its family and size (ml.m5.xlarge -> 16384)."""
    family = (instance_type or "ml.m").split(".")[1][:1] if "." in (instance_type or "") else "m"
    return vcpus(instance_type) * _GIB_PER_VCPU.get(family, 4) * 1024


def is_component_host(record: EndpointRecord) -> bool:
    """An endpoint whose variants carry no model: it serves inference components only."""
    return bool(record.variants) and all(not v.model_name for v in record.variants)


@dataclass
class Component:
    account_id: str
    region: str
    name: str
    arn: str
    endpoint_name: str
    endpoint_arn: str
    variant_name: str
    specification: dict[str, Any]
    desired_copies: int
    creation_time: float
    last_modified_time: float
    ready_at: float
    model: SandboxModel | None
    failure_reason: str | None = None
    current_copies: int = 0
    placed: bool = False
    deleted: bool = False
    tags: list[dict[str, str]] = field(default_factory=list)

    @property
    def cores(self) -> float:
        needs = self.specification.get("ComputeResourceRequirements") or {}
        return float(needs.get("NumberOfCpuCoresRequired") or 0)

    @property
    def memory(self) -> float:
        needs = self.specification.get("ComputeResourceRequirements") or {}
        return float(needs.get("MinMemoryRequiredInMb") or 0)

    def status(self, now: float) -> str:
        if now < self.ready_at:
            # Modified after its creation: an update (new copy count or specification).
            return "Updating" if self.last_modified_time > self.creation_time else "Creating"
        if self.failure_reason:
            return "Failed"
        return "InService"


class ComponentStore:
    """Every account's inference components, with their copies placed on the instances."""

    def __init__(self, endpoints: EndpointStore) -> None:
        self.endpoints = endpoints
        self._lock = threading.RLock()
        self._components: dict[tuple[str, str, str], Component] = {}

    def clear(self) -> None:
        with self._lock:
            self._components.clear()

    def get(self, account: str, region: str, name: str) -> Component | None:
        with self._lock:
            found = self._components.get((account, region, name))
            if found is not None:
                self._settle(found)
            return found

    def all(self, account: str, region: str) -> list[Component]:
        with self._lock:
            found = [c for (a, r, _), c in self._components.items() if (a, r) == (account, region)]
            for component in found:
                self._settle(component)
            return found

    def serving(self) -> list[ServingComponent]:
        """Every account's InService components with their copies, for the utilization
        metrics SageMaker publishes each minute."""
        with self._lock:
            found = list(self._components.values())
            for component in found:
                self._settle(component)
            now = self.endpoints.clock()
            return [
                ServingComponent(c.account_id, c.region, c.name, c.current_copies, c.cores)
                for c in found
                if c.status(now) == "InService" and c.current_copies > 0
            ]

    def add(self, component: Component) -> None:
        with self._lock:
            key = (component.account_id, component.region, component.name)
            if key in self._components:
                raise invalid(
                    f'Cannot create already existing inference component "{component.arn}".'
                )
            self._components[key] = component

    def remove(self, account: str, region: str, name: str) -> None:
        with self._lock:
            self._components.pop((account, region, name), None)

    def _settle(self, component: Component) -> None:
        """Place the copies once the component is due, as many as the instances hold."""
        now = self.endpoints.clock()
        if component.placed or now < component.ready_at or component.failure_reason:
            return
        record = self.endpoints.get(component.account_id, component.region, component.endpoint_name)
        variant = record.variant(component.variant_name) if record else None
        fits = self._copies_that_fit(component, variant)
        component.current_copies = min(component.desired_copies, fits)
        component.placed = True
        if component.current_copies == 0:
            component.failure_reason = (
                "Unable to place any copy of the inference component: the instances of variant "
                f"{component.variant_name} do not have enough free compute resources "
                f"({component.cores:g} CPU cores and {component.memory:g} MB memory per copy)."
            )

    def _copies_that_fit(self, component: Component, variant: VariantState | None) -> int:
        if variant is None:
            return 0
        count = variant.current_instance_count or variant.desired_instance_count or 0
        free_cores: float = vcpus(variant.instance_type) * count
        free_memory: float = memory_mb(variant.instance_type) * count
        for other in self._components.values():
            same_host = (other.account_id, other.region, other.endpoint_name) == (
                component.account_id,
                component.region,
                component.endpoint_name,
            )
            if other is component or not same_host or not other.placed:
                continue
            free_cores -= other.cores * other.current_copies
            free_memory -= other.memory * other.current_copies
        limits = [component.desired_copies]
        if component.cores:
            limits.append(int(max(0.0, free_cores) // component.cores))
        if component.memory:
            limits.append(int(max(0.0, free_memory) // component.memory))
        return max(0, min(limits))

    def backdate_creation(self, account_id: str, region: str, name: str, created: float) -> bool:
        """Set a seeded component's CreationTime (and LastModifiedTime): the seeded world was
        built before the sandbox started (``sandbox/creation_story.py``)."""
        with self._lock:
            component = self._components.get((account_id, region, name))
            if component is None:
                return False
            component.creation_time = component.last_modified_time = created
            return True

    def rescale(self, component: Component, copies: int, now: float) -> None:
        """UpdateInferenceComponent(RuntimeConfig): replace the copies after an update."""
        with self._lock:
            component.desired_copies = copies
            component.placed = False
            component.failure_reason = None
            component.ready_at = now + self.endpoints.timings.creating_seconds
            component.last_modified_time = now


def _required(params: Mapping[str, Any], name: str) -> Any:
    value = params.get(name)
    if value is None or value == "":
        member = name[0].lower() + name[1:]
        raise invalid(
            f"1 validation error detected: Value null at '{member}' failed to satisfy "
            "constraint: Member must not be null"
        )
    return value


def _copy_count(params: Mapping[str, Any], member: str = "RuntimeConfig") -> int:
    runtime = params.get(member) or {}
    copies = _required(runtime, "CopyCount")
    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 0:
        raise invalid(
            f"1 validation error detected: Value '{copies}' at 'runtimeConfig.copyCount' "
            "failed to satisfy constraint: Member must have value greater than or equal to 0"
        )
    return copies


def not_found(request: AwsRequest, name: str) -> AwsError:
    arn = _arn(request, name)
    return invalid(f'Could not find inference component "{arn}".')


def _arn(request: AwsRequest, name: str) -> str:
    return f"arn:aws:sagemaker:{request.region}:{request.account_id}:inference-component/{name}"


def render(component: Component, now: float) -> dict[str, Any]:
    """DescribeInferenceComponent's answer."""
    described: dict[str, Any] = {
        "InferenceComponentName": component.name,
        "InferenceComponentArn": component.arn,
        "EndpointName": component.endpoint_name,
        "EndpointArn": component.endpoint_arn,
        "VariantName": component.variant_name,
        "Specification": dict(component.specification),
        "RuntimeConfig": {
            "DesiredCopyCount": component.desired_copies,
            "CurrentCopyCount": component.current_copies,
        },
        "CreationTime": component.creation_time,
        "LastModifiedTime": component.last_modified_time,
        "InferenceComponentStatus": component.status(now),
    }
    if component.failure_reason and now >= component.ready_at:
        described["FailureReason"] = component.failure_reason
    return described


class InferenceComponentsApi:
    """The inference-component operations of the SageMaker API."""

    def __init__(
        self,
        store: ComponentStore,
        artifacts: ArtifactCache,
        metrics: MetricStore,
        utilization: ComponentMetrics,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.metrics = metrics
        self.utilization = utilization

    def operations(self) -> dict[str, Any]:
        return {
            "CreateInferenceComponent": self.create,
            "DescribeInferenceComponent": self.describe,
            "ListInferenceComponents": self.list,
            "UpdateInferenceComponent": self.update,
            "UpdateInferenceComponentRuntimeConfig": self.update_runtime_config,
            "DeleteInferenceComponent": self.delete,
        }

    def create(self, request: AwsRequest) -> WsgiResponse:
        params = request.json_body()
        name = str(_required(params, "InferenceComponentName"))
        endpoint_name = str(_required(params, "EndpointName"))
        variant_name = str(_required(params, "VariantName"))
        specification = dict(_required(params, "Specification"))
        copies = _copy_count(params)
        account, region = request.account_id, request.region
        endpoints = self.store.endpoints
        record = endpoints.get(account, region, endpoint_name)
        if record is None:
            raise invalid(
                f'Could not find endpoint "arn:aws:sagemaker:{region}:{account}:endpoint/'
                f'{endpoint_name}".'
            )
        variant = record.variant(variant_name)
        if variant is None:
            raise invalid(f"Variant {variant_name} not found in endpoint {endpoint_name}.")
        if variant.model_name:
            raise invalid(
                f"Endpoint {endpoint_name} hosts model {variant.model_name} on variant "
                f"{variant_name}: inference components need a variant without ModelName."
            )
        model_name = str(_required(specification, "ModelName"))
        description = moto_bridge.model_description(account, region, model_name)
        if description is None:
            raise invalid(
                f'Could not find model "arn:aws:sagemaker:{region}:{account}:model/{model_name}".'
            )
        prepared = prepare_variant(
            self.artifacts,
            account_id=account,
            region=region,
            variant_name=variant_name,
            model_description=description,
        )
        now = endpoints.clock()
        component = Component(
            account_id=account,
            region=region,
            name=name,
            arn=_arn(request, name),
            endpoint_name=endpoint_name,
            endpoint_arn=record.arn,
            variant_name=variant_name,
            specification=specification,
            desired_copies=copies,
            creation_time=now,
            last_modified_time=now,
            ready_at=now + endpoints.timings.creating_seconds,
            model=prepared.model,
            failure_reason=prepared.failure_reason,
            tags=list(params.get("Tags") or []),
        )
        self.store.add(component)
        return json_response(request, {"InferenceComponentArn": component.arn})

    def _existing(self, request: AwsRequest) -> Component:
        name = str(_required(request.json_body(), "InferenceComponentName"))
        found = self.store.get(request.account_id, request.region, name)
        if found is None:
            raise not_found(request, name)
        return found

    def describe(self, request: AwsRequest) -> WsgiResponse:
        component = self._existing(request)
        return json_response(request, render(component, self.store.endpoints.clock()))

    def list(self, request: AwsRequest) -> WsgiResponse:
        params = request.json_body()
        query = parse_list_query(params, sort_fields=("Name", "CreationTime", "Status"))
        status = params.get("StatusEquals")
        if status is not None and status not in STATUSES:
            raise enum_error(status, "statusEquals", STATUSES)
        now = self.store.endpoints.clock()
        bounds = TimeBounds.parse(params)

        def matches(c: Component) -> bool:
            return (
                (query.name_contains is None or query.name_contains.lower() in c.name.lower())
                and c.endpoint_name == (params.get("EndpointNameEquals") or c.endpoint_name)
                and c.variant_name == (params.get("VariantNameEquals") or c.variant_name)
                and (status is None or c.status(now) == status)
                and bounds.admit(created=c.creation_time, modified=c.last_modified_time)
            )

        def sort_value(c: Component) -> str | float:
            if query.sort_by == "Name":
                return c.name
            if query.sort_by == "Status":
                return c.status(now)
            return c.creation_time

        found = [c for c in self.store.all(request.account_id, request.region) if matches(c)]
        page = paginate(found, query, sort_value=sort_value, name=lambda c: c.name)
        return json_response(
            request,
            page_answer(
                "InferenceComponents",
                page,
                lambda c: {
                    "InferenceComponentName": c.name,
                    "InferenceComponentArn": c.arn,
                    "EndpointName": c.endpoint_name,
                    "EndpointArn": c.endpoint_arn,
                    "VariantName": c.variant_name,
                    "InferenceComponentStatus": c.status(now),
                    "CreationTime": c.creation_time,
                    "LastModifiedTime": c.last_modified_time,
                },
            ),
        )

    def update(self, request: AwsRequest) -> WsgiResponse:
        component = self._existing(request)
        params = request.json_body()
        now = self.store.endpoints.clock()
        if params.get("Specification"):
            component.specification = {**component.specification, **params["Specification"]}
        copies = _copy_count(params) if params.get("RuntimeConfig") else component.desired_copies
        self.store.rescale(component, copies, now)
        return json_response(request, {"InferenceComponentArn": component.arn})

    def update_runtime_config(self, request: AwsRequest) -> WsgiResponse:
        component = self._existing(request)
        copies = _copy_count(request.json_body(), "DesiredRuntimeConfig")
        self.store.rescale(component, copies, self.store.endpoints.clock())
        return json_response(request, {"InferenceComponentArn": component.arn})

    def delete(self, request: AwsRequest) -> WsgiResponse:
        component = self._existing(request)
        self.store.remove(request.account_id, request.region, component.name)
        return json_response(request, {})

    def serving_variant(self, request: AwsRequest, record: EndpointRecord) -> VariantState:
        """The variant, carrying the component's model, that answers a request naming one."""
        name = request.headers.get(COMPONENT_HEADER) or ""
        component = self.store.get(request.account_id, request.region, name)
        if component is None or component.endpoint_name != record.name:
            raise invalid(
                f"Inference Component {name} not found for endpoint {record.name} of account "
                f"{request.account_id}."
            )
        now = self.store.endpoints.clock()
        # An update replaces copies while the old ones keep serving, as on AWS.
        serving = component.status(now) in ("InService", "Updating")
        if not serving or component.current_copies == 0:
            raise invalid(
                f"Inference Component {name} is not in service: its status is "
                f"{component.status(now)}."
            )
        variant = record.variant(component.variant_name)
        assert variant is not None
        return dataclasses.replace(variant, model=component.model)

    def count(self, request: AwsRequest, status: str, model_seconds: float | None) -> None:
        """One request in the component's AWS/SageMaker metrics: InvocationsPerCopy is
        1/copies per request, so its Sum over a minute is invocations per copy, the metric
        copy-count target tracking follows."""
        name = request.headers.get(COMPONENT_HEADER) or ""
        dims = dimensions_key({"InferenceComponentName": name})
        now = self.store.endpoints.clock()
        component = self.store.get(request.account_id, request.region, name)
        copies = component.current_copies if component is not None else 0

        def put(metric: str, value: float, unit: str) -> None:
            key = SeriesKey(request.account_id, request.region, "AWS/SageMaker", metric, dims)
            self.metrics.put_values(key, now, [value], unit=unit)

        put("Invocations", 1.0, "None")
        if copies > 0:
            put("InvocationsPerCopy", 1.0 / copies, "None")
        put("Invocation4XXErrors", 1.0 if status == "4xx" else 0.0, "None")
        put("Invocation5XXErrors", 1.0 if status == "5xx" else 0.0, "None")
        if model_seconds is not None:
            put("ModelLatency", round(model_seconds * 1e6), "Microseconds")
        self.utilization.record(request.account_id, request.region, name, model_seconds or 0.0)
