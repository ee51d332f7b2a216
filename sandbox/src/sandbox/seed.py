"""The demo world and bulk worlds, built through real AWS API calls (plus one backfill).

Seeding through boto3 against the running server (rather than writing state directly)
means the seed exercises the same paths the portal uses, and a seeded endpoint goes through
``Creating`` like any other. Seeding does not wait for endpoints to become InService.

Two exceptions are written straight into the sandbox's own state: the demo's metric history
(``backfill_demo_history``), a day of one-minute CloudWatch data, because pushing it through
PutMetricData would make every start slow; and the history of nightly batch transform jobs
(``backfill_demo_transforms``), which really run over the seeded batch file but carry the
timestamps of the nights they stand for; a week of CloudTrail API history
(``backfill_demo_api_history``), calls that happened before the sandbox existed; and a day
of hourly Model Monitor executions (``backfill_demo_monitoring``) on the tumor classifier's
data-quality schedule, which really check sampled rows against the baseline but carry the
hours they stand for.
"""

from __future__ import annotations

import functools
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
import numpy as np
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.api_week import RegionWorld, background_week
from sandbox.backfill import Incident, VariantHistory, measured_latency_us, write_history
from sandbox.cloudtrail import EventStore
from sandbox.cloudtrail_records import EVENT_SOURCES, Call, CallKind, is_read_only, resources_named
from sandbox.identities import (
    CI_DEPLOYER_KEY,
    CLI_USER_AGENT,
    CONSOLE_USER_AGENT,
    CONTRACTOR_KEY,
    GITHUB_ACTIONS_USER_AGENT,
    LAMBDA_USER_AGENT,
    LEAD_KEY,
    MARIA_KEY,
    PORTAL_KEY,
    PORTAL_USER_AGENT,
    REGISTRY_SYNC_KEY,
    TERRAFORM_KEY,
    identity_for,
)
from sandbox.metric_store import MetricStore
from sandbox.models import (
    ModelKind,
    _split,
    artifact_bytes,
    holdout,
    holdout_rows,
    rows_to_csv,
    train_model,
)
from sandbox.monitor import HOUR, ModelMonitor
from sandbox.seed_async import backfill_async_history, seed_async
from sandbox.seed_components import backfill_component_history, seed_components
from sandbox.seed_multi_model import seed_multi_model
from sandbox.seed_staging import (
    backfill_staging_api_history,
    backfill_staging_history,
    seed_staging,
)
from sandbox.transform import build_transform_job
from sandbox.transform_jobs import TransformStore

ACCOUNT_ID = "123456789012"
EXECUTION_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/SageMakerExecutionRole"
# The seed builds the demo world as the platform team's Terraform role would.
DUMMY_CREDENTIALS = {"aws_access_key_id": TERRAFORM_KEY, "aws_secret_access_key": "testing"}
BULK_WORKERS = 8

# Accounts that publish SageMaker's first-party framework images, per region.
_FRAMEWORK_ECR_ACCOUNTS = {
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
    "eu-central-1": "492215442770",
    "ap-northeast-1": "354813040037",
    "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285",
}
# Deep Learning Containers (e.g. Hugging Face) come from one account in every region.
_DLC_ECR_ACCOUNT = "763104351884"
_IMAGE_TAGS = {
    "sagemaker-xgboost": "1.7-1",
    "sagemaker-scikit-learn": "1.2-1-cpu-py3",
    "huggingface-pytorch-inference": "1.13.1-transformers4.26.0-cpu-py39-ubuntu20.04",
}


def image_uri(repository: str, region: str) -> str:
    """The ECR URI AWS publishes for a framework container in a region."""
    if repository.startswith("sagemaker-"):
        account = _FRAMEWORK_ECR_ACCOUNTS.get(region, _FRAMEWORK_ECR_ACCOUNTS["us-east-1"])
    else:
        account = _DLC_ECR_ACCOUNT
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{repository}:{_IMAGE_TAGS[repository]}"


def bucket_name(region: str) -> str:
    """The SageMaker SDK's default bucket for the account and region."""
    return f"sagemaker-{region}-{ACCOUNT_ID}"


def artifact_url(region: str, model_name: str) -> str:
    return f"s3://{bucket_name(region)}/models/{model_name}/model.tar.gz"


@dataclass(frozen=True)
class ModelSpec:
    """A SageMaker model; ``kind=None`` leaves its artifact missing on purpose."""

    name: str
    region: str
    repository: str
    kind: ModelKind | None
    regularization: float = 1.0


@dataclass(frozen=True)
class VariantSpec:
    name: str
    model: str
    instance_type: str | None = None
    instance_count: int = 1
    weight: float = 1.0
    serverless: dict[str, int] | None = None


@dataclass(frozen=True)
class ScalingSpec:
    """A target-tracking autoscaling policy on one variant's instance count."""

    variant: str
    min_capacity: int
    max_capacity: int
    target_invocations_per_instance: float


@dataclass(frozen=True)
class EndpointSpec:
    """An endpoint of the demo world; ``history_rpm`` is its mean traffic in the backfill."""

    name: str
    region: str
    variants: tuple[VariantSpec, ...]
    data_capture: dict[str, Any] | None = None
    scaling: tuple[ScalingSpec, ...] = field(default_factory=tuple)
    history_rpm: float = 60.0
    # ShadowProductionVariants: a copy of a share of the production variant's requests.
    shadows: tuple[VariantSpec, ...] = ()

    @property
    def config_name(self) -> str:
        return f"{self.name}-config"

    @property
    def champion(self) -> VariantSpec:
        """The variant taking the most traffic (the first on a tie): the one alarms watch."""
        return max(self.variants, key=lambda v: v.weight)


