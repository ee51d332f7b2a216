"""The demo world's inference-component endpoint: two models sharing one fleet.

The risk team serves its fraud and churn scorers from ``shared-scoring`` in us-east-1: one
variant, AllTraffic, of two ml.m5.xlarge instances (8 cores, 32 GB between them) with no
model of its own, and an ExecutionRoleArn on the endpoint config, as AWS requires for an
endpoint that hosts inference components. On it:

- ``fraud-scorer`` (fraud-model-v1; 1 core and 2048 MB a copy; 2 copies), whose copy count
  Application Auto Scaling tracks on InvocationsPerCopy between 1 and 4 copies;
- ``churn-scorer`` (churn-model; 1 core and 1024 MB a copy; 1 copy).

Callers name the component in InvokeEndpoint (InferenceComponentName). The models are the
ones the rest of the demo world's us-east-1 endpoints already serve.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from sandbox.backfill import CLIENT_ERROR_RATE, HISTORY_MINUTES, measured_latency_us
from sandbox.component_metrics import COMPONENT_NAMESPACE, component_utilization
from sandbox.component_metrics import utilization_data as component_utilization_data
from sandbox.endpoint_metrics import MICROSECONDS, SAGEMAKER_NAMESPACE
from sandbox.identities import ACCOUNT_ID
from sandbox.metric_store import MINUTE, MetricDatum, MetricStore
from sandbox.models import ModelKind, holdout_rows, train_model
from sandbox.traffic import DAILY_SWING, PEAK_HOUR_UTC

COMPONENTS_REGION = "us-east-1"
COMPONENTS_ENDPOINT = "shared-scoring"
COMPONENTS_VARIANT = "AllTraffic"
INSTANCE_TYPE = "ml.m5.xlarge"
INSTANCE_COUNT = 2
COPY_COUNT_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    model: str
    kind: ModelKind
    cores: float
    memory_mb: int
    copies: int
    history_rpm: float


FRAUD_SCORER = ComponentSpec("fraud-scorer", "fraud-model-v1", "fraud", 1.0, 2048, 2, 60.0)
CHURN_SCORER = ComponentSpec("churn-scorer", "churn-model", "churn", 1.0, 1024, 1, 20.0)
DEMO_COMPONENTS = (FRAUD_SCORER, CHURN_SCORER)
# fraud-scorer's copy-count scaling: InvocationsPerCopy (a minute's Sum) around this target.
SCALING_MIN, SCALING_MAX, TARGET_INVOCATIONS_PER_COPY = 1, 4, 50.0


def seed_components(*, endpoint_url: str) -> list[str]:
    """Create the endpoint, its components and fraud-scorer's auto scaling; returns the
    endpoint's name (it and the components are still Creating when this returns)."""
    # seed.py calls this module, so its helpers are imported when the seed runs.
    from sandbox.seed import EXECUTION_ROLE_ARN, client

    region = COMPONENTS_REGION
    sagemaker = client("sagemaker", endpoint_url=endpoint_url, region=region)
    autoscaling = client("application-autoscaling", endpoint_url=endpoint_url, region=region)
    config = f"{COMPONENTS_ENDPOINT}-config"
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ExecutionRoleArn=EXECUTION_ROLE_ARN,
        ProductionVariants=[
            {
                "VariantName": COMPONENTS_VARIANT,
                "InstanceType": INSTANCE_TYPE,
                "InitialInstanceCount": INSTANCE_COUNT,
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=COMPONENTS_ENDPOINT, EndpointConfigName=config)
    for spec in DEMO_COMPONENTS:
        sagemaker.create_inference_component(
            InferenceComponentName=spec.name,
            EndpointName=COMPONENTS_ENDPOINT,
            VariantName=COMPONENTS_VARIANT,
            Specification={
                "ModelName": spec.model,
                "ComputeResourceRequirements": {
                    "NumberOfCpuCoresRequired": spec.cores,
                    "MinMemoryRequiredInMb": spec.memory_mb,
                },
            },
            RuntimeConfig={"CopyCount": spec.copies},
        )
    resource_id = f"inference-component/{FRAUD_SCORER.name}"
    autoscaling.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=resource_id,
        ScalableDimension=COPY_COUNT_DIMENSION,
        MinCapacity=SCALING_MIN,
        MaxCapacity=SCALING_MAX,
    )
    autoscaling.put_scaling_policy(
        PolicyName=f"{FRAUD_SCORER.name}-invocations-per-copy",
        ServiceNamespace="sagemaker",
        ResourceId=resource_id,
        ScalableDimension=COPY_COUNT_DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": TARGET_INVOCATIONS_PER_COPY,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerInferenceComponentInvocationsPerCopy"
            },
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 60,
        },
    )
    return [COMPONENTS_ENDPOINT]


def backfill_component_history(store: MetricStore, *, now: float) -> int:
    """BACKFILL: each component's last day of metrics, as AWS publishes them for components
    (AWS/SageMaker under InferenceComponentName, utilization in /aws/sagemaker/
    InferenceComponents), at the seeded copy counts; returns the minutes written."""
    written = 0
    last = int(now // MINUTE) * MINUTE - MINUTE
    starts = [last - MINUTE * i for i in range(HISTORY_MINUTES - 1, -1, -1)]
    for spec in DEMO_COMPONENTS:
        rng = np.random.default_rng(zlib.crc32(spec.name.encode()))
        median_us = measured_latency_us(train_model(spec.kind), holdout_rows(spec.kind)[0])
        dimensions = (("InferenceComponentName", spec.name),)
        for minute in starts:
            hour = (minute % 86400) / 3600.0
            shape = 1.0 + DAILY_SWING * np.cos(2 * np.pi * (hour - PEAK_HOUR_UTC) / 24.0)
            requests = int(rng.poisson(spec.history_rpm * shape))
            latencies = median_us * np.exp(0.35 * rng.normal(0.0, 1.0, 5))
            model_seconds = requests * float(np.mean(latencies)) / 1e6
            cpu, memory = component_utilization(
                copies=spec.copies,
                cores=spec.cores,
                invocations=requests,
                model_seconds=model_seconds,
                noise=float(rng.normal(0.0, 0.2)),
            )
            store.put_batch(
                ACCOUNT_ID,
                COMPONENTS_REGION,
                COMPONENT_NAMESPACE,
                minute,
                component_utilization_data(spec.name, cpu, memory),
            )
            if requests:
                errors = int(rng.binomial(requests, CLIENT_ERROR_RATE))
                share = float(requests) / 5
                data = [
                    MetricDatum("Invocations", dimensions, [1.0], [float(requests)]),
                    MetricDatum(
                        "InvocationsPerCopy", dimensions, [1.0 / spec.copies], [float(requests)]
                    ),
                    MetricDatum(
                        "Invocation4XXErrors",
                        dimensions,
                        [v for v, n in ((0.0, requests - errors), (1.0, errors)) if n],
                        [float(n) for n in (requests - errors, errors) if n],
                    ),
                    MetricDatum("Invocation5XXErrors", dimensions, [0.0], [float(requests)]),
                    MetricDatum(
                        "ModelLatency",
                        dimensions,
                        [round(float(v)) for v in latencies],
                        [share] * 5,
                        MICROSECONDS,
                    ),
                ]
                store.put_batch(ACCOUNT_ID, COMPONENTS_REGION, SAGEMAKER_NAMESPACE, minute, data)
            written += 1
    return written
