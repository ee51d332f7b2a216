"""What a change request must pass before it is recorded: the change makes sense for the
endpoint as the inventory shows it, SageMaker's rules hold, and the account's quotas leave
room. Each type's check returns the cleaned change, the state the approval binds to, and
warnings for the proposer and the Approvers (stored with the request).

A few checks ask AWS (the quota, the model, the config to roll back to); when AWS cannot
answer, the check says it could not be made rather than refusing, and AWS still enforces
its rules when the change is sent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.aws import quotas as aws_quotas
from core.aws import sagemaker as aws_sagemaker
from core.aws.errors import AwsError, NotFound
from core.errors import Invalid
from core.targets import target_by_name
from endpoints.selectors import instances_in_use, production_capacities, production_weights
from shifts.changes import autoscaling as scaling
from shifts.changes.deploy import shape_of
from shifts.deployment_options import DeploymentOptions, plan_deployment
from shifts.models import ChangeType

if TYPE_CHECKING:
    from endpoints.models import Endpoint

MAX_INSTANCES = 1000  # per variant: a typo guard; quotas bound it further
MAX_SERVERLESS_CONCURRENCY = 200  # SageMaker's MaxConcurrency / ProvisionedConcurrency limit
MAX_COOLDOWN_SECONDS = 86_400
MAX_TARGET_VALUE = 1e9
POLICY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$")
MODEL_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
STATISTICS = ("Average", "Minimum", "Maximum", "SampleCount", "Sum")


@dataclass(frozen=True)
class Prepared:
    spec: dict[str, Any]
    before_state: dict[str, Any]
    warnings: tuple[str, ...] = ()


def _whole(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Invalid(f"{what} must be a whole number from {low} to {high}.")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise Invalid(f"{what} must be a whole number from {low} to {high}.") from None
    if not math.isfinite(number) or number != int(number) or not low <= number <= high:
        raise Invalid(f"{what} must be a whole number from {low} to {high}.")
    return int(number)


def _variants(endpoint: Endpoint) -> dict[str, dict[str, Any]]:
    capacity = production_capacities(endpoint_id=endpoint.pk)
    if not capacity:
        raise Invalid("The endpoint has no production variant.")
    return capacity


def _known_variant(name: Any, capacity: dict[str, Any]) -> str:
    if not isinstance(name, str) or name not in capacity:
        raise Invalid(f"Unknown variant; this endpoint has {', '.join(capacity)}.")
    return name


def quota_problem(*, endpoint: Endpoint, added: dict[str, int]) -> tuple[str | None, str | None]:
    """(refusal, warning) for launching `added` more instances per type in the endpoint's
    region: AWS's own ResourceLimitExceeded words when the "<type> for endpoint usage" quota
    minus the instances already running leaves too little room."""
    target = target_by_name(endpoint.target)
    for instance_type, delta in added.items():
        if delta <= 0:
            continue
        name = f"{instance_type} for endpoint usage"
        try:
            quota = aws_quotas.sagemaker_quota_by_name(
                target=target, region=endpoint.region, name=name
            )
        except AwsError as exc:
            return None, f"The quota '{name}' could not be checked ({exc}); AWS will enforce it."
        if quota is None:
            continue
        in_use = instances_in_use(
            target=endpoint.target, region=endpoint.region, instance_type=instance_type
        )
        if in_use + delta > quota.value:
            return (
                f"ResourceLimitExceeded: The account-level service limit '{name}' is "
                f"{quota.value:g} Instances, with current utilization of {in_use} Instances "
                f"and a request delta of {delta} Instances. Please use AWS Service Quotas to "
                "request an increase for this quota.",
                None,
            )
    return None, None


def _scaling_entry(endpoint: Endpoint, variant: str) -> dict[str, Any] | None:
    scaling_rows = endpoint.autoscaling or []
    if any("error" in row for row in scaling_rows):
        raise Invalid(
            "The endpoint's auto scaling could not be read at the last sync; refresh the "
            "endpoint and try again."
        )
    return scaling.inventory_entry(scaling_rows, variant)


def prepare_capacity(*, endpoint: Endpoint, spec: dict[str, Any]) -> Prepared:
    capacity = _variants(endpoint)
    wanted_in = spec.get("capacity")
    if not isinstance(wanted_in, dict) or not wanted_in:
        raise Invalid("Say which variant's capacity changes.")
    wanted: dict[str, dict[str, int]] = {}
    warnings: list[str] = []
    added: dict[str, int] = {}
    for name, values in wanted_in.items():
        variant = _known_variant(name, capacity)
        now = capacity[variant]
        if not isinstance(values, dict):
            raise Invalid(f"{variant}: the capacity must be given as numbers.")
        if "instances" in now:
            count = _whole(
                values.get("instances"), f"{variant}: the instance count", 1, MAX_INSTANCES
            )
            if count == now["instances"]:
                continue
            wanted[variant] = {"instances": count}
            added[now["instance_type"]] = (
                added.get(now["instance_type"], 0) + count - (now["instances"] or 0)
            )
            entry = scaling.normalised(_scaling_entry(endpoint, variant))
            if entry and not entry["min_capacity"] <= count <= entry["max_capacity"]:
                warnings.append(
                    f"{variant}: {count} is outside auto scaling's {entry['min_capacity']}–"
                    f"{entry['max_capacity']}; auto scaling will move it back into that range."
                )
        else:
            top = _whole(
                values.get("max_concurrency"),
                f"{variant}: max concurrency",
                1,
                MAX_SERVERLESS_CONCURRENCY,
            )
            provisioned_in = values.get("provisioned_concurrency")
            provisioned = (
                None
                if provisioned_in in (None, "")
                else _whole(provisioned_in, f"{variant}: provisioned concurrency", 1, top)
            )
            change = {"max_concurrency": top}
            if provisioned is not None:
                change["provisioned_concurrency"] = provisioned
            if top == now.get("max_concurrency") and provisioned == now.get(
                "provisioned_concurrency"
            ):
                continue
            wanted[variant] = change
    if not wanted:
        raise Invalid("Nothing would change: every variant already runs that capacity.")
    refusal, warning = quota_problem(endpoint=endpoint, added=added)
    if refusal:
        raise Invalid(refusal)
    if warning:
        warnings.append(warning)
    return Prepared(
        spec={"capacity": wanted},
        before_state={"capacity": capacity},
        warnings=tuple(warnings),
    )


def _policy(endpoint: Endpoint, variant: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise Invalid("Describe the policy.")
    name = raw.get("name")
    if not isinstance(name, str) or not POLICY_NAME.match(name):
        raise Invalid(
            "The policy name must be 1–256 letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit."
        )
    try:
        target_value = float(raw.get("target_value"))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        target_value = math.nan
    if not math.isfinite(target_value) or not 0 < target_value <= MAX_TARGET_VALUE:
        raise Invalid(
            f"The target value must be a number above 0 and at most {MAX_TARGET_VALUE:g}."
        )
    policy: dict[str, Any] = {
        "name": name,
        "target_value": target_value,
        "scale_in_cooldown": _whole(
            raw.get("scale_in_cooldown"), "The scale-in cooldown", 0, MAX_COOLDOWN_SECONDS
        ),
        "scale_out_cooldown": _whole(
            raw.get("scale_out_cooldown"), "The scale-out cooldown", 0, MAX_COOLDOWN_SECONDS
        ),
        "disable_scale_in": bool(raw.get("disable_scale_in")),
    }
    custom = raw.get("customized_metric")
    if custom:
        if not isinstance(custom, dict):
            raise Invalid("Describe the custom metric.")
        namespace = str(custom.get("namespace") or "").strip()
        metric = str(custom.get("metric_name") or "").strip()
        statistic = str(custom.get("statistic") or "Average")
        if not (0 < len(namespace) <= 255 and 0 < len(metric) <= 255):
            raise Invalid("A custom metric needs a namespace and a metric name (1–255 characters).")
        if statistic not in STATISTICS:
            raise Invalid(f"The statistic must be one of {', '.join(STATISTICS)}.")
        policy["customized_metric"] = {
            "Namespace": namespace,
            "MetricName": metric,
            "Statistic": statistic,
            "Dimensions": [
                {"Name": "EndpointName", "Value": endpoint.name},
                {"Name": "VariantName", "Value": variant},
            ],
        }
    return policy


def prepare_autoscaling(*, endpoint: Endpoint, spec: dict[str, Any]) -> Prepared:
    capacity = _variants(endpoint)
    variant = _known_variant(spec.get("variant"), capacity)
    if "instances" not in capacity[variant]:
        raise Invalid(
            f"{variant} is serverless; it scales by concurrency, not by an instance count."
        )
    action = spec.get("action")
    if not isinstance(action, str) or action not in scaling.ACTIONS:
        raise Invalid(f"Choose one of: {', '.join(scaling.ACTIONS.values())}.")
    entry = scaling.normalised(_scaling_entry(endpoint, variant))
    warnings: list[str] = []
    cleaned: dict[str, Any] = {"variant": variant, "action": action}
    if action != scaling.TARGET and entry is None:
        raise Invalid(f"{variant} has no scalable target; set its minimum and maximum first.")
    if action == scaling.TARGET:
        low = _whole(spec.get("min_capacity"), "The minimum", 1, MAX_INSTANCES)
        high = _whole(spec.get("max_capacity"), "The maximum", 1, MAX_INSTANCES)
        if high < low:
            raise Invalid("The maximum must be at least the minimum.")
        if entry and (entry["min_capacity"], entry["max_capacity"]) == (low, high):
            raise Invalid(f"Nothing would change: {variant} already scales {low}–{high}.")
        count = capacity[variant]["instances"] or 0
        if not low <= count <= high:
            warnings.append(
                f"{variant} runs {count} instances; auto scaling will move it to "
                f"{min(max(count, low), high)} at once."
            )
        cleaned.update(min_capacity=low, max_capacity=high)
    elif action == scaling.SUSPEND:
        if entry and entry["suspended"] == sorted(scaling.ALL_SUSPENDED):
            raise Invalid(f"Scaling of {variant} is already suspended.")
    elif action == scaling.RESUME:
        if entry and not entry["suspended"]:
            raise Invalid(f"Scaling of {variant} is not suspended.")
    elif action == scaling.REMOVE_POLICY:
        names = [p["name"] for p in entry["policies"]] if entry else []
        if spec.get("policy_name") not in names:
            raise Invalid(f"{variant} has no such policy; it has {', '.join(names) or 'none'}.")
        cleaned["policy_name"] = spec["policy_name"]
    else:
        cleaned["policy"] = _policy(endpoint, variant, spec.get("policy"))
    return Prepared(spec=cleaned, before_state={"scaling": entry}, warnings=tuple(warnings))


def _deployment(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raw = {}
    options = {
        "strategy": raw.get("strategy") or "ALL_AT_ONCE",
        "size_type": raw.get("size_type") or "CAPACITY_PERCENT",
        "size_value": raw.get("size_value") or 0,
        "wait_seconds": raw.get("wait_seconds") or 0,
        "termination_wait_seconds": raw.get("termination_wait_seconds") or 0,
        "max_execution_timeout_seconds": raw.get("max_execution_timeout_seconds") or None,
        "rollback_alarms": list(raw.get("rollback_alarms") or []),
        "rollback_batch_percent": raw.get("rollback_batch_percent") or None,
    }
    return options


def _plan_notes(
    deployment: dict[str, Any],
    config_raw: dict[str, Any],
    variant: str | None,
    *,
    marketplace: bool = False,
) -> tuple[str, ...]:
    options = DeploymentOptions(
        **{**deployment, "rollback_alarms": tuple(deployment["rollback_alarms"])}
    )
    shape = shape_of(config_raw, variant=variant, marketplace=marketplace)
    return plan_deployment(options=options, shape=shape).notes


def _fleet(config_raw: dict[str, Any]) -> dict[str, int]:
    fleet: dict[str, int] = {}
    for item in config_raw.get("ProductionVariants", []) + config_raw.get(
        "ShadowProductionVariants", []
    ):
        if "ServerlessConfig" in item or not item.get("InstanceType"):
            continue
        kind = str(item["InstanceType"])
        fleet[kind] = fleet.get(kind, 0) + int(item.get("InitialInstanceCount") or 0)
    return fleet


def prepare_deploy(*, endpoint: Endpoint, spec: dict[str, Any]) -> Prepared:
    config_raw = endpoint.config_raw or {}
    variants = {v.get("VariantName"): v for v in config_raw.get("ProductionVariants", [])}
    if not variants:
        raise Invalid("The endpoint's config is not known yet; refresh the endpoint first.")
    variant = spec.get("variant")
    if not isinstance(variant, str) or variant not in variants:
        raise Invalid(f"Unknown variant; this endpoint has {', '.join(map(str, variants))}.")
    model = spec.get("model")
    if not isinstance(model, str) or not MODEL_NAME.match(model):
        raise Invalid("Choose a model (a SageMaker model name, 1–63 letters, digits and dashes).")
    current = variants[variant]
    serverless = "ServerlessConfig" in current
    instance_type = str(spec.get("instance_type") or "").strip()
    count_in = spec.get("instance_count")
    count = (
        None if count_in in (None, "") else _whole(count_in, "The instance count", 1, MAX_INSTANCES)
    )
    if serverless and (instance_type or count is not None):
        raise Invalid(f"{variant} is serverless: it has no instance type or count to change.")
    if instance_type and not INSTANCE_TYPE.match(instance_type):
        raise Invalid("The instance type must look like ml.m5.xlarge.")
    shadows = config_raw.get("ShadowProductionVariants") or []
    end_shadow_test = spec.get("end_shadow_test") in (True, "true", "on", "1", 1)
    if end_shadow_test and not shadows:
        raise Invalid("This endpoint runs no shadow test to end.")
    if (
        model == current.get("ModelName")
        and instance_type in ("", current.get("InstanceType"))
        and count in (None, current.get("InitialInstanceCount"))
        and not end_shadow_test
    ):
        raise Invalid(f"Nothing would change: {variant} already serves {model}.")
    target = target_by_name(endpoint.target)
    try:
        packages = aws_sagemaker.model_packages(target=target, region=endpoint.region, name=model)
    except NotFound:
        raise Invalid(f"There is no model {model} in {endpoint.region}.") from None
    except AwsError as exc:
        raise Invalid(f"Could not check the model: {exc}. Try again.") from None
    new_raw = {
        **config_raw,
        "ProductionVariants": [
            {
                **item,
                **(
                    {
                        "ModelName": model,
                        **({"InstanceType": instance_type} if instance_type else {}),
                        **({"InitialInstanceCount": count} if count is not None else {}),
                    }
                    if item.get("VariantName") == variant
                    else {}
                ),
            }
            for item in config_raw.get("ProductionVariants", [])
        ],
    }
    if end_shadow_test:
        new_raw.pop("ShadowProductionVariants", None)
    deployment = _deployment(spec.get("deployment"))
    marketplace = any(":aws-marketplace:" in arn for arn in packages)
    notes = _plan_notes(deployment, new_raw, variant, marketplace=marketplace)
    warnings = list(notes)
    refusal, warning = quota_problem(endpoint=endpoint, added=_fleet(new_raw))
    if refusal:
        raise Invalid(
            f"{refusal} (A blue/green deployment runs the new fleet beside the old one until it "
            "completes.)"
        )
    if warning:
        warnings.append(warning)
    cleaned = {
        "variant": variant,
        "model": model,
        "instance_type": instance_type,
        "instance_count": count,
        "deployment": deployment,
        "from_model": current.get("ModelName", ""),
        "marketplace": marketplace,
        "end_shadow_test": end_shadow_test,
        # The shadow whose model this deploys, when it ends the test: a promotion.
        "promoted_shadow": next(
            (
                str(s.get("VariantName"))
                for s in shadows
                if end_shadow_test and s.get("ModelName") == model
            ),
            "",
        ),
    }
    return Prepared(
        spec=cleaned, before_state={"config_name": endpoint.config_name}, warnings=tuple(warnings)
    )


def prepare_rollback(*, endpoint: Endpoint, spec: dict[str, Any]) -> Prepared:
    name = spec.get("config_name")
    if not isinstance(name, str) or not MODEL_NAME.match(name):
        raise Invalid("Choose an endpoint config to roll back to.")
    if name == endpoint.config_name:
        raise Invalid(f"The endpoint already runs {name}.")
    try:
        config = aws_sagemaker.describe_endpoint_config(
            target=target_by_name(endpoint.target), region=endpoint.region, name=name
        )
    except NotFound:
        raise Invalid(
            f"The endpoint config {name} no longer exists in {endpoint.region}."
        ) from None
    except AwsError as exc:
        raise Invalid(f"Could not read the endpoint config {name}: {exc}. Try again.") from None
    live_names = set(production_weights(endpoint_id=endpoint.pk))
    config_names = {v.name for v in config.variants if not v.is_shadow}
    if live_names and config_names != live_names:
        raise Invalid(
            f"{name} has the variants {', '.join(sorted(config_names))}; the endpoint has "
            f"{', '.join(sorted(live_names))}. Deployment options need the same variant names."
        )
    deployment = _deployment(spec.get("deployment"))
    warnings = list(_plan_notes(deployment, config.raw, None))
    refusal, warning = quota_problem(endpoint=endpoint, added=_fleet(config.raw))
    if refusal:
        raise Invalid(refusal)
    if warning:
        warnings.append(warning)
    return Prepared(
        spec={"config_name": name, "deployment": deployment},
        before_state={"config_name": endpoint.config_name},
        warnings=tuple(warnings),
    )


PREPARE: dict[str, Callable[..., Prepared]] = {
    ChangeType.CAPACITY: prepare_capacity,
    ChangeType.AUTOSCALING: prepare_autoscaling,
    ChangeType.DEPLOY: prepare_deploy,
    ChangeType.ROLLBACK: prepare_rollback,
}


def prepare(*, endpoint: Endpoint, change: str, spec: dict[str, Any]) -> Prepared:
    """The change checked and cleaned, or Invalid saying what to fix."""
    if change not in PREPARE:
        raise Invalid(f"Unknown change type {change!r}.")
    if not isinstance(spec, dict):
        raise Invalid("The change must be given as fields.")
    return PREPARE[change](endpoint=endpoint, spec=spec)
