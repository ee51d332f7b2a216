"""The SageMaker control-plane operations the sandbox answers instead of moto.

moto creates endpoints InService at once, drops DeployedImages and VariantStatus, erases a
weight that UpdateEndpointWeightsAndCapacities omits, lacks UpdateEndpoint and pages lists its
own way. These
handlers keep endpoints in the sandbox's EndpointStore and read models and endpoint configs
from moto, which still owns them; the endpoint is also registered with moto so its tagging
and search operations keep working. Instance counts are held to the account's
"<instance type> for endpoint usage" quotas (sandbox/quotas.py), as AWS does.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any

from sandbox import moto_bridge
from sandbox.aws_protocol import AwsError, AwsRequest, WsgiResponse, json_response
from sandbox.aws_protocol import validation_error as invalid
from sandbox.deployment_config import (
    DeploymentConfigError,
    DeploymentPolicy,
    fit_to_fleets,
    parse_deployment_config,
)
from sandbox.endpoints import (
    EndpointError,
    EndpointRecord,
    EndpointStatus,
    EndpointStore,
    InstanceLimit,
    InstanceLimitExceeded,
    PendingDeployment,
    VariantChange,
    VariantState,
    VariantStatusEntry,
)
from sandbox.listing import (
    Page,
    TimeBounds,
    enum_error,
    page_answer,
    paginate,
    parse_list_query,
)
from sandbox.model_data import ArtifactCache, ContainerImage, prepare_variant
from sandbox.models import SandboxModel
from sandbox.output_shapes import aws_shaped, output_members
from sandbox.quotas import QuotaStore, endpoint_quota, quota_message

# A handler answers the request, or returns None to let moto answer it after its checks.
Handler = Callable[[AwsRequest], WsgiResponse | None]
_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_ENDPOINT_STATUSES = tuple(status.value for status in EndpointStatus)
_RETAINABLE_PROPERTIES = ("DesiredInstanceCount", "DesiredWeight", "DataCaptureConfig")
# The CreateEndpointConfig fields moto stores itself; DescribeEndpointConfig's other members
# the sandbox keeps with the config (``after_create_endpoint_config``).
_MOTO_STORES_IN_CONFIGS = frozenset(
    {
        "EndpointConfigName",
        "ProductionVariants",
        "AsyncInferenceConfig",
        "DataCaptureConfig",
        "KmsKeyId",
    }
)


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def sagemaker_arn(request: AwsRequest, resource: str, name: str) -> str:
    """ARNs as moto spells them, so the sandbox's and moto's resources cross-reference."""
    region = request.region
    return f"arn:{partition(region)}:sagemaker:{region}:{request.account_id}:{resource}/{name}"


def resolved_image(specified: str) -> str:
    """A stable digest-pinned reference, as SageMaker reports after resolving a tag."""
    repository = specified.rsplit(":", 1)[0] if "/" in specified else specified
    repository = repository.split("@", 1)[0]
    return f"{repository}@sha256:{hashlib.sha256(specified.encode()).hexdigest()}"


def _required(params: Mapping[str, Any], name: str) -> Any:
    value = params.get(name)
    if value is None or value == "":
        member = name[0].lower() + name[1:]
        raise invalid(
            f"1 validation error detected: Value null at '{member}' failed to satisfy "
            "constraint: Member must not be null"
        )
    return value


def _endpoint_name(params: Mapping[str, Any]) -> str:
    name = str(_required(params, "EndpointName"))
    if not _NAME_PATTERN.match(name):
        raise invalid(
            f"1 validation error detected: Value '{name}' at 'endpointName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
        )
    return name


def render_endpoint(record: EndpointRecord) -> dict[str, Any]:
    """DescribeEndpoint's response for a record, in the shape AWS returns."""
    described: dict[str, Any] = {
        "EndpointName": record.name,
        "EndpointArn": record.arn,
        "EndpointConfigName": record.config_name,
        "ProductionVariants": [_render_variant(v, record.creation_time) for v in record.variants],
        "EndpointStatus": record.status.value,
        "CreationTime": record.creation_time,
        "LastModifiedTime": record.last_modified_time,
    }
    capture = _render_capture(record.data_capture)
    if capture is not None:
        described["DataCaptureConfig"] = capture
    pending = record.pending_deployment
    if pending is not None:
        described["PendingDeploymentSummary"] = {
            "EndpointConfigName": pending.config_name,
            "ProductionVariants": [
                _render_pending_variant(v, pending.start_time) for v in pending.variants
            ],
            "StartTime": pending.start_time,
        }
    if record.failure_reason:
        described["FailureReason"] = record.failure_reason
    if record.deployment_config:
        described["LastDeploymentConfig"] = record.deployment_config
    if record.shadow_variants:
        described["ShadowProductionVariants"] = [
            _render_variant(v, record.creation_time) for v in record.shadow_variants
        ]
    if record.async_config:
        described["AsyncInferenceConfig"] = record.async_config
    return described