DEMO_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("fraud-model-v1", "us-east-1", "sagemaker-xgboost", "fraud", 1.0),
    ModelSpec("fraud-model-v2", "us-east-1", "sagemaker-xgboost", "fraud", 0.05),
    ModelSpec("tumor-model-v1", "us-east-1", "sagemaker-xgboost", "tumor", 1.0),
    ModelSpec("tumor-model-v2", "us-east-1", "sagemaker-xgboost", "tumor", 0.1),
    ModelSpec("churn-model", "us-east-1", "sagemaker-scikit-learn", "churn", 1.0),
    ModelSpec("iris-model", "eu-west-1", "sagemaker-scikit-learn", "iris", 1.0),
    ModelSpec("sentiment-legacy-model", "eu-west-1", "huggingface-pytorch-inference", None),
)

DEMO_ENDPOINTS: tuple[EndpointSpec, ...] = (
    EndpointSpec(
        "fraud-detection",
        "us-east-1",
        (
            VariantSpec("xgb-m5", "fraud-model-v1", "ml.m5.xlarge", 2, 1.0),
            VariantSpec("xgb-c5", "fraud-model-v2", "ml.c5.xlarge", 2, 1.0),
        ),
        history_rpm=240.0,
    ),
    EndpointSpec(
        "tumor-classifier",
        "us-east-1",
        (
            VariantSpec("A", "tumor-model-v1", "ml.m5.large", 2, 80.0),
            VariantSpec("B", "tumor-model-v2", "ml.m5.large", 1, 20.0),
        ),
        data_capture={
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": f"s3://{bucket_name('us-east-1')}/datacapture/",
            "CaptureOptions": [{"CaptureMode": "InputAndOutput"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
        },
        # A's history runs well below 70 a minute per instance most of the day: with a
        # minimum of 1, auto scaling would take an instance away right after seeding.
        scaling=(ScalingSpec("A", 2, 4, 70.0),),
        history_rpm=90.0,
    ),
    # A shadow test: tumor-model-v2 answers copies of half of v1's requests, unseen by callers.
    EndpointSpec(
        "tumor-screening",
        "us-east-1",
        (VariantSpec("v1", "tumor-model-v1", "ml.m5.large", 1, 1.0),),
        shadows=(VariantSpec("v2-shadow", "tumor-model-v2", "ml.m5.large", 1, 0.5),),
        history_rpm=30.0,
    ),
    EndpointSpec(
        "churn-serverless",
        "us-east-1",
        (
            VariantSpec(
                "AllTraffic",
                "churn-model",
                serverless={"MemorySizeInMB": 2048, "MaxConcurrency": 5},
            ),
        ),
        history_rpm=20.0,
    ),
    EndpointSpec(
        "iris-classifier",
        "eu-west-1",
        (VariantSpec("AllTraffic", "iris-model", "ml.t2.medium", 1, 1.0),),
        history_rpm=12.0,
    ),
    EndpointSpec(
        "sentiment-legacy",
        "eu-west-1",
        (VariantSpec("AllTraffic", "sentiment-legacy-model", "ml.m5.large", 1, 1.0),),
    ),
)


# Alarms every serving demo endpoint gets, on the variant taking the most traffic.
FIVE_XX_RATE_THRESHOLD = 0.05
MODEL_LATENCY_P99_THRESHOLD_US = 500_000.0


def client(service: str, *, endpoint_url: str, region: str) -> BaseClient:
    """A boto3 client for the sandbox with dummy credentials and explicit retries."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 3},
            max_pool_connections=BULK_WORKERS * 2,
        ),
        **DUMMY_CREDENTIALS,
    )


def ensure_bucket(s3: BaseClient, region: str) -> str:
    """Create the region's default SageMaker bucket if it is not there yet."""
    name = bucket_name(region)
    arguments: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**arguments)
    except ClientError as error:
        if error.response["Error"]["Code"] not in (
            "BucketAlreadyOwnedByYou",
            "BucketAlreadyExists",
        ):
            raise
    return name


def create_model(sagemaker: BaseClient, s3: BaseClient, spec: ModelSpec) -> None:
    """Upload the trained artifact (unless deliberately missing) and create the model."""
    url = artifact_url(spec.region, spec.name)
    if spec.kind is not None:
        trained = train_model(spec.kind, regularization=spec.regularization)
        s3.put_object(
            Bucket=bucket_name(spec.region),
            Key=url.split("/", 3)[3],
            Body=artifact_bytes(trained),
            ContentType="application/x-gzip",
        )
    sagemaker.create_model(
        ModelName=spec.name,
        PrimaryContainer={"Image": image_uri(spec.repository, spec.region), "ModelDataUrl": url},
        ExecutionRoleArn=EXECUTION_ROLE_ARN,
    )


def _variant_config(variant: VariantSpec) -> dict[str, Any]:
    config: dict[str, Any] = {
        "VariantName": variant.name,
        "ModelName": variant.model,
        "InitialVariantWeight": variant.weight,
    }
    if variant.serverless is not None:
        config["ServerlessConfig"] = dict(variant.serverless)
    else:
        config["InstanceType"] = variant.instance_type
        config["InitialInstanceCount"] = variant.instance_count
    return config


def create_endpoint(sagemaker: BaseClient, autoscaling: BaseClient, spec: EndpointSpec) -> None:
    """Create the endpoint config and endpoint, then register its autoscaling."""
    config: dict[str, Any] = {
        "EndpointConfigName": spec.config_name,
        "ProductionVariants": [_variant_config(v) for v in spec.variants],
    }
    if spec.shadows:
        config["ShadowProductionVariants"] = [_variant_config(v) for v in spec.shadows]
    if spec.data_capture is not None:
        config["DataCaptureConfig"] = spec.data_capture
    sagemaker.create_endpoint_config(**config)
    sagemaker.create_endpoint(EndpointName=spec.name, EndpointConfigName=spec.config_name)
    for scaling in spec.scaling:
        resource_id = f"endpoint/{spec.name}/variant/{scaling.variant}"
        autoscaling.register_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=resource_id,
            ScalableDimension="sagemaker:variant:DesiredInstanceCount",
            MinCapacity=scaling.min_capacity,
            MaxCapacity=scaling.max_capacity,
        )
        autoscaling.put_scaling_policy(
            PolicyName=f"{spec.name}-{scaling.variant}-invocations",
            ServiceNamespace="sagemaker",
            ResourceId=resource_id,
            ScalableDimension="sagemaker:variant:DesiredInstanceCount",
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": scaling.target_invocations_per_instance,
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                },
                "ScaleInCooldown": 300,
                "ScaleOutCooldown": 60,
            },
        )


