"""Staged incidents for on-call drills, played through the sandbox's own AWS API.

``bad-deploy`` is the drill the portal's incident board is built for: the CI deployer role
ships a new version of one variant's model whose container crashes on a share of requests;
errors rise on that variant and its 5XX alarm fires. Everything happens as the deployer
(access key ``ASIA4Q7XABCIDEPLOYER``, the assumed role ``ci-deployer``, calling from a GitHub
Actions runner's address with the AWS CLI's user agent) through the same HTTP front door the
portal uses, so CloudTrail, DescribeModel, DescribeEndpoint and the metrics show what AWS
would show after such a deploy, and nothing the portal reads is written behind its back.

The failure is a property of the model as served (``SANDBOX_FAILURE_RATE`` in its container
Environment, see ``sandbox.model_data``), not a fault entry: moving traffic off the variant
(UpdateEndpointWeightsAndCapacities to weight 0) is what stops the errors, as it would on AWS,
and ``rollback`` redeploys the previous endpoint config as the same deployer.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from sandbox import moto_bridge
from sandbox.endpoints import EndpointRecord, EndpointStatus, EndpointStore
from sandbox.identities import CI_DEPLOYER_KEY, GITHUB_ACTIONS_USER_AGENT, identity_for
from sandbox.model_data import FAILURE_RATE_VARIABLE
from sandbox.models import MODEL_KINDS, ModelKind, rows_to_csv

DEFAULT_ERROR_RATE = 0.3
MAX_INVOCATIONS = 10_000
# The GitHub Actions runner address the demo's CloudTrail history gives the deployer.
CI_SOURCE_IP = "198.51.100.23"
MAX_NAME_LENGTH = 63
_WAIT_MARGIN_SECONDS = 30.0
_VERSIONED = re.compile(r"^(?P<base>.+)-v(?P<number>\d+)$")
_BAD_DEPLOY_FIELDS = ("endpoint", "variant", "region", "error_rate", "invocations")


class ScenarioError(ValueError):
    """A scenario that cannot run; ``status`` is the admin route's HTTP answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class BadDeployRequest:
    """What to break: one endpoint (in one region), one variant, this share of requests."""

    endpoint: str
    variant: str | None = None
    region: str | None = None
    error_rate: float = DEFAULT_ERROR_RATE
    invocations: int = 0


def parse_bad_deploy(document: Any) -> BadDeployRequest:
    """Validate a ``POST /_sandbox/scenario/bad-deploy`` body."""
    if not isinstance(document, dict):
        raise ScenarioError('The body must be a JSON object, e.g. {"endpoint": "my-endpoint"}.')
    unknown = sorted(set(document) - set(_BAD_DEPLOY_FIELDS))
    if unknown:
        raise ScenarioError(
            f"Unknown field(s): {', '.join(unknown)}. "
            f"Known fields: {', '.join(_BAD_DEPLOY_FIELDS)}."
        )
    endpoint = _name(document, "endpoint")
    if endpoint is None:
        raise ScenarioError("endpoint is required: the name of the endpoint to deploy to.")
    rate = document.get("error_rate", DEFAULT_ERROR_RATE)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
        raise ScenarioError(
            f"error_rate must be a number between 0 and 1 (the share of requests the new "
            f"model fails); got {rate!r}."
        )
    invocations = document.get("invocations", 0)
    if (
        isinstance(invocations, bool)
        or not isinstance(invocations, int)
        or not 0 <= invocations <= MAX_INVOCATIONS
    ):
        raise ScenarioError(
            f"invocations must be a whole number from 0 to {MAX_INVOCATIONS}; got {invocations!r}."
        )
    return BadDeployRequest(
        endpoint=endpoint,
        variant=_name(document, "variant"),
        region=_name(document, "region"),
        error_rate=float(rate),
        invocations=invocations,
    )


def _name(document: Mapping[str, Any], field: str) -> str | None:
    value = document.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{field} must be a non-empty string when given.")
    return value.strip()


@dataclass(frozen=True)
class Deployment:
    """One bad deploy as it happened: enough to explain it and to undo it."""

    account_id: str
    region: str
    endpoint: str
    variant: str
    error_rate: float
    previous_model: str
    model: str
    previous_config: str
    config: str
    weights: dict[str, float]
    time: float


