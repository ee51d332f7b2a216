"""The demo's second account: staging, reached from production by assuming a role.

Teams run a staging account beside production and operate both from one place. This module
makes that real in the sandbox: IAM roles in both accounts (``OpsPortalRead`` for the
portal, as ``docs/iam/`` names it, and in staging the platform team's ``platform-terraform``,
both trusting the production account), and a small staging world (staging copies of the
fraud and tumor endpoints on smaller fleets) built through the API by production's
Terraform principal after it assumed ``platform-terraform`` in staging, so staging's trail
shows the assumed role and both trails show the AssumeRole. Its history (a day of metrics,
a week of everyday reads) is backfilled like production's.

The staging roles are created straight in IAM, as an account-vending process does before
anyone can sign in to a new account; nothing else is written behind the API's back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from sandbox import moto_bridge
from sandbox.api_week import RegionWorld, background_week
from sandbox.backfill import VariantHistory, measured_latency_us, write_history
from sandbox.cloudtrail import EventStore
from sandbox.cloudtrail_records import EVENT_SOURCES, Call, CallKind, is_read_only, resources_named
from sandbox.identities import ACCOUNT_ID as PRODUCTION_ACCOUNT_ID
from sandbox.identities import (
    GITHUB_ACTIONS_USER_AGENT,
    LAMBDA_USER_AGENT,
    TERRAFORM_KEY,
    Identity,
)
from sandbox.metric_store import MetricStore
from sandbox.models import ModelKind, artifact_bytes, holdout_rows, train_model

STAGING_ACCOUNT_ID = "210987654321"
STAGING_REGION = "us-east-1"
PORTAL_ROLE = "OpsPortalRead"
TERRAFORM_ROLE = "platform-terraform"
TERRAFORM_SESSION = "terraform-apply"
STAGING_PORTAL_ROLE_ARN = f"arn:aws:iam::{STAGING_ACCOUNT_ID}:role/{PORTAL_ROLE}"
STAGING_TERRAFORM_ROLE_ARN = f"arn:aws:iam::{STAGING_ACCOUNT_ID}:role/{TERRAFORM_ROLE}"
STAGING_BUCKET = f"sagemaker-{STAGING_REGION}-{STAGING_ACCOUNT_ID}"
STAGING_EXECUTION_ROLE_ARN = f"arn:aws:iam::{STAGING_ACCOUNT_ID}:role/SageMakerExecutionRole"
# The SageMaker XGBoost framework image AWS publishes in us-east-1.
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def trusting(account_id: str) -> dict[str, Any]:
    """A trust policy letting principals of ``account_id`` (with IAM rights to) assume a role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


@dataclass(frozen=True)
class StagingModel:
    name: str
    kind: ModelKind
    regularization: float


@dataclass(frozen=True)
class StagingVariant:
    name: str
    model: str
    weight: float


@dataclass(frozen=True)
class StagingEndpoint:
    """A staging copy of a production endpoint: same name, one ml.m5.large per variant."""

    name: str
    variants: tuple[StagingVariant, ...]
    history_rpm: float

    @property
    def config_name(self) -> str:
        return f"{self.name}-config"


STAGING_MODELS = (
    StagingModel("fraud-model-v2", "fraud", 0.05),
    StagingModel("fraud-model-v3", "fraud", 0.02),
    StagingModel("tumor-model-v2", "tumor", 0.1),
)
STAGING_ENDPOINTS = (
    # The next fraud model is tried against the current one in staging first.
    StagingEndpoint(
        "fraud-detection",
        (
            StagingVariant("xgb-c5", "fraud-model-v2", 1.0),
            StagingVariant("xgb-c5-next", "fraud-model-v3", 1.0),
        ),
        history_rpm=8.0,
    ),
    StagingEndpoint(
        "tumor-classifier", (StagingVariant("AllTraffic", "tumor-model-v2", 1.0),), history_rpm=4.0
    ),
)
STAGING_INSTANCE_TYPE = "ml.m5.large"