def put_endpoint_alarms(cloudwatch: BaseClient, endpoint: str, variant: str) -> list[str]:
    """The two alarms an on-call team puts on an endpoint: 5XX rate and p99 model latency.

    Named ``<endpoint>-5xx-rate`` and ``<endpoint>-model-latency-p99``; both watch one
    variant (SageMaker publishes per EndpointName + VariantName only) and treat a minute
    without traffic as healthy.
    """
    dimensions = [
        {"Name": "EndpointName", "Value": endpoint},
        {"Name": "VariantName", "Value": variant},
    ]
    common: dict[str, Any] = {
        "Namespace": "AWS/SageMaker",
        "Dimensions": dimensions,
        "Period": 60,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }
    rate_alarm, latency_alarm = f"{endpoint}-5xx-rate", f"{endpoint}-model-latency-p99"
    cloudwatch.put_metric_alarm(
        AlarmName=rate_alarm,
        AlarmDescription=(
            f"More than {FIVE_XX_RATE_THRESHOLD:.0%} of the requests to {endpoint} "
            f"(variant {variant}) failed with a 5XX error within a minute."
        ),
        MetricName="Invocation5XXErrors",
        Statistic="Average",
        Threshold=FIVE_XX_RATE_THRESHOLD,
        **common,
    )
    cloudwatch.put_metric_alarm(
        AlarmName=latency_alarm,
        AlarmDescription=(
            f"The slowest 1% of {endpoint}'s requests (variant {variant}) took the model over "
            f"{MODEL_LATENCY_P99_THRESHOLD_US / 1000:.0f} ms within a minute."
        ),
        MetricName="ModelLatency",
        ExtendedStatistic="p99",
        Threshold=MODEL_LATENCY_P99_THRESHOLD_US,
        **common,
    )
    return [rate_alarm, latency_alarm]


def _serves(endpoint: EndpointSpec) -> bool:
    """Whether every variant's model has an artifact, so the endpoint will be InService."""
    kinds = {model.name: model.kind for model in DEMO_MODELS}
    variants = (*endpoint.variants, *endpoint.shadows)
    return all(kinds.get(variant.model) is not None for variant in variants)


def seed_demo(*, endpoint_url: str) -> list[str]:
    """Create the demo world; returns the endpoint names (still Creating when this returns)."""
    regions = sorted({spec.region for spec in DEMO_MODELS} | {e.region for e in DEMO_ENDPOINTS})
    for region in regions:
        s3 = client("s3", endpoint_url=endpoint_url, region=region)
        sagemaker = client("sagemaker", endpoint_url=endpoint_url, region=region)
        autoscaling = client("application-autoscaling", endpoint_url=endpoint_url, region=region)
        cloudwatch = client("cloudwatch", endpoint_url=endpoint_url, region=region)
        ensure_bucket(s3, region)
        for model in DEMO_MODELS:
            if model.region == region:
                create_model(sagemaker, s3, model)
        for endpoint in DEMO_ENDPOINTS:
            if endpoint.region == region:
                create_endpoint(sagemaker, autoscaling, endpoint)
                if _serves(endpoint):
                    put_endpoint_alarms(cloudwatch, endpoint.name, endpoint.champion.name)
        if region == BATCH_REGION:
            upload_batch_files(s3)
        if region == MONITOR_REGION:
            upload_tumor_baseline(s3)
            create_demo_schedule(sagemaker)
    seed_staging(endpoint_url=endpoint_url)  # the second account, reached by AssumeRole
    multi_model = seed_multi_model(endpoint_url=endpoint_url)  # sandbox/seed_multi_model.py
    asynchronous = seed_async(endpoint_url=endpoint_url)  # sandbox/seed_async.py
    components = seed_components(endpoint_url=endpoint_url)  # sandbox/seed_components.py
    names = [endpoint.name for endpoint in DEMO_ENDPOINTS]
    return names + multi_model + asynchronous + components


# The nightly tumor scoring batch: held-out rows behind an ID column, no header, as the
# classic SageMaker batch transform example prepares them.
BATCH_REGION = "us-east-1"
TUMOR_BATCH_KEY = "batch/tumor/input/tumor-batch.csv"
TUMOR_BATCH_ROWS = 300
TUMOR_BATCH_FIRST_ID = 1001
# A night whose export wrote "n/a" into one feature, so its job failed on that line.
BROKEN_BATCH_KEY = "batch/tumor/input-2026-11-23/tumor-batch.csv"
BROKEN_BATCH_LINE = 137