def _render_variant(variant: VariantState, resolution_time: float) -> dict[str, Any]:
    rendered: dict[str, Any] = {"VariantName": variant.name}
    if variant.specified_images:
        rendered["DeployedImages"] = [
            {
                "SpecifiedImage": image,
                "ResolvedImage": resolved_image(image),
                "ResolutionTime": resolution_time,
            }
            for image in variant.specified_images
        ]
    if variant.current_weight is not None:
        rendered["CurrentWeight"] = variant.current_weight
    rendered["DesiredWeight"] = variant.desired_weight
    if variant.is_serverless:
        if variant.current_serverless is not None:
            rendered["CurrentServerlessConfig"] = dict(variant.current_serverless)
        rendered["DesiredServerlessConfig"] = dict(variant.desired_serverless or {})
    else:
        if variant.current_instance_count is not None:
            rendered["CurrentInstanceCount"] = variant.current_instance_count
        if variant.desired_instance_count is not None:
            rendered["DesiredInstanceCount"] = variant.desired_instance_count
    if variant.status:
        rendered["VariantStatus"] = [
            {"Status": s.status, "StatusMessage": s.message, "StartTime": s.start_time}
            for s in variant.status
        ]
    return rendered


def _render_pending_variant(variant: VariantState, start_time: float) -> dict[str, Any]:
    """A PendingDeploymentSummary variant: the Describe fields plus its instance type."""
    rendered = _render_variant(variant, start_time)
    if variant.instance_type:
        rendered["InstanceType"] = variant.instance_type
    return rendered