def _client(service: str, endpoint_url: str, credentials: dict[str, str]) -> BaseClient:
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=STAGING_REGION,
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
        **credentials,
    )


def seed_staging(*, endpoint_url: str) -> list[str]:
    """Create both accounts' roles and the staging world; returns staging's endpoint names."""
    moto_bridge.create_role(PRODUCTION_ACCOUNT_ID, PORTAL_ROLE, trusting(PRODUCTION_ACCOUNT_ID))
    moto_bridge.create_role(STAGING_ACCOUNT_ID, TERRAFORM_ROLE, trusting(PRODUCTION_ACCOUNT_ID))
    terraform = {"aws_access_key_id": TERRAFORM_KEY, "aws_secret_access_key": "testing"}
    issued = _client("sts", endpoint_url, terraform).assume_role(
        RoleArn=STAGING_TERRAFORM_ROLE_ARN, RoleSessionName=TERRAFORM_SESSION
    )["Credentials"]
    staging = {
        "aws_access_key_id": issued["AccessKeyId"],
        "aws_secret_access_key": issued["SecretAccessKey"],
        "aws_session_token": issued["SessionToken"],
    }
    iam = _client("iam", endpoint_url, staging)
    iam.create_role(
        RoleName=PORTAL_ROLE, AssumeRolePolicyDocument=json.dumps(trusting(PRODUCTION_ACCOUNT_ID))
    )
    s3 = _client("s3", endpoint_url, staging)
    sagemaker = _client("sagemaker", endpoint_url, staging)
    s3.create_bucket(Bucket=STAGING_BUCKET)
    for model in STAGING_MODELS:
        key = f"models/{model.name}/model.tar.gz"
        trained = train_model(model.kind, regularization=model.regularization)
        s3.put_object(Bucket=STAGING_BUCKET, Key=key, Body=artifact_bytes(trained))
        sagemaker.create_model(
            ModelName=model.name,
            PrimaryContainer={
                "Image": XGBOOST_IMAGE,
                "ModelDataUrl": f"s3://{STAGING_BUCKET}/{key}",
            },
            ExecutionRoleArn=STAGING_EXECUTION_ROLE_ARN,
        )
    for endpoint in STAGING_ENDPOINTS:
        sagemaker.create_endpoint_config(
            EndpointConfigName=endpoint.config_name,
            ProductionVariants=[
                {
                    "VariantName": variant.name,
                    "ModelName": variant.model,
                    "InstanceType": STAGING_INSTANCE_TYPE,
                    "InitialInstanceCount": 1,
                    "InitialVariantWeight": variant.weight,
                }
                for variant in endpoint.variants
            ],
        )
        sagemaker.create_endpoint(
            EndpointName=endpoint.name, EndpointConfigName=endpoint.config_name
        )
    return [endpoint.name for endpoint in STAGING_ENDPOINTS]


def backfill_staging_history(store: MetricStore, *, now: float) -> int:
    """BACKFILL: staging's last day of metrics (test traffic, a few requests a minute)."""
    models = {model.name: model for model in STAGING_MODELS}
    written = 0
    for endpoint in STAGING_ENDPOINTS:
        total_weight = sum(v.weight for v in endpoint.variants)
        for variant in endpoint.variants:
            spec = models[variant.model]
            trained = train_model(spec.kind, regularization=spec.regularization)
            history = VariantHistory(
                account_id=STAGING_ACCOUNT_ID,
                region=STAGING_REGION,
                endpoint=endpoint.name,
                variant=variant.name,
                instance_type=STAGING_INSTANCE_TYPE,
                instance_count=1,
                requests_per_minute=endpoint.history_rpm * variant.weight / total_weight,
                model_latency_us=measured_latency_us(trained, holdout_rows(spec.kind)[0]),
            )
            written += write_history(store, history, end=now)
    return written


@dataclass(frozen=True)
class _Principal:
    identity: Identity
    source_ip: str
    user_agent: str