def tumor_batch_csv(*, broken_line: int | None = None) -> str:
    """The batch file: ``id,feature1,...,feature30`` per line, cycling through held-out rows."""
    rows = holdout_rows("tumor")
    lines = []
    for number in range(1, TUMOR_BATCH_ROWS + 1):
        features = rows_to_csv([rows[(number - 1) % len(rows)]]).rstrip("\n").split(",")
        if number == broken_line:
            features[4] = "n/a"
        lines.append(f"{TUMOR_BATCH_FIRST_ID + number - 1}," + ",".join(features) + "\n")
    return "".join(lines)


def upload_batch_files(s3: BaseClient) -> list[str]:
    """Put the batch transform inputs in the region's SageMaker bucket."""
    bucket = bucket_name(BATCH_REGION)
    s3.put_object(
        Bucket=bucket, Key=TUMOR_BATCH_KEY, Body=tumor_batch_csv().encode(), ContentType="text/csv"
    )
    s3.put_object(
        Bucket=bucket,
        Key=BROKEN_BATCH_KEY,
        Body=tumor_batch_csv(broken_line=BROKEN_BATCH_LINE).encode(),
        ContentType="text/csv",
    )
    return [TUMOR_BATCH_KEY, BROKEN_BATCH_KEY]


# --- BACKFILL --------------------------------------------------------------------------------
# Not an API call: the demo's last 24 hours of one-minute metrics, written straight into the
# sandbox's metric store so that charts have a history the moment the sandbox starts.

# The incident the history shows: fraud-detection's c5 variant slowed down and threw 5XX
# errors for 20 minutes six hours ago, then recovered (below the alarms' thresholds now).
_INCIDENT_ENDPOINT, _INCIDENT_VARIANT = "fraud-detection", "xgb-c5"


def backfill_demo_history(store: MetricStore, *, now: float) -> int:
    """BACKFILL: write the demo endpoints' last day of metrics; returns buckets written."""
    models = {model.name: model for model in DEMO_MODELS}
    written = 0
    for endpoint in DEMO_ENDPOINTS:
        if not _serves(endpoint):
            continue
        total_weight = sum(v.weight for v in endpoint.variants) or 1.0
        for variant, share in _history_shares(endpoint, total_weight):
            spec = models[variant.model]
            assert spec.kind is not None
            trained = train_model(spec.kind, regularization=spec.regularization)
            incident = None
            if (endpoint.name, variant.name) == (_INCIDENT_ENDPOINT, _INCIDENT_VARIANT):
                incident = Incident(now - 6 * 3600, now - 6 * 3600 + 20 * 60, 40.0, 0.02)
            history = VariantHistory(
                account_id=ACCOUNT_ID,
                region=endpoint.region,
                endpoint=endpoint.name,
                variant=variant.name,
                instance_type=variant.instance_type,
                instance_count=None if variant.serverless else variant.instance_count,
                requests_per_minute=endpoint.history_rpm * share,
                model_latency_us=measured_latency_us(trained, holdout_rows(spec.kind)[0]),
                incident=incident,
            )
            written += write_history(store, history, end=now)
    written += backfill_async_history(store, now=now)  # sandbox/seed_async.py
    written += backfill_component_history(store, now=now)  # sandbox/seed_components.py
    return written + backfill_staging_history(store, now=now)


def _history_shares(endpoint: EndpointSpec, total_weight: float) -> list[tuple[VariantSpec, float]]:
    """Each variant's share of the endpoint's requests: by weight for production variants;
    a shadow's copies are its weight relative to the (one) production variant's."""
    shares = [(variant, variant.weight / total_weight) for variant in endpoint.variants]
    production = endpoint.variants[0].weight or 1.0
    shares += [(shadow, min(1.0, shadow.weight / production)) for shadow in endpoint.shadows]
    return shares


# --- BACKFILL: transform jobs ---------------------------------------------------------------
# Not API calls: the nightly batch jobs of the last week, run for real over the seeded batch
# files (their .out objects are real predictions) but stamped with the nights they stand for,
# which CreateTransformJob cannot do.


@dataclass(frozen=True)
class HistoricalJob:
    name: str
    input_key: str
    created: str  # ISO 8601, UTC


DEMO_TRANSFORM_JOBS: tuple[HistoricalJob, ...] = (
    HistoricalJob("tumor-batch-2026-11-20", TUMOR_BATCH_KEY, "2026-11-20T02:00:00+00:00"),
    HistoricalJob("tumor-batch-2026-11-21", TUMOR_BATCH_KEY, "2026-11-21T02:00:00+00:00"),
    HistoricalJob("tumor-batch-2026-11-22", TUMOR_BATCH_KEY, "2026-11-22T02:00:00+00:00"),
    HistoricalJob("tumor-batch-2026-11-23", BROKEN_BATCH_KEY, "2026-11-23T02:00:00+00:00"),
)
# How long the nightly jobs took on AWS: instances start, then the data is scored.
_STARTUP_SECONDS, _RUN_SECONDS = 240.0, 300.0


