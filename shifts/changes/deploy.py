"""Deploying a model version to a variant, and rolling back to an earlier endpoint config.

A deploy clones the live endpoint config with everything kept (every variant, data
capture, KMS key, async and serverless settings, shadow variants, tags) and only the chosen
variant's model (and optionally its instance type and count) changed, creates it under a
name derived from the change request, and calls UpdateEndpoint with SageMaker's deployment
guardrails. A rollback calls UpdateEndpoint to a config the endpoint used before. Both bind
to the config the endpoint ran when proposed and are verified when the endpoint is
InService on the new config; SageMaker's own rollback (an alarm fired) is a failure that
says so.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from core.aws import sagemaker as aws_sagemaker
from core.aws import traffic as aws_traffic
from core.aws.types import EndpointConfigDescription, EndpointStatus
from core.errors import Invalid
from shifts.changes.base import APPLIED, FAILED, PENDING, SETTLE_POLLS, LiveRead, Moved, Verdict
from shifts.changes.common import (
    broken,
    default_verify_deadline,
    describe,
    read_endpoint,
    target_of,
)
from shifts.deployment_options import (
    DeploymentOptions,
    EndpointShape,
    plan_deployment,
)

if TYPE_CHECKING:
    from shifts.models import ShiftProposal

# Keys of DescribeEndpointConfig that CreateEndpointConfig does not take.
READ_ONLY_KEYS = ("EndpointConfigName", "EndpointConfigArn", "CreationTime", "ResponseMetadata")
CONFIG_NAME_LIMIT = 63
# Time SageMaker needs beyond the guardrails' own timeout to launch a fleet and finish.
LAUNCH_MARGIN_SECONDS = 1800


def new_config_name(*, endpoint_name: str, proposal_id: int) -> str:
    """The deploy's endpoint config name: the endpoint's name and the change request's id,
    so a retried apply finds its own config instead of creating a second one."""
    suffix = f"-cr{proposal_id}"
    return endpoint_name[: CONFIG_NAME_LIMIT - len(suffix)].rstrip("-") + suffix


def cloned_config(
    *,
    config: EndpointConfigDescription,
    tags: dict[str, str],
    name: str,
    variant: str,
    model: str,
    instance_type: str = "",
    instance_count: int | None = None,
    end_shadow_test: bool = False,
) -> dict[str, Any]:
    """CreateEndpointConfig parameters: the described config as it is, under `name`, with
    only `variant`'s model (and type/count when given) changed, and without its shadow
    variants when the deploy ends a shadow test."""
    params = {
        k: copy.deepcopy(v)
        for k, v in config.raw.items()
        if k not in READ_ONLY_KEYS and v not in (None, {}, [])
    }
    params["EndpointConfigName"] = name
    if end_shadow_test:
        params.pop("ShadowProductionVariants", None)
    found = False
    for item in params.get("ProductionVariants", []):
        if item.get("VariantName") == variant:
            found = True
            item["ModelName"] = model
            if instance_type and "ServerlessConfig" not in item:
                item["InstanceType"] = instance_type
            if instance_count is not None and "ServerlessConfig" not in item:
                item["InitialInstanceCount"] = int(instance_count)
    if not found:
        raise Invalid(f"The endpoint config has no production variant {variant}.")
    user_tags = [{"Key": k, "Value": v} for k, v in tags.items() if not k.startswith("aws:")]
    if user_tags:
        params["Tags"] = user_tags
    return params


def shape_of(
    config_raw: dict[str, Any], *, variant: str | None, marketplace: bool = False
) -> EndpointShape:
    """What SageMaker's deployment rules look at in the config being deployed.
    `marketplace`: a model of the new config comes from an AWS Marketplace package (the
    caller knows from DescribeModel; the config alone does not say)."""
    variants = config_raw.get("ProductionVariants", [])
    deployed = [v for v in variants if variant is None or v.get("VariantName") == variant]
    return EndpointShape(
        new_fleet_instances=sum(int(v.get("InitialInstanceCount") or 0) for v in deployed),
        production_variants=len(variants),
        serverless=any("ServerlessConfig" in v for v in variants),
        instance_types=tuple(str(v["InstanceType"]) for v in variants if v.get("InstanceType")),
        marketplace_containers=marketplace,
    )


def deployment_config(spec: dict[str, Any], config_raw: dict[str, Any]) -> dict[str, Any] | None:
    """The DeploymentConfig to send (Invalid when SageMaker's rules refuse it)."""
    chosen = dict(spec["deployment"])
    chosen["rollback_alarms"] = tuple(chosen.get("rollback_alarms") or ())
    shape = shape_of(
        config_raw, variant=spec.get("variant"), marketplace=bool(spec.get("marketplace"))
    )
    return plan_deployment(options=DeploymentOptions(**chosen), shape=shape).config


class _ConfigUpdate:
    """What a deploy and a rollback share: the binding to the live config and the verdict
    (which needs DescribeEndpoint only: the configs are read to send, not to verify)."""

    read_outcome = staticmethod(read_endpoint)

    @staticmethod
    def moved_in_inventory(*, proposal: ShiftProposal) -> Moved | None:
        now = proposal.endpoint.config_name
        if now == proposal.before_state.get("config_name"):
            return None
        return Moved(
            f"The inventory shows the endpoint on config {now}, not the "
            f"{proposal.before_state.get('config_name')} this was proposed against; nothing "
            "was applied.",
            {"live_config": now},
        )

    @staticmethod
    def moved_live(*, proposal: ShiftProposal, live: LiveRead) -> Moved | None:
        # While another UpdateEndpoint runs, the config it deploys is the one that counts.
        pending = live.described.raw.get("PendingDeploymentSummary") or {}
        now = pending.get("EndpointConfigName") or live.described.config_name
        if now == proposal.before_state.get("config_name"):
            return None
        return Moved(
            f"The endpoint now runs config {now}, not the "
            f"{proposal.before_state.get('config_name')} this was proposed against; nothing "
            "was applied.",
            {"live_config": now},
        )

    @staticmethod
    def rebind(*, proposal: ShiftProposal, live: LiveRead) -> None:
        proposal.before_state = {"config_name": live.described.config_name}

    @staticmethod
    def target_config(proposal: ShiftProposal) -> str:
        raise NotImplementedError

    @classmethod
    def verify(cls, *, proposal: ShiftProposal, live: LiveRead) -> Verdict:
        described = live.described
        wanted = cls.target_config(proposal)
        before = proposal.before_state.get("config_name")
        proposal.observed_state = {
            "status": described.status,
            "config_name": described.config_name,
            "failure_reason": described.failure_reason,
        }
        if described.status == EndpointStatus.IN_SERVICE and described.config_name == wanted:
            return Verdict(APPLIED, f"InService on {wanted} (request {proposal.aws_request_id}).")
        if failure := broken(described):
            return failure
        if described.status == EndpointStatus.ROLLING_BACK:
            why = described.failure_reason or "no reason given"
            return Verdict(PENDING, f"SageMaker is rolling back to {before}: {why}")
        back = described.status == EndpointStatus.IN_SERVICE and described.config_name == before
        if back and (described.failure_reason or proposal.poll_attempts >= SETTLE_POLLS):
            return Verdict(
                FAILED,
                f"Rolled back: the endpoint is InService on its previous config {before}. "
                f"{described.failure_reason or 'The update did not take effect.'}",
            )
        return Verdict(PENDING, f"The endpoint is {described.status}, deploying {wanted}.")

    @staticmethod
    def verify_deadline_seconds(*, proposal: ShiftProposal) -> int:
        deployment = proposal.spec.get("deployment") or {}
        guarded = int(deployment.get("max_execution_timeout_seconds") or 0) + int(
            deployment.get("termination_wait_seconds") or 0
        )
        return max(default_verify_deadline(), guarded + LAUNCH_MARGIN_SECONDS)


class DeployChange(_ConfigUpdate):
    @staticmethod
    def read(*, proposal: ShiftProposal) -> LiveRead:
        described = describe(proposal)
        target = target_of(proposal)
        region = proposal.endpoint.region
        config = aws_sagemaker.describe_endpoint_config(
            target=target, region=region, name=described.config_name
        )
        tags = aws_sagemaker.list_tags(target=target, region=region, arn=config.arn)
        return LiveRead(described=described, config=config, config_tags=tags)

    @staticmethod
    def target_config(proposal: ShiftProposal) -> str:
        return new_config_name(endpoint_name=proposal.endpoint.name, proposal_id=proposal.pk)

    @classmethod
    def _params(cls, proposal: ShiftProposal, live: LiveRead) -> dict[str, Any]:
        spec = proposal.spec
        assert live.config is not None
        return cloned_config(
            config=live.config,
            tags=live.config_tags,
            name=cls.target_config(proposal),
            variant=spec["variant"],
            model=spec["model"],
            instance_type=spec.get("instance_type") or "",
            instance_count=spec.get("instance_count"),
            end_shadow_test=bool(spec.get("end_shadow_test")),
        )

    @classmethod
    def unappliable(cls, *, proposal: ShiftProposal, live: LiveRead) -> str | None:
        try:
            deployment_config(proposal.spec, cls._params(proposal, live))
        except Invalid as exc:
            return exc.message
        return None

    @classmethod
    def send(cls, *, proposal: ShiftProposal, live: LiveRead) -> str:
        params = cls._params(proposal, live)
        target = target_of(proposal)
        region = proposal.endpoint.region
        aws_traffic.create_endpoint_config(target=target, region=region, params=params)
        return aws_traffic.update_endpoint(
            target=target,
            region=region,
            endpoint_name=proposal.endpoint.name,
            config_name=params["EndpointConfigName"],
            deployment_config=deployment_config(proposal.spec, params),
        )

    @staticmethod
    def summary(*, proposal: ShiftProposal) -> str:
        spec = proposal.spec
        fleet = " ".join(str(spec.get(k) or "") for k in ("instance_count", "instance_type"))
        extra = f" on {fleet.strip()}" if fleet.strip() else ""
        strategy = (spec.get("deployment") or {}).get("strategy", "ALL_AT_ONCE")
        how = strategy.replace("_", " ").lower()
        if spec.get("promoted_shadow"):
            return (
                f"Promote shadow {spec['promoted_shadow']}: deploy model {spec['model']} to "
                f"{spec['variant']}{extra} and end the shadow test ({how})"
            )
        ending = " and end the shadow test" if spec.get("end_shadow_test") else ""
        return f"Deploy model {spec['model']} to {spec['variant']}{extra}{ending} ({how})"


class RollbackChange(_ConfigUpdate):
    @staticmethod
    def read(*, proposal: ShiftProposal) -> LiveRead:
        described = describe(proposal)
        config = aws_sagemaker.describe_endpoint_config(
            target=target_of(proposal),
            region=proposal.endpoint.region,
            name=proposal.spec["config_name"],
        )
        return LiveRead(described=described, config=config)

    @staticmethod
    def target_config(proposal: ShiftProposal) -> str:
        return str(proposal.spec["config_name"])

    @staticmethod
    def unappliable(*, proposal: ShiftProposal, live: LiveRead) -> str | None:
        assert live.config is not None
        if live.described.config_name == proposal.spec["config_name"]:
            return f"The endpoint already runs {proposal.spec['config_name']}."
        try:
            deployment_config(proposal.spec, live.config.raw)
        except Invalid as exc:
            return exc.message
        return None

    @staticmethod
    def send(*, proposal: ShiftProposal, live: LiveRead) -> str:
        assert live.config is not None
        return aws_traffic.update_endpoint(
            target=target_of(proposal),
            region=proposal.endpoint.region,
            endpoint_name=proposal.endpoint.name,
            config_name=proposal.spec["config_name"],
            deployment_config=deployment_config(proposal.spec, live.config.raw),
        )

    @staticmethod
    def summary(*, proposal: ShiftProposal) -> str:
        strategy = (proposal.spec.get("deployment") or {}).get("strategy", "ALL_AT_ONCE")
        return (
            f"Roll back to config {proposal.spec['config_name']} "
            f"(from {proposal.before_state.get('config_name')}; "
            f"{strategy.replace('_', ' ').lower()})"
        )