# Staging's own principals, by the (temporary) keys they sign with: the same roles as in
# production, each in the staging account.
_STAGING_PRINCIPALS = {
    "ASIA7STGREGISTRYSYNC": _Principal(
        Identity(
            "AssumedRole",
            "model-registry-sync",
            "AROA7STGREGISTRYSYNC0:model-registry-sync",
            session_name="model-registry-sync",
            account_id=STAGING_ACCOUNT_ID,
        ),
        "198.51.100.61",
        LAMBDA_USER_AGENT,
    ),
    "ASIA7STGSCIENTIST000": _Principal(
        Identity(
            "AssumedRole",
            "AWSReservedSSO_DataScientist_7b2d41c0",
            "AROA7STGDATASCIENCE0:maria.garcia@example.com",
            session_name="maria.garcia@example.com",
            account_id=STAGING_ACCOUNT_ID,
            path="/aws-reserved/sso.amazonaws.com/",
        ),
        "203.0.113.42",
        "AWS Internal",
    ),
    "ASIA7STGMLLEAD000000": _Principal(
        Identity(
            "AssumedRole",
            "AWSReservedSSO_MLLead_4f1c2a9e",
            "AROA7STGMLLEADSSO000:priya.sharma@example.com",
            session_name="priya.sharma@example.com",
            account_id=STAGING_ACCOUNT_ID,
            path="/aws-reserved/sso.amazonaws.com/",
        ),
        "203.0.113.87",
        "AWS Internal",
    ),
    "ASIA7STGCIDEPLOYER00": _Principal(
        Identity(
            "AssumedRole",
            "ci-deployer",
            "AROA7STGCIDEPLOYER00:github-actions-1234",
            session_name="github-actions-1234",
            account_id=STAGING_ACCOUNT_ID,
        ),
        "198.51.100.23",
        GITHUB_ACTIONS_USER_AGENT,
    ),
    "AKIA7STGCONTRACTOR00": _Principal(
        Identity(
            "IAMUser", "dev.contractor", "AIDA7STGCONTRACTOR00", account_id=STAGING_ACCOUNT_ID
        ),
        "192.0.2.77",
        "Boto3/1.34.0 Python/3.11.4 Linux/5.15 Botocore/1.34.0",
    ),
}


def backfill_staging_api_history(store: EventStore, *, now: float) -> int:
    """BACKFILL: staging's week of everyday SageMaker reads (and a few refusals), by
    staging's own principals; returns the count."""
    world = RegionWorld(
        region=STAGING_REGION,
        endpoints=tuple(e.name for e in STAGING_ENDPOINTS),
        models=tuple(m.name for m in STAGING_MODELS),
    )
    keys = list(_STAGING_PRINCIPALS)
    calls = sorted(
        background_week(
            (world,),
            now=now,
            lambda_key=keys[0],
            scientist_key=keys[1],
            lead_key=keys[2],
            ci_key=keys[3],
            contractor_key=keys[4],
            seed=20261204,
        ),
        key=lambda past: -past.hours_ago,
    )
    for number, past in enumerate(calls):
        principal = _STAGING_PRINCIPALS[past.key]
        params = dict(past.params)
        call = Call(
            kind=CallKind(
                "sagemaker",
                EVENT_SOURCES["sagemaker"],
                past.operation,
                is_read_only(past.operation),
            ),
            time=now - past.hours_ago * 3600,
            region=past.region,
            account_id=STAGING_ACCOUNT_ID,
            access_key=past.key,
            identity=principal.identity,
            source_ip=principal.source_ip,
            user_agent=principal.user_agent,
            request_parameters=params,
            error_code=past.error[0] if past.error else None,
            # The refusals' messages name the account they happened in.
            error_message=(
                past.error[1].replace(PRODUCTION_ACCOUNT_ID, STAGING_ACCOUNT_ID)
                if past.error
                else None
            ),
            request_id=f"00000000-stag-4000-8000-{number:012d}",
        )
        resources = resources_named("sagemaker", params, past.region, STAGING_ACCOUNT_ID)
        store.record(call, resources, backfill=True)
    return len(calls)