def tumor_batch_request(name: str, input_key: str) -> dict[str, Any]:
    """The nightly job's CreateTransformJob parameters: the classic ID + prediction setup."""
    bucket = bucket_name(BATCH_REGION)
    return {
        "TransformJobName": name,
        "ModelName": "tumor-model-v1",
        "MaxConcurrentTransforms": 4,
        "MaxPayloadInMB": 6,
        "BatchStrategy": "MultiRecord",
        "TransformInput": {
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{input_key}"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {
            "S3OutputPath": f"s3://{bucket}/batch/tumor/output/{name}",
            "Accept": "text/csv",
            "AssembleWith": "Line",
        },
        "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
        "DataProcessing": {
            "InputFilter": "$[1:]",
            "JoinSource": "Input",
            "OutputFilter": "$[0,-1]",
        },
    }


def backfill_demo_transforms(store: TransformStore) -> list[str]:
    """BACKFILL: run the demo's historical transform jobs now, dated to their nights."""
    names = []
    for historical in DEMO_TRANSFORM_JOBS:
        created = datetime.fromisoformat(historical.created).timestamp()
        request = tumor_batch_request(historical.name, historical.input_key)
        job = build_transform_job(request, ACCOUNT_ID, BATCH_REGION, created)
        store.admit(job, quota=None)
        job.start_time = created + _STARTUP_SECONDS
        store.finish(job, store.execute(job), at=job.start_time + _RUN_SECONDS)
        names.append(job.name)
    return names


# --- BACKFILL: CloudTrail API history -------------------------------------------------------
# Not API calls: a week of who-changed-what on the demo endpoints, written straight into the
# event store with the times they happened, which no API call can set. The changes are
# plausible for the world: a CI pipeline rolls out configs, a data scientist shifts traffic
# by hand (and is refused a delete), the portal reads.

_WHERE = {
    MARIA_KEY: ("203.0.113.42", CLI_USER_AGENT),
    CI_DEPLOYER_KEY: ("198.51.100.23", GITHUB_ACTIONS_USER_AGENT),
    PORTAL_KEY: ("10.0.12.34", PORTAL_USER_AGENT),
    CONTRACTOR_KEY: ("192.0.2.77", "Boto3/1.34.0 Python/3.11.4 Linux/5.15 Botocore/1.34.0"),
    REGISTRY_SYNC_KEY: ("198.51.100.61", LAMBDA_USER_AGENT),
    LEAD_KEY: ("203.0.113.87", CONSOLE_USER_AGENT),
}


@dataclass(frozen=True)
class PastCall:
    """One call of the seeded history; ``error`` is (code, message) for a refused call."""

    hours_ago: float
    key: str
    service: str
    operation: str
    params: dict[str, Any]
    response: dict[str, Any] | None = None
    error: tuple[str, str] | None = None
    region: str = "us-east-1"