def _render_capture(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    enabled = bool(config.get("EnableCapture", True))
    rendered: dict[str, Any] = {
        "EnableCapture": enabled,
        "CaptureStatus": "Started" if enabled else "Stopped",
        "CurrentSamplingPercentage": int(config.get("InitialSamplingPercentage", 0)),
        "DestinationS3Uri": str(config.get("DestinationS3Uri", "")),
    }
    if config.get("KmsKeyId"):
        rendered["KmsKeyId"] = config["KmsKeyId"]
    return rendered


def _serverless_config(variant: Mapping[str, Any]) -> dict[str, int] | None:
    config = variant.get("ServerlessConfig")
    if not config:
        return None
    return {key: int(value) for key, value in config.items() if value is not None}


class SageMakerApi:
    """Handlers for the endpoint lifecycle and SageMaker's list semantics."""

    def __init__(self, store: EndpointStore, artifacts: ArtifactCache, quotas: QuotaStore) -> None:
        self.store = store
        self.artifacts = artifacts
        self.quotas = quotas

    def _limit(self, request: AwsRequest) -> InstanceLimit:
        """The caller's endpoint-usage quotas, for the store to check under its lock."""
        account, region = request.account_id, request.region

        def limit(instance_type: str) -> tuple[str, float] | None:
            definition = endpoint_quota(instance_type)
            if definition is None:
                return None
            return definition.name, self.quotas.value(account, region, definition)

        return limit

    def operations(self) -> dict[str, Handler]:
        return {
            "CreateEndpoint": self.create_endpoint,
            "DescribeEndpoint": self.describe_endpoint,
            "ListEndpoints": self.list_endpoints,
            "DeleteEndpoint": self.delete_endpoint,
            "UpdateEndpointWeightsAndCapacities": self.update_endpoint_weights_and_capacities,
            "UpdateEndpoint": self.update_endpoint,
            "ListModels": self.list_models,
            "ListEndpointConfigs": self.list_endpoint_configs,
            "CreateModel": self.create_model,
            "CreateEndpointConfig": self.create_endpoint_config,
            "DescribeModel": self.describe_model,
            "DescribeEndpointConfig": self.describe_endpoint_config,
        }

    def after_moto(self) -> dict[str, Callable[[AwsRequest], None]]:
        """Hooks run once moto has stored a new resource successfully."""
        return {"CreateEndpointConfig": self.after_create_endpoint_config}

    def create_model(self, request: AwsRequest) -> WsgiResponse | None:
        """moto silently replaces a model of the same name; AWS refuses."""
        name = str(_required(request.json_body(), "ModelName"))
        if moto_bridge.model_description(request.account_id, request.region, name) is not None:
            arn = sagemaker_arn(request, "model", name)
            raise invalid(f'Cannot create already existing model "{arn}".')
        return None

    def create_endpoint_config(self, request: AwsRequest) -> WsgiResponse | None:
        """Refuse what AWS refuses and moto takes: a negative variant weight, two variants of
        one name, a config name already in use (moto silently replaces that config)."""
        params = request.json_body()
        name = str(_required(params, "EndpointConfigName"))
        _check_variants(params)
        account, region = request.account_id, request.region
        if moto_bridge.endpoint_config_description(account, region, name) is not None:
            arn = sagemaker_arn(request, "endpoint-config", name)
            raise invalid(f'Cannot create already existing endpoint configuration "{arn}".')
        return None

    def after_create_endpoint_config(self, request: AwsRequest) -> None:
        """Keep what moto drops from the request (ExecutionRoleArn, EnableNetworkIsolation,
        VpcConfig, shadow variants, ...): DescribeEndpointConfig returns it on AWS."""
        params = request.json_body()
        kept = {
            key: value
            for key, value in params.items()
            if key in output_members("sagemaker", "DescribeEndpointConfig")
            and key not in _MOTO_STORES_IN_CONFIGS
        }
        if kept:
            moto_bridge.keep_endpoint_config_fields(
                request.account_id, request.region, str(params["EndpointConfigName"]), kept
            )

    def describe_model(self, request: AwsRequest) -> WsgiResponse:
        """The model as AWS describes it. A model has a PrimaryContainer or Containers (an
        inference pipeline), never both: moto's empty Containers list is left out."""
        name = str(_required(request.json_body(), "ModelName"))
        found = moto_bridge.model_description(request.account_id, request.region, name)
        if found is None:
            raise invalid(f'Could not find model "{sagemaker_arn(request, "model", name)}".')
        if not found.get("Containers"):
            found.pop("Containers", None)
        return json_response(request, aws_shaped("sagemaker", "DescribeModel", found))

    def describe_endpoint_config(self, request: AwsRequest) -> WsgiResponse:
        """The config as AWS describes it: no empty DataCaptureConfig for a config without
        capture, and the request fields moto does not keep."""
        name = str(_required(request.json_body(), "EndpointConfigName"))
        found = moto_bridge.endpoint_config_description(request.account_id, request.region, name)
        if found is None:
            arn = sagemaker_arn(request, "endpoint-config", name)
            raise invalid(f'Could not find endpoint configuration "{arn}".')
        return json_response(request, aws_shaped("sagemaker", "DescribeEndpointConfig", found))

    def create_endpoint(self, request: AwsRequest) -> WsgiResponse:
        """Validate like AWS, load each variant's model data, and start the Creating phase."""
        params = request.json_body()
        name = _endpoint_name(params)
        config_name = str(_required(params, "EndpointConfigName"))
        deployment_config = params.get("DeploymentConfig")
        _deployment_policy(deployment_config)
        arn = sagemaker_arn(request, "endpoint", name)
        account, region = request.account_id, request.region
        if self.store.exists(account, region, name):
            raise invalid(f'Cannot create already existing endpoint "{arn}".')
        config = moto_bridge.endpoint_config_description(account, region, config_name)
        if config is None:
            config_arn = sagemaker_arn(request, "endpoint-config", config_name)
            raise invalid(f'Could not find endpoint configuration "{config_arn}".')
        now = self.store.clock()
        variants, failure = self._prepare_variants(request, config.get("ProductionVariants"), now)
        shadows, shadow_failure = self._prepare_variants(
            request, config.get("ShadowProductionVariants"), now
        )
        record = EndpointRecord(
            account_id=account,
            region=region,
            name=name,
            arn=arn,
            config_name=config_name,
            variants=variants,
            data_capture=dict(config.get("DataCaptureConfig") or {}) or None,
            creation_time=now,
            last_modified_time=now,
            status=EndpointStatus.CREATING,
            transition_at=now + self.store.timings.creating_seconds,
            transition_to=(
                EndpointStatus.FAILED if failure or shadow_failure else EndpointStatus.IN_SERVICE
            ),
            pending_failure_reason=failure or shadow_failure,
            deployment_config=dict(deployment_config) if deployment_config else None,
            shadow_variants=shadows,
            async_config=dict(config.get("AsyncInferenceConfig") or {}) or None,
        )
        try:
            self.store.add(record, limit=self._limit(request))
        except EndpointError as error:
            raise invalid(str(error)) from None
        except InstanceLimitExceeded as exceeded:
            raise _over_quota(exceeded) from None
        moto_bridge.add_endpoint_shadow(
            account, region, name, config_name, params.get("Tags") or []
        )
        return json_response(request, {"EndpointArn": arn})

    def _prepare_variants(
        self, request: AwsRequest, specs: list[Mapping[str, Any]] | None, now: float
    ) -> tuple[list[VariantState], str | None]:
        """Each variant of a config's list (production or shadow) with its model loaded,
        and the first failure reason."""
        account, region = request.account_id, request.region
        variants: list[VariantState] = []
        failure: str | None = None
        for spec in specs or []:
            model_name = str(spec.get("ModelName", ""))
            if not model_name:
                # A variant for inference components: instances only, models come later.
                variants.append(self._new_variant(spec, None, (), now))
                continue
            description = moto_bridge.model_description(account, region, model_name)
            if description is None:
                raise invalid(
                    f'Could not find model "{sagemaker_arn(request, "model", model_name)}".'
                )
            prepared = prepare_variant(
                self.artifacts,
                account_id=account,
                region=region,
                variant_name=str(spec["VariantName"]),
                model_description=description,
            )
            failure = failure or prepared.failure_reason
            variant = self._new_variant(spec, prepared.model, prepared.images, now)
            variant.failure_rate = prepared.failure_rate
            variant.model_data_prefix = prepared.multi_model_prefix
            variants.append(variant)
        return variants, failure

    def update_endpoint(self, request: AwsRequest) -> WsgiResponse:
        """Deploy another endpoint config, as its DeploymentConfig says (sandbox/deployments.py).

        With RetainAllVariantProperties false (the default) the new config's weights and
        instance counts apply, as on AWS; true keeps the live ones for variants of the same
        name, except the properties ExcludeRetainedVariantProperties names.
        RetainDeploymentConfig true, without a DeploymentConfig, deploys with the endpoint's
        last one. The config is refused (ValidationException) before anything changes.
        """
        params = request.json_body()
        name = _endpoint_name(params)
        config_name = str(_required(params, "EndpointConfigName"))
        deployment_config = params.get("DeploymentConfig")
        policy = _deployment_policy(deployment_config)
        arn = sagemaker_arn(request, "endpoint", name)
        account, region = request.account_id, request.region
        current = self.store.get(account, region, name)
        if current is None:
            raise invalid(f'Could not find endpoint "{arn}".')
        if deployment_config is None and params.get("RetainDeploymentConfig") is True:
            deployment_config = current.deployment_config
            policy = _deployment_policy(deployment_config)
        config = moto_bridge.endpoint_config_description(account, region, config_name)
        if config is None:
            config_arn = sagemaker_arn(request, "endpoint-config", config_name)
            raise invalid(f'Could not find endpoint configuration "{config_arn}".')
        excluded = _excluded_properties(params)
        now = self.store.clock()
        variants, failure = self._prepare_variants(request, config.get("ProductionVariants"), now)
        shadows, shadow_failure = self._prepare_variants(
            request, config.get("ShadowProductionVariants"), now
        )
        capture = dict(config.get("DataCaptureConfig") or {}) or None
        if params.get("RetainAllVariantProperties") is True:
            _retain(current, variants, excluded)
            if "DataCaptureConfig" not in excluded:
                capture = current.data_capture
        try:
            policy = fit_to_fleets(policy, current.variants, variants, config_name)
        except DeploymentConfigError as error:
            raise invalid(str(error)) from None
        deployment = PendingDeployment(
            config_name,
            variants,
            capture,
            now,
            failure or shadow_failure,
            policy=policy,
            shadow_variants=shadows,
            async_config=dict(config.get("AsyncInferenceConfig") or {}) or None,
        )
        try:
            self.store.update_endpoint(
                account,
                region,
                name,
                arn,
                deployment,
                deployment_config=dict(deployment_config) if deployment_config else None,
                limit=self._limit(request),
            )
        except EndpointError as error:
            raise invalid(str(error)) from None
        except InstanceLimitExceeded as exceeded:
            raise _over_quota(exceeded) from None
        return json_response(request, {"EndpointArn": arn})

    @staticmethod
    def _new_variant(
        spec: Mapping[str, Any],
        model: SandboxModel | None,
        images: tuple[ContainerImage, ...],
        now: float,
    ) -> VariantState:
        serverless = _serverless_config(spec)
        count = None if serverless else int(spec.get("InitialInstanceCount") or 1)
        weight = spec.get("InitialVariantWeight")
        instance_type = spec.get("InstanceType")
        launching = (
            f"Launching {count} {instance_type} instance{'s' if count != 1 else ''}"
            if count is not None
            else "Provisioning serverless capacity"
        )
        return VariantState(
            name=str(spec["VariantName"]),
            model_name=str(spec.get("ModelName", "")),
            instance_type=str(instance_type) if instance_type else None,
            desired_weight=float(weight) if weight is not None else 1.0,
            desired_instance_count=count,
            desired_serverless=serverless,
            specified_images=tuple(image.specified_image for image in images),
            status=[VariantStatusEntry(status="Creating", message=launching, start_time=now)],
            model=model,
        )

    def describe_endpoint(self, request: AwsRequest) -> WsgiResponse:
        name = _endpoint_name(request.json_body())
        record = self.store.get(request.account_id, request.region, name)
        if record is None:
            raise invalid(f'Could not find endpoint "{sagemaker_arn(request, "endpoint", name)}".')
        return json_response(request, render_endpoint(record))

    def list_endpoints(self, request: AwsRequest) -> WsgiResponse:
        params = request.json_body()
        query = parse_list_query(params, sort_fields=("Name", "CreationTime", "Status"))
        status_equals = params.get("StatusEquals")
        if status_equals is not None and status_equals not in _ENDPOINT_STATUSES:
            raise enum_error(status_equals, "statusEquals", _ENDPOINT_STATUSES)
        bounds = TimeBounds.parse(params)
        rows = [
            row
            for row in self.store.summaries(request.account_id, request.region)
            if (query.name_contains is None or query.name_contains in row.name)
            and (status_equals is None or row.status == status_equals)
            and bounds.admit(created=row.creation_time, modified=row.last_modified_time)
        ]
        sort_values: dict[str, Callable[[Any], str | float]] = {
            "Name": lambda row: row.name,
            "CreationTime": lambda row: row.creation_time,
            "Status": lambda row: row.status,
        }
        page = paginate(rows, query, sort_value=sort_values[query.sort_by], name=lambda r: r.name)
        return json_response(
            request,
            page_answer(
                "Endpoints",
                page,
                lambda row: {
                    "EndpointName": row.name,
                    "EndpointArn": row.arn,
                    "CreationTime": row.creation_time,
                    "LastModifiedTime": row.last_modified_time,
                    "EndpointStatus": row.status,
                },
            ),
        )

    def delete_endpoint(self, request: AwsRequest) -> WsgiResponse:
        name = _endpoint_name(request.json_body())
        if self.store.remove(request.account_id, request.region, name) is None:
            raise invalid(f'Could not find endpoint "{sagemaker_arn(request, "endpoint", name)}".')
        moto_bridge.remove_endpoint_shadow(request.account_id, request.region, name)
        return json_response(request, {})

    def update_endpoint_weights_and_capacities(self, request: AwsRequest) -> WsgiResponse:
        """AWS semantics: InService only, all-or-nothing, omitted values kept, Updating first."""
        params = request.json_body()
        name = _endpoint_name(params)
        arn = sagemaker_arn(request, "endpoint", name)
        items = _required(params, "DesiredWeightsAndCapacities")
        if not isinstance(items, list) or not items:
            raise invalid("DesiredWeightsAndCapacities must list at least one variant.")
        changes = [_variant_change(item) for item in items]
        try:
            self.store.update_weights_and_capacities(
                request.account_id, request.region, name, arn, changes, limit=self._limit(request)
            )
        except EndpointError as error:
            raise invalid(str(error)) from None
        except InstanceLimitExceeded as exceeded:
            raise _over_quota(exceeded) from None
        return json_response(request, {"EndpointArn": arn})

    def list_models(self, request: AwsRequest) -> WsgiResponse:
        params = request.json_body()
        summaries = moto_bridge.model_summaries(request.account_id, request.region)
        page = _page_resources(params, summaries)
        return json_response(
            request,
            page_answer(
                "Models",
                page,
                lambda s: {"ModelName": s.name, "ModelArn": s.arn, "CreationTime": s.creation_time},
            ),
        )

    def list_endpoint_configs(self, request: AwsRequest) -> WsgiResponse:
        params = request.json_body()
        summaries = moto_bridge.endpoint_config_summaries(request.account_id, request.region)
        page = _page_resources(params, summaries)
        return json_response(
            request,
            page_answer(
                "EndpointConfigs",
                page,
                lambda s: {
                    "EndpointConfigName": s.name,
                    "EndpointConfigArn": s.arn,
                    "CreationTime": s.creation_time,
                },
            ),
        )


def _check_variants(params: Mapping[str, Any]) -> None:
    """AWS's validation of a config's variants that moto skips.

    A negative InitialVariantWeight breaks the model's ``min: 0`` and gets the front end's
    constraint message, which numbers list members from 1. Variant names must be unique
    across the production and shadow variants (weights and invocations are addressed by
    name); AWS's wording for that case is not published, so the message says what is wrong
    in SageMaker's style.
    """
    shadows = params.get("ShadowProductionVariants") or []
    production = params.get("ProductionVariants") or []
    if shadows and (len(shadows) != 1 or len(production) != 1):
        raise invalid(
            "An endpoint configuration with ShadowProductionVariants must have exactly one "
            "production variant and one shadow variant."
        )
    seen: set[str] = set()
    for field in ("ProductionVariants", "ShadowProductionVariants"):
        variants = params.get(field) or []
        if not isinstance(variants, list):
            continue
        member = field[0].lower() + field[1:]
        for index, variant in enumerate(variants, start=1):
            if not isinstance(variant, dict):
                continue
            weight = variant.get("InitialVariantWeight")
            if isinstance(weight, int | float) and not isinstance(weight, bool) and weight < 0:
                raise invalid(
                    f"1 validation error detected: Value '{float(weight)}' at "
                    f"'{member}.{index}.member.initialVariantWeight' failed to satisfy "
                    "constraint: Member must have value greater than or equal to 0"
                )
            name = str(variant.get("VariantName", ""))
            if name in seen:
                raise invalid(
                    f"Variant name '{name}' is used more than once in the endpoint "
                    "configuration. Each production and shadow variant needs a unique "
                    "VariantName."
                )
            seen.add(name)


def _deployment_policy(document: Any) -> DeploymentPolicy:
    """The DeploymentConfig's policy, or SageMaker's ValidationException for it."""
    try:
        return parse_deployment_config(document)
    except DeploymentConfigError as error:
        raise invalid(str(error)) from None


def _over_quota(exceeded: InstanceLimitExceeded) -> AwsError:
    return AwsError(
        "ResourceLimitExceeded",
        quota_message(exceeded.quota_name, exceeded.limit, exceeded.in_use, exceeded.delta),
    )


def _page_resources(
    params: Mapping[str, Any], summaries: list[moto_bridge.ResourceSummary]
) -> Page[moto_bridge.ResourceSummary]:
    """ListModels and ListEndpointConfigs share SageMaker's filters and paging."""
    query = parse_list_query(params, sort_fields=("Name", "CreationTime"))
    bounds = TimeBounds.parse(params)
    kept = [
        s
        for s in summaries
        if (query.name_contains is None or query.name_contains in s.name)
        and bounds.admit(created=s.creation_time)
    ]
    if query.sort_by == "Name":
        return paginate(kept, query, sort_value=lambda s: s.name, name=lambda s: s.name)
    return paginate(kept, query, sort_value=lambda s: s.creation_time, name=lambda s: s.name)


def _excluded_properties(params: Mapping[str, Any]) -> set[str]:
    """ExcludeRetainedVariantProperties' types, refused like AWS when not one it knows."""
    excluded: set[str] = set()
    for item in params.get("ExcludeRetainedVariantProperties") or []:
        kind = item.get("VariantPropertyType") if isinstance(item, dict) else None
        if kind not in _RETAINABLE_PROPERTIES:
            raise enum_error(kind, "variantPropertyType", _RETAINABLE_PROPERTIES)
        excluded.add(str(kind))
    return excluded


def _retain(current: EndpointRecord, variants: list[VariantState], excluded: set[str]) -> None:
    """Keep the live weight and instance count of variants the new config keeps by name."""
    for variant in variants:
        live = current.variant(variant.name)
        if live is None:
            continue
        if "DesiredWeight" not in excluded:
            variant.desired_weight = live.desired_weight
        if "DesiredInstanceCount" not in excluded and not variant.is_serverless:
            variant.desired_instance_count = live.desired_instance_count


def _variant_change(item: Any) -> VariantChange:
    if not isinstance(item, dict):
        raise AwsError(
            "SerializationException", "Each DesiredWeightsAndCapacities item is an object."
        )
    serverless = item.get("ServerlessUpdateConfig") or {}
    try:
        weight = item.get("DesiredWeight")
        count = item.get("DesiredInstanceCount")
        return VariantChange(
            variant_name=str(_required(item, "VariantName")),
            desired_weight=float(weight) if weight is not None else None,
            desired_instance_count=int(count) if count is not None else None,
            max_concurrency=_optional_int(serverless.get("MaxConcurrency")),
            provisioned_concurrency=_optional_int(serverless.get("ProvisionedConcurrency")),
        )
    except (TypeError, ValueError):
        raise invalid("DesiredWeight and DesiredInstanceCount must be numbers.") from None


def _optional_int(value: Any) -> int | None:
    return int(value) if value is not None else None
