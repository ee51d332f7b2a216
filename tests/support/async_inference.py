"""Asynchronous endpoints for tests: one created in the sandbox as a team would (an endpoint
config with AsyncInferenceConfig), and its queue's per-minute metrics as SageMaker publishes
them (AWS/SageMaker, dimension EndpointName alone)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sandbox.metric_store import MetricDatum
from sandbox.seed import ACCOUNT_ID, EXECUTION_ROLE_ARN, image_uri
from sandbox.testing import aws_client, control, unique, wait_for_status

NAMESPACE = "AWS/SageMaker"
DEMO_MODEL = "tumor-model-v1"
OUTPUT_PATH = "s3://claims-async/output"
FAILURE_PATH = "s3://claims-async/failures"
SUCCESS_TOPIC = "arn:aws:sns:{region}:123456789012:claims-async-ok"
ERROR_TOPIC = "arn:aws:sns:{region}:123456789012:claims-async-failed"


def make_async_endpoint(url: str, region: str, *, prefix: str = "claims-async") -> str:
    """A new InService asynchronous endpoint (one variant, one instance); its name."""
    sagemaker = aws_client(url, "sagemaker", region)
    name = unique(prefix)
    # The demo world's trained model: an endpoint whose artifact cannot load fails to create.
    demo = aws_client(url, "sagemaker", "us-east-1").describe_model(ModelName=DEMO_MODEL)
    sagemaker.create_model(
        ModelName=name,
        PrimaryContainer={
            "Image": image_uri("sagemaker-scikit-learn", region),
            "ModelDataUrl": demo["PrimaryContainer"]["ModelDataUrl"],
        },
        ExecutionRoleArn=EXECUTION_ROLE_ARN,
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
        AsyncInferenceConfig={
            "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 4},
            "OutputConfig": {
                "S3OutputPath": OUTPUT_PATH,
                "S3FailurePath": FAILURE_PATH,
                "NotificationConfig": {
                    "SuccessTopic": SUCCESS_TOPIC.format(region=region),
                    "ErrorTopic": ERROR_TOPIC.format(region=region),
                },
            },
        },
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_for_status(url, region, name, "InService")
    return name


def feed_backlog(
    sandbox: Any,
    region: str,
    name: str,
    *,
    sizes: list[float],
    oldest_seconds: float,
    without_capacity: bool,
    instances: int = 1,
    now: datetime | None = None,
) -> None:
    """The queue's last minutes as SageMaker publishes them: `sizes` one per minute, the
    last one this minute; the oldest request's age and whether requests wait with no
    instance. PutMetricData refuses the AWS/ namespaces (as on AWS), so the minutes go
    straight into the sandbox's metric store, as its own history backfill does."""
    minute = int((now or datetime.now(UTC)).timestamp()) // 60 * 60
    dims = (("EndpointName", name),)
    for back, size in enumerate(reversed(sizes)):
        data = [
            MetricDatum("ApproximateBacklogSize", dims, [size]),
            MetricDatum("ApproximateBacklogSizePerInstance", dims, [size / max(instances, 1)]),
            MetricDatum("HasBacklogWithoutCapacity", dims, [1.0 if without_capacity else 0.0]),
        ]
        if back == 0:
            data.append(
                MetricDatum("ApproximateAgeOfOldestRequest", dims, [oldest_seconds], unit="Seconds")
            )
        sandbox.state.metrics.put_batch(ACCOUNT_ID, region, NAMESPACE, minute - 60 * back, data)


def queue_without_instances(url: str, region: str, name: str, *, requests: int) -> None:
    """Scale the endpoint to no instance (allowed for an asynchronous one), then send it
    `requests` real InvokeEndpointAsync calls, which wait in its queue; then have the
    sandbox publish the queue's current minute."""
    sagemaker = aws_client(url, "sagemaker", region)
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=name,
        DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 0}],
    )
    wait_for_status(url, region, name, "InService")
    s3 = aws_client(url, "s3", region)
    bucket = f"{name}-input"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_object(Bucket=bucket, Key="claims/1.csv", Body=b"1,2,3\n")
    runtime = aws_client(url, "sagemaker-runtime", region)
    for _ in range(requests):
        runtime.invoke_endpoint_async(
            EndpointName=name, InputLocation=f"s3://{bucket}/claims/1.csv", ContentType="text/csv"
        )
    control(url, "flush-metrics")