def _arn(region: str, kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:{region}:{ACCOUNT_ID}:{kind}/{name.lower()}"


def _config_arn(name: str, region: str = "us-east-1") -> str:
    return _arn(region, "endpoint-config", name)


def _weights(endpoint: str, **weights: float) -> dict[str, Any]:
    return {
        "EndpointName": endpoint,
        "DesiredWeightsAndCapacities": [
            {"VariantName": variant, "DesiredWeight": weight} for variant, weight in weights.items()
        ],
    }


def _config(name: str, *variants: tuple[str, str, str, int, float]) -> dict[str, Any]:
    return {
        "EndpointConfigName": name,
        "ProductionVariants": [
            {
                "VariantName": variant,
                "ModelName": model,
                "InstanceType": instance_type,
                "InitialInstanceCount": count,
                "InitialVariantWeight": weight,
            }
            for variant, model, instance_type, count, weight in variants
        ],
    }


def _demo_api_history() -> list[PastCall]:
    tumor, fraud, old = "tumor-classifier", "fraud-detection", "fraud-detection-old"
    tumor_arn, fraud_arn = (
        _arn("us-east-1", "endpoint", tumor),
        _arn("us-east-1", "endpoint", fraud),
    )
    maria_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/maria.data-scientist"
    target = f"endpoint/{tumor}/variant/A"
    return [
        PastCall(
            166.9,
            CI_DEPLOYER_KEY,
            "sagemaker",
            "CreateEndpointConfig",
            _config(
                "tumor-classifier-config-v2",
                ("A", "tumor-model-v1", "ml.m5.large", 2, 50.0),
                ("B", "tumor-model-v2", "ml.m5.large", 1, 50.0),
            ),
            {
                "EndpointConfigArn": _arn(
                    "us-east-1", "endpoint-config", "tumor-classifier-config-v2"
                )
            },
        ),
        PastCall(
            166.8,
            CI_DEPLOYER_KEY,
            "sagemaker",
            "UpdateEndpoint",
            {"EndpointName": tumor, "EndpointConfigName": "tumor-classifier-config-v2"},
            {"EndpointArn": tumor_arn},
        ),
        PastCall(166.7, CI_DEPLOYER_KEY, "sagemaker", "DescribeEndpoint", {"EndpointName": tumor}),
        # B at half the traffic was more than the team meant: CI reverts to the config.
        PastCall(
            166.0,
            CI_DEPLOYER_KEY,
            "sagemaker",
            "UpdateEndpoint",
            {"EndpointName": tumor, "EndpointConfigName": "tumor-classifier-config"},
            {"EndpointArn": tumor_arn},
        ),
        PastCall(
            160.0,
            CI_DEPLOYER_KEY,
            "application-autoscaling",
            "RegisterScalableTarget",
            {
                "ServiceNamespace": "sagemaker",
                "ResourceId": target,
                "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                "MinCapacity": 2,
                "MaxCapacity": 4,
            },
            {
                "ScalableTargetARN": f"arn:aws:application-autoscaling:us-east-1:{ACCOUNT_ID}:"
                "scalable-target/056d3b1b0c1f4a0e9d3c8f2b7a6e5d4c"
            },
        ),
        PastCall(150.0, PORTAL_KEY, "sagemaker", "ListEndpoints", {"MaxResults": 100}),
        PastCall(149.9, PORTAL_KEY, "sagemaker", "DescribeEndpoint", {"EndpointName": tumor}),
        PastCall(120.5, MARIA_KEY, "sagemaker", "DescribeEndpoint", {"EndpointName": tumor}),
        PastCall(
            120.2,
            MARIA_KEY,
            "sagemaker",
            "UpdateEndpointWeightsAndCapacities",
            _weights(tumor, A=80.0, B=-20.0),
            error=(
                "ValidationException",
                "1 validation error detected: Value '-20.0' at "
                "'desiredWeightsAndCapacities.2.member.desiredWeight' failed to satisfy "
                "constraint: Member must have value greater than or equal to 0",
            ),
        ),
        PastCall(
            120.0,
            MARIA_KEY,
            "sagemaker",
            "UpdateEndpointWeightsAndCapacities",
            _weights(tumor, A=80.0, B=20.0),
            {"EndpointArn": tumor_arn},
        ),
        PastCall(
            96.0,
            CI_DEPLOYER_KEY,
            "sagemaker",
            "CreateEndpointConfig",
            _config(
                "fraud-detection-config-v2",
                ("xgb-m5", "fraud-model-v1", "ml.m5.xlarge", 2, 1.0),
                ("xgb-c5", "fraud-model-v2", "ml.c5.xlarge", 2, 1.0),
            ),
            {
                "EndpointConfigArn": _arn(
                    "us-east-1", "endpoint-config", "fraud-detection-config-v2"
                )
            },
        ),
        PastCall(
            95.9,
            CI_DEPLOYER_KEY,
            "sagemaker",
            "UpdateEndpoint",
            {"EndpointName": fraud, "EndpointConfigName": "fraud-detection-config-v2"},
            {"EndpointArn": fraud_arn},
        ),
        # The release pipeline's smoke test failed on v2: reverted within the hour.
        PastCall(
            95.2,
            CI_DEPLOYER_KEY,
            "sagemaker",
            "UpdateEndpoint",
            {"EndpointName": fraud, "EndpointConfigName": "fraud-detection-config"},
            {"EndpointArn": fraud_arn},
        ),
        PastCall(
            72.0,
            MARIA_KEY,
            "sagemaker",
            "DeleteEndpoint",
            {"EndpointName": old},
            error=(
                "AccessDenied",
                f"User: {maria_arn} is not authorized to perform: sagemaker:DeleteEndpoint on "
                f"resource: {_arn('us-east-1', 'endpoint', old)} because no identity-based "
                "policy allows the sagemaker:DeleteEndpoint action",
            ),
        ),
        PastCall(71.0, CI_DEPLOYER_KEY, "sagemaker", "DeleteEndpoint", {"EndpointName": old}),
        PastCall(
            70.9,
            CI_DEPLOYER_KEY,
            "sagemaker",
            "DeleteEndpointConfig",
            {"EndpointConfigName": f"{old}-config"},
        ),
        PastCall(30.0, MARIA_KEY, "sagemaker", "ListEndpoints", {"NameContains": "fraud"}),
        PastCall(
            29.9,
            MARIA_KEY,
            "sagemaker",
            "DescribeEndpointConfig",
            {"EndpointConfigName": "fraud-detection-config-v2"},
        ),
        PastCall(
            24.0,
            CI_DEPLOYER_KEY,
            "sagemaker",
            "CreateEndpointConfig",
            _config(
                "iris-classifier-config-v2", ("AllTraffic", "iris-model", "ml.t2.medium", 1, 1.0)
            ),
            {
                "EndpointConfigArn": _arn(
                    "eu-west-1", "endpoint-config", "iris-classifier-config-v2"
                )
            },
            region="eu-west-1",
        ),
        PastCall(
            23.9,
            CI_DEPLOYER_KEY,
            "sagemaker",
            "UpdateEndpoint",
            {"EndpointName": "iris-classifier", "EndpointConfigName": "iris-classifier-config-v2"},
            {"EndpointArn": _arn("eu-west-1", "endpoint", "iris-classifier")},
            region="eu-west-1",
        ),
        PastCall(
            23.0,
            CI_DEPLOYER_KEY,
            "sagemaker",
            "UpdateEndpoint",
            {"EndpointName": "iris-classifier", "EndpointConfigName": "iris-classifier-config"},
            {"EndpointArn": _arn("eu-west-1", "endpoint", "iris-classifier")},
            region="eu-west-1",
        ),
        PastCall(
            10.0,
            CONTRACTOR_KEY,
            "sagemaker",
            "DescribeEndpoint",
            {"EndpointName": "sentiment-legacy"},
            region="eu-west-1",
        ),
        *(
            PastCall(hours, PORTAL_KEY, "sagemaker", "DescribeEndpoint", {"EndpointName": name})
            for hours in (2.0, 1.0)
            for name in (tumor, fraud)
        ),
    ]


def _background(now: float) -> list[PastCall]:
    """The week's everyday reads and refusals around the endpoints' stories (api_week)."""
    worlds = tuple(
        RegionWorld(
            region=region,
            endpoints=tuple(e.name for e in DEMO_ENDPOINTS if e.region == region),
            models=tuple(m.name for m in DEMO_MODELS if m.region == region),
            monitored=("tumor-classifier",) if region == MONITOR_REGION else (),
        )
        for region in sorted({e.region for e in DEMO_ENDPOINTS})
    )
    return [
        PastCall(
            call.hours_ago,
            call.key,
            "sagemaker",
            call.operation,
            dict(call.params),
            error=call.error,
            region=call.region,
        )
        for call in background_week(
            worlds,
            now=now,
            lambda_key=REGISTRY_SYNC_KEY,
            scientist_key=MARIA_KEY,
            lead_key=LEAD_KEY,
            ci_key=CI_DEPLOYER_KEY,
            contractor_key=CONTRACTOR_KEY,
        )
    ]


def backfill_demo_api_history(store: EventStore, *, now: float) -> int:
    """BACKFILL: record the demo's last week of API calls at their times; returns the count."""
    history = sorted(_demo_api_history() + _background(now), key=lambda past: -past.hours_ago)
    for number, past in enumerate(history):
        source_ip, user_agent = _WHERE[past.key]
        read_only = is_read_only(past.operation)
        call = Call(
            kind=CallKind(past.service, EVENT_SOURCES[past.service], past.operation, read_only),
            time=now - past.hours_ago * 3600,
            region=past.region,
            account_id=ACCOUNT_ID,
            access_key=past.key,
            identity=identity_for(past.key, ACCOUNT_ID),
            source_ip=source_ip,
            user_agent=user_agent,
            request_parameters=past.params,
            response_elements=past.response,
            error_code=past.error[0] if past.error else None,
            error_message=past.error[1] if past.error else None,
            request_id=f"00000000-seed-4000-8000-{number:012d}",
        )
        resources = resources_named(past.service, past.params, past.region, ACCOUNT_ID)
        store.record(call, resources, backfill=True)
    return len(history) + backfill_staging_api_history(store, now=now)


def seed_bulk(
    *,
    endpoint_url: str,
    count: int,
    region: str = "us-east-1",
    variants_per_endpoint: int = 3,
    prefix: str = "bench-",
) -> list[str]:
    """Create ``count`` endpoints sharing one model and config, concurrently, for benchmarks.

    Endpoints are named ``<prefix>0000`` onwards; the prefix must not have been used before
    in the region, as SageMaker refuses to create an endpoint that exists.
    """
    if count < 0:
        raise ValueError("count cannot be negative.")
    if not 1 <= variants_per_endpoint <= 10:
        raise ValueError("SageMaker allows 1 to 10 production variants per endpoint.")
    s3 = client("s3", endpoint_url=endpoint_url, region=region)
    sagemaker = client("sagemaker", endpoint_url=endpoint_url, region=region)
    ensure_bucket(s3, region)
    repository = "sagemaker-xgboost"
    model = ModelSpec(f"{prefix}model", region, repository, "fraud")
    create_model(sagemaker, s3, model)
    config_name = f"{prefix}config"
    sagemaker.create_endpoint_config(
        EndpointConfigName=config_name,
        ProductionVariants=[
            _variant_config(VariantSpec(f"variant-{i}", model.name, "ml.m5.large", 1, 1.0))
            for i in range(1, variants_per_endpoint + 1)
        ],
    )
    width = max(4, len(str(max(count - 1, 0))))
    names = [f"{prefix}{i:0{width}d}" for i in range(count)]

    def create(name: str) -> None:
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config_name)

    with ThreadPoolExecutor(max_workers=BULK_WORKERS) as pool:
        list(pool.map(create, names))
    return names