class ScenarioLog:
    """The bad deploys the sandbox staged, newest last, so rollback knows what to restore."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deployments: list[Deployment] = []

    def add(self, deployment: Deployment) -> None:
        with self._lock:
            self._deployments.append(deployment)

    def latest(self, endpoint: str, region: str | None) -> list[Deployment]:
        """The newest deploy per region for an endpoint (only ``region``'s when given)."""
        with self._lock:
            newest: dict[str, Deployment] = {}
            for deployment in self._deployments:
                if deployment.endpoint == endpoint and region in (None, deployment.region):
                    newest[deployment.region] = deployment
            return list(newest.values())

    def remove(self, deployment: Deployment) -> None:
        with self._lock:
            if deployment in self._deployments:
                self._deployments.remove(deployment)

    def clear(self) -> None:
        with self._lock:
            self._deployments.clear()


def ci_client(url: str, service: str, region: str) -> BaseClient:
    """A client that CloudTrail attributes to the ci-deployer role on a GitHub Actions runner.

    The AWS CLI names the command in its user agent, so each call carries its own; the
    runner's address reaches CloudTrail through X-Forwarded-For, which the sandbox believes
    from a loopback caller.
    """
    client = boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=CI_DEPLOYER_KEY,
        aws_secret_access_key="ci-deployer-secret",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )

    def stamp(request: Any, operation_name: str = "", **_: Any) -> None:
        command = re.sub(r"(?<!^)(?=[A-Z])", "-", operation_name).lower()
        agent = GITHUB_ACTIONS_USER_AGENT.rsplit("command/", 1)[0]
        request.headers["User-Agent"] = f"{agent}command/{service}.{command}"
        request.headers["X-Forwarded-For"] = CI_SOURCE_IP

    client.meta.events.register(f"before-sign.{service}.*", stamp)
    return client


def next_model_name(current: str, existing: Collection[str]) -> str:
    """The next version's name: ``tumor-model-v2`` -> ``tumor-model-v3`` (past any taken)."""
    match = _VERSIONED.match(current)
    base = match.group("base") if match else current
    taken = [
        int(found.group("number"))
        for name in existing
        if (found := _VERSIONED.match(name)) is not None and found.group("base") == base
    ]
    number = max([int(match.group("number")) if match else 1, *taken]) + 1
    suffix = f"-v{number}"
    return base[: MAX_NAME_LENGTH - len(suffix)] + suffix


def config_name(endpoint: str, now: float) -> str:
    """A CI-style config name: the endpoint, the deploy time, a short build id."""
    stamp = datetime.fromtimestamp(now, tz=UTC).strftime("%Y%m%d-%H%M%S")
    suffix = f"-{stamp}-{uuid.uuid4().hex[:4]}"
    return endpoint[: MAX_NAME_LENGTH - len(suffix)] + suffix


def _members(client: BaseClient, shape: str) -> set[str]:
    return set(client.meta.service_model.shape_for(shape).members)


def _copy(document: Mapping[str, Any], allowed: set[str]) -> dict[str, Any]:
    """The request members of a Describe answer, without the empty ones (a Describe shows
    ``VpcConfig: {}`` where a Create would refuse it)."""
    return {
        key: value
        for key, value in document.items()
        if key in allowed and value is not None and value != {} and value != [] and value != ""
    }