# --- Model Monitor: the tumor classifier's hourly data-quality schedule ---------------------
# Its baseline is what the SageMaker SDK's suggest_baseline would compute from the model's
# training data (CSV with a header); its reports go to the region's SageMaker bucket.

MONITOR_REGION = "us-east-1"
MONITORED_ENDPOINT = "tumor-classifier"
MONITORING_SCHEDULE = "tumor-classifier-data-quality"
BASELINE_PREFIX = f"monitoring/{MONITORED_ENDPOINT}/baseline"
REPORTS_PREFIX = f"monitoring/{MONITORED_ENDPOINT}/reports"
# The held-out rows the traffic replays differ from the training rows by up to 0.10 in the
# drift distance on a few features (worst_texture), right at the suggested
# comparison_threshold of 0.1: left as suggested, every busy hour would flag the
# train/validation split as drift. Raised as one does when reviewing suggested constraints;
# a shift of one standard deviation in a feature still measures about twice this.
DRIFT_THRESHOLD = 0.2
# The SageMaker-provided analyzer image in us-east-1.
MODEL_MONITOR_IMAGE = (
    "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
)


def tumor_training_csv() -> list[str]:
    """The tumor model's training rows as CSV lines under a header of its column names."""
    training = _split("tumor")[0]
    header = ",".join(training.feature_names) + "\n"
    return [header, *rows_to_csv(training.features.tolist()).splitlines(keepends=True)]


@functools.cache
def _tumor_baseline_documents() -> tuple[str, str]:
    import dataquality as quality

    statistics, constraints = quality.baseline_from_csv(lines=tumor_training_csv(), header=True)
    constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"] = (
        DRIFT_THRESHOLD
    )
    return json.dumps(statistics, indent=2), json.dumps(constraints, indent=2)


def tumor_baseline() -> tuple[dict[str, Any], dict[str, Any]]:
    """(statistics.json, constraints.json) of the tumor model's training data, as suggested
    but for the drift threshold (``DRIFT_THRESHOLD``)."""
    statistics, constraints = _tumor_baseline_documents()
    return json.loads(statistics), json.loads(constraints)


def baseline_uri(region: str = MONITOR_REGION) -> str:
    return f"s3://{bucket_name(region)}/{BASELINE_PREFIX}"


def upload_tumor_baseline(s3: BaseClient, region: str = MONITOR_REGION) -> str:
    """Put the baseline's statistics.json and constraints.json in the bucket; its S3 prefix."""
    statistics, constraints = _tumor_baseline_documents()
    for name, document in (("statistics.json", statistics), ("constraints.json", constraints)):
        s3.put_object(
            Bucket=bucket_name(region),
            Key=f"{BASELINE_PREFIX}/{name}",
            Body=document.encode(),
            ContentType="application/json",
        )
    return baseline_uri(region)


def demo_schedule_config() -> dict[str, Any]:
    """The hourly DataQuality schedule, as the SageMaker SDK's DefaultModelMonitor creates it."""
    bucket = bucket_name(MONITOR_REGION)
    return {
        "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
        "MonitoringType": "DataQuality",
        "MonitoringJobDefinition": {
            "BaselineConfig": {
                "ConstraintsResource": {"S3Uri": f"{baseline_uri()}/constraints.json"},
                "StatisticsResource": {"S3Uri": f"{baseline_uri()}/statistics.json"},
            },
            "MonitoringInputs": [
                {
                    "EndpointInput": {
                        "EndpointName": MONITORED_ENDPOINT,
                        "LocalPath": "/opt/ml/processing/input/endpoint",
                        "S3InputMode": "File",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                }
            ],
            "MonitoringOutputConfig": {
                "MonitoringOutputs": [
                    {
                        "S3Output": {
                            "S3Uri": f"s3://{bucket}/{REPORTS_PREFIX}",
                            "LocalPath": "/opt/ml/processing/output",
                            "S3UploadMode": "Continuous",
                        }
                    }
                ]
            },
            "MonitoringResources": {
                "ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": "ml.m5.xlarge",
                    "VolumeSizeInGB": 20,
                }
            },
            "MonitoringAppSpecification": {"ImageUri": MODEL_MONITOR_IMAGE},
            "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
            "Environment": {"publish_cloudwatch_metrics": "Enabled"},
            "RoleArn": EXECUTION_ROLE_ARN,
        },
    }


def create_demo_schedule(sagemaker: BaseClient) -> str:
    return str(
        sagemaker.create_monitoring_schedule(
            MonitoringScheduleName=MONITORING_SCHEDULE,
            MonitoringScheduleConfig=demo_schedule_config(),
        )["MonitoringScheduleArn"]
    )


# --- BACKFILL: Model Monitor executions -----------------------------------------------------
# Not API calls: the last day of hourly executions, each checking a sample of held-out rows
# (what the endpoint saw that hour) against the baseline, with the hour's report in S3 and its
# metrics in CloudWatch. Two hours saw the "mean radius" sensor drift (CompletedWithViolations)
# and one hour the endpoint captured nothing during a config rollout (Failed, no data).

HISTORY_HOURS = 24
_ROWS_PER_HOUR = 120
_DRIFTED_HOURS_AGO = {9: 2.5, 8: 3.0}
_DRIFTED_FEATURE = "mean_radius"
_EMPTY_HOURS_AGO = {15}
# How long an execution took on AWS: queued after the hour, then the analysis ran.
_QUEUED_SECONDS, _STARTUP_SECONDS, _ANALYSIS_SECONDS = 95.0, 150.0, 200.0


def _hour_rows(hours_ago: int) -> list[list[str]]:
    """A sample of the hour's captured rows, drifted in the hours the incident lasted."""
    if hours_ago in _EMPTY_HOURS_AGO:
        return []
    data = holdout("tumor")
    rng = np.random.default_rng(1000 + hours_ago)
    # Without repeats, as the traffic generator replays the held-out rows.
    rows = data.features[rng.permutation(len(data.features))[:_ROWS_PER_HOUR]]
    drift = _DRIFTED_HOURS_AGO.get(hours_ago)
    if drift is not None:
        column = data.feature_names.index(_DRIFTED_FEATURE)
        rows = rows.copy()
        rows[:, column] += drift * data.features[:, column].std()
    return [[repr(float(value)) for value in row] for row in rows]


def backfill_demo_monitoring(monitor: ModelMonitor, *, now: float) -> list[str]:
    """BACKFILL: run the day of executions before ``now``; returns their processing jobs."""
    schedule = monitor.store.get(ACCOUNT_ID, MONITOR_REGION, MONITORING_SCHEDULE)
    if schedule is None:
        return []
    latest = schedule.cadence.previous_before(now + 1e-6)
    names = []
    for hours_ago in range(HISTORY_HOURS - 1, -1, -1):
        scheduled = latest - hours_ago * HOUR
        # The last hour may have just begun: squeeze its timeline into the time there was.
        scale = min(
            1.0, (now - scheduled) / (_QUEUED_SECONDS + _STARTUP_SECONDS + _ANALYSIS_SECONDS)
        )
        created = scheduled + _QUEUED_SECONDS * scale
        started = created + _STARTUP_SECONDS * scale
        ended = started + _ANALYSIS_SECONDS * scale
        execution = monitor.run(
            schedule, scheduled, rows=_hour_rows(hours_ago), timeline=(created, started, ended)
        )
        names.append(execution.processing_job_name)
    return names