class Scenarios:
    """Runs the drills against the sandbox at ``url`` and waits on its endpoint store."""

    def __init__(
        self,
        endpoints: EndpointStore,
        log: ScenarioLog,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoints = endpoints
        self.log = log
        self.sleep = sleep

    @property
    def account_id(self) -> str:
        return moto_bridge.account_for(CI_DEPLOYER_KEY, None)

    def target(self, endpoint: str, region: str | None) -> EndpointRecord:
        """The one endpoint of that name the deployer's account has (in ``region`` if given)."""
        records = [
            r
            for r in self.endpoints.all_records()
            if r.account_id == self.account_id and r.name == endpoint and region in (None, r.region)
        ]
        where = f" in {region}" if region else ""
        if not records:
            raise ScenarioError(f"No endpoint named {endpoint}{where}.", 404)
        if len(records) > 1:
            regions = ", ".join(sorted(r.region for r in records))
            raise ScenarioError(f"Endpoint {endpoint} exists in {regions}; name the region.")
        return records[0]

    def bad_deploy(self, url: str, request: BadDeployRequest) -> dict[str, Any]:
        """Deploy a failing model version to one variant; answer what was done, how to undo it."""
        record = self.target(request.endpoint, request.region)
        variant_name = request.variant or _default_variant(record)
        variant = record.variant(variant_name)
        if variant is None:
            names = ", ".join(v.name for v in record.variants)
            raise ScenarioError(
                f"Endpoint {record.name} has no variant {variant_name}; its variants are {names}."
            )
        _require_in_service(record)
        kind = variant.model.kind if variant.model is not None else None
        if request.invocations and kind not in MODEL_KINDS:
            raise ScenarioError(
                f"Variant {variant_name} serves no model the sandbox can write requests for; "
                "leave invocations at 0 and let --traffic send them."
            )
        sagemaker = ci_client(url, "sagemaker", record.region)
        try:
            deployment = self._deploy(sagemaker, record, variant_name, request.error_rate)
        except (ClientError, BotoCoreError) as error:
            raise ScenarioError(f"The deploy failed: {error}", 409) from None
        self.log.add(deployment)
        status = self._wait(record, deployment.config)
        answer = _describe(deployment, status)
        if request.invocations:
            answer["invocations"] = _burst(
                url, record.region, record.name, cast(ModelKind, kind), request.invocations
            )
        return answer

    def _deploy(
        self, sagemaker: BaseClient, record: EndpointRecord, variant_name: str, error_rate: float
    ) -> Deployment:
        """Read what runs, then CreateModel, CreateEndpointConfig and UpdateEndpoint."""
        now = time.time()
        live = sagemaker.describe_endpoint(EndpointName=record.name)
        config = sagemaker.describe_endpoint_config(EndpointConfigName=live["EndpointConfigName"])
        specs = {v["VariantName"]: v for v in config["ProductionVariants"]}
        previous_model = str(specs[variant_name]["ModelName"])
        model = sagemaker.describe_model(ModelName=previous_model)
        existing = [
            summary["ModelName"]
            for page in sagemaker.get_paginator("list_models").paginate(
                NameContains=_VERSIONED.sub(r"\g<base>", previous_model)
            )
            for summary in page["Models"]
        ]
        new_model = next_model_name(previous_model, existing)
        sagemaker.create_model(**_failing_model(sagemaker, model, new_model, error_rate))
        weights = {
            v["VariantName"]: float(v.get("CurrentWeight", v.get("DesiredWeight", 1.0)))
            for v in live["ProductionVariants"]
        }
        counts = {
            v["VariantName"]: v["CurrentInstanceCount"]
            for v in live["ProductionVariants"]
            if "CurrentInstanceCount" in v
        }
        new_config = config_name(record.name, now)
        request = _copy(config, _members(sagemaker, "CreateEndpointConfigInput"))
        request["EndpointConfigName"] = new_config
        request["ProductionVariants"] = [
            _copied_variant(sagemaker, spec, weights, counts, variant_name, new_model)
            for spec in config["ProductionVariants"]
        ]
        sagemaker.create_endpoint_config(**request)
        sagemaker.update_endpoint(EndpointName=record.name, EndpointConfigName=new_config)
        return Deployment(
            account_id=record.account_id,
            region=record.region,
            endpoint=record.name,
            variant=variant_name,
            error_rate=error_rate,
            previous_model=previous_model,
            model=new_model,
            previous_config=str(live["EndpointConfigName"]),
            config=new_config,
            weights=weights,
            time=now,
        )

    def rollback(self, url: str, endpoint: str, region: str | None) -> dict[str, Any]:
        """Redeploy the config the newest bad deploy replaced, as the same deployer."""
        deployments = self.log.latest(endpoint, region)
        if not deployments:
            raise ScenarioError(f"No bad deploy of {endpoint} to roll back.", 404)
        if len(deployments) > 1:
            regions = ", ".join(sorted(d.region for d in deployments))
            raise ScenarioError(f"{endpoint} had bad deploys in {regions}; name the region.")
        deployment = deployments[0]
        record = self.target(endpoint, deployment.region)
        if record.config_name != deployment.config:
            raise ScenarioError(
                f"{endpoint} now runs endpoint config {record.config_name}, not the bad deploy's "
                f"{deployment.config}; nothing was rolled back.",
                409,
            )
        _require_in_service(record)
        sagemaker = ci_client(url, "sagemaker", record.region)
        try:
            sagemaker.update_endpoint(
                EndpointName=endpoint, EndpointConfigName=deployment.previous_config
            )
        except (ClientError, BotoCoreError) as error:
            raise ScenarioError(f"The rollback failed: {error}", 409) from None
        self.log.remove(deployment)
        status = self._wait(record, deployment.previous_config)
        return {
            "scenario": "rollback",
            "endpoint": endpoint,
            "region": record.region,
            "config": deployment.previous_config,
            "replaced_config": deployment.config,
            "identity": identity_for(CI_DEPLOYER_KEY).arn,
            "calls": ["UpdateEndpoint"],
            "status": status,
            "time": _iso(time.time()),
        }

    def _wait(self, record: EndpointRecord, config: str) -> str:
        """Poll the store (not the API, to keep CloudTrail as the CI left it) until served."""
        deadline = time.monotonic() + self.endpoints.timings.creating_seconds + _WAIT_MARGIN_SECONDS
        while True:
            current = self.endpoints.get(record.account_id, record.region, record.name)
            if current is None:
                return "Deleted"
            if current.status != EndpointStatus.UPDATING or time.monotonic() > deadline:
                if current.status == EndpointStatus.IN_SERVICE and current.config_name != config:
                    return f"RolledBack: {current.failure_reason or 'the update did not apply'}"
                return current.status.value
            self.sleep(0.05)


def _watched_variants(record: EndpointRecord) -> set[str]:
    """Variants of the endpoint that an Invocation5XXErrors alarm watches."""
    watched = set()
    for alarm in moto_bridge.alarm_definitions():
        dimensions = dict(alarm.dimensions)
        if (
            alarm.account_id == record.account_id
            and alarm.region == record.region
            and alarm.metric_name == "Invocation5XXErrors"
            and dimensions.get("EndpointName") == record.name
        ):
            watched.add(str(dimensions.get("VariantName")))
    return watched


def _default_variant(record: EndpointRecord) -> str:
    """The variant the drill breaks when none is named: the lowest-weight one that a 5XX
    alarm watches, so the drill ends in an alarm as a real bad deploy would on a watched
    fleet; with no watched variant, the lowest-weight one (and the answer warns)."""
    watched = _watched_variants(record)
    candidates = [v for v in record.variants if v.name in watched]
    if not candidates:
        return _weakest_variant(record)
    weakest = candidates[0]
    for variant in candidates[1:]:
        if (variant.current_weight or 0.0) <= (weakest.current_weight or 0.0):
            weakest = variant
    return weakest.name


def _weakest_variant(record: EndpointRecord) -> str:
    """The non-champion: the lowest current weight, the last of equals (the first is champion)."""
    weakest = record.variants[0]
    for variant in record.variants[1:]:
        if (variant.current_weight or 0.0) <= (weakest.current_weight or 0.0):
            weakest = variant
    return weakest.name


def _require_in_service(record: EndpointRecord) -> None:
    if record.status != EndpointStatus.IN_SERVICE:
        raise ScenarioError(
            f"Endpoint {record.name} is {record.status.value}; a deploy needs it InService.", 409
        )


def _failing_model(
    sagemaker: BaseClient, model: Mapping[str, Any], name: str, error_rate: float
) -> dict[str, Any]:
    """CreateModel's request for the same image and artifact, built to fail ``error_rate``."""
    container_fields = _members(sagemaker, "ContainerDefinition")

    def broken(container: Mapping[str, Any]) -> dict[str, Any]:
        copied = _copy(container, container_fields)
        environment = dict(copied.get("Environment") or {})
        environment[FAILURE_RATE_VARIABLE] = f"{error_rate:g}"
        copied["Environment"] = environment
        return copied

    request = _copy(model, _members(sagemaker, "CreateModelInput") - {"Tags"})
    request["ModelName"] = name
    if model.get("PrimaryContainer"):
        request["PrimaryContainer"] = broken(model["PrimaryContainer"])
        request.pop("Containers", None)
    else:
        request["Containers"] = [broken(c) for c in model.get("Containers") or []]
    return request


def _copied_variant(
    sagemaker: BaseClient,
    spec: Mapping[str, Any],
    weights: Mapping[str, float],
    counts: Mapping[str, int],
    variant_name: str,
    model: str,
) -> dict[str, Any]:
    """A variant of the current config with its live weight (UpdateEndpoint applies the new
    config's weights, so copying them keeps the traffic split) and, for ours, the new model."""
    copied = _copy(spec, _members(sagemaker, "ProductionVariant"))
    name = str(spec["VariantName"])
    copied["InitialVariantWeight"] = weights.get(name, float(spec.get("InitialVariantWeight", 1)))
    if name in counts and "ServerlessConfig" not in copied:
        copied["InitialInstanceCount"] = max(1, int(counts[name]))
    if name == variant_name:
        copied["ModelName"] = model
    return copied


def _five_xx_alarms(deployment: Deployment) -> tuple[list[str], list[str]]:
    """Invocation5XXErrors alarms on the broken variant, and on the endpoint's other variants."""
    ours: list[str] = []
    others: list[str] = []
    for alarm in moto_bridge.alarm_definitions():
        dimensions = dict(alarm.dimensions)
        if (
            alarm.account_id != deployment.account_id
            or alarm.region != deployment.region
            or alarm.metric_name != "Invocation5XXErrors"
            or dimensions.get("EndpointName") != deployment.endpoint
        ):
            continue
        # SageMaker publishes per EndpointName + VariantName only: nothing else ever fires.
        variant = dimensions.get("VariantName")
        (ours if variant == deployment.variant else others).append(alarm.name)
    return sorted(ours), sorted(others)


def _describe(deployment: Deployment, status: str) -> dict[str, Any]:
    """The scenario's answer: what the deployer did, what to watch, how to undo it."""
    endpoint, variant, region = deployment.endpoint, deployment.variant, deployment.region
    ours, others = _five_xx_alarms(deployment)
    answer: dict[str, Any] = {
        "scenario": "bad-deploy",
        "endpoint": endpoint,
        "region": region,
        "variant": variant,
        "error_rate": deployment.error_rate,
        "model": deployment.model,
        "previous_model": deployment.previous_model,
        "config": deployment.config,
        "previous_config": deployment.previous_config,
        "weights": deployment.weights,
        "identity": identity_for(CI_DEPLOYER_KEY).arn,
        "calls": ["CreateModel", "CreateEndpointConfig", "UpdateEndpoint"],
        "status": status,
        "time": _iso(deployment.time),
        "alarms": ours,
        "undo": {
            "rollback": f"python -m sandbox scenario rollback --endpoint {endpoint} "
            f"--region {region}",
            "shift_traffic": "aws sagemaker update-endpoint-weights-and-capacities "
            f"--region {region} --endpoint-name {endpoint} --desired-weights-and-capacities "
            f"VariantName={variant},DesiredWeight=0",
        },
    }
    if not ours:
        verb = "watches another variant" if len(others) == 1 else "watch other variants"
        watched = f" ({', '.join(others)} {verb})" if others else ""
        answer["warning"] = (
            f"No Invocation5XXErrors alarm watches variant {variant} of {endpoint}{watched}; "
            "the errors show in its metrics but no alarm will fire."
        )
    return answer


def _burst(url: str, region: str, endpoint: str, kind: ModelKind, count: int) -> dict[str, int]:
    """Send ``count`` invocations, routed by weight like any caller's, and count the outcomes."""
    from sandbox.traffic import rows_for

    rows = rows_for(kind).features
    runtime = boto3.client(
        "sagemaker-runtime",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )

    def invoke(index: int) -> bool:
        body = rows_to_csv([rows[index % len(rows)].tolist()]).encode()
        try:
            runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
        except (ClientError, BotoCoreError):
            return False
        return True

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(invoke, range(count)))
    return {"sent": count, "failed": outcomes.count(False)}


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat(timespec="seconds")
