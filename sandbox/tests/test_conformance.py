"""Every operation the portal calls answers in AWS's shape, checked on the raw HTTP response.

The list of operations is derived from the portal's AWS gateway (``core/aws/*.py``, read as
text: the sandbox imports nothing of the portal): calls on boto3 clients and the operations
named to ``get_paginator``, mapped to operation names through botocore's service models. A
new call in the gateway fails ``test_every_gateway_operation_has_a_conformance_call`` until a
realistic call for it is added here.
"""

from __future__ import annotations

import ast
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from botocore.exceptions import ClientError

from sandbox.models import holdout_rows, rows_to_csv
from sandbox.seed import EXECUTION_ROLE_ARN, MONITORED_ENDPOINT, MONITORING_SCHEDULE, ensure_bucket
from sandbox.server import SandboxServer
from sandbox.testing import aws_client, control, live_endpoint, unique, wait_for_status
from tests.conformance import RawAnswer, RawAnswers, problems
from tests.world import upload_tumor_model

GATEWAY = Path(__file__).resolve().parents[2] / "core" / "aws"
REGION = "eu-west-2"  # the conformance calls' own endpoints, jobs and objects
DEMO_REGION = "us-east-1"


def gateway_operations() -> set[tuple[str, str]]:
    """(service, operation) for every AWS call in the gateway's modules.

    A module's services are the ``service="..."`` it builds clients with; its calls are the
    attribute calls and ``get_paginator("...")`` names that are operations of those services.
    """
    session = botocore.session.get_session()
    found: set[tuple[str, str]] = set()
    for module in sorted(GATEWAY.glob("*.py")):
        tree = ast.parse(module.read_text(), filename=str(module))
        services: set[str] = set()
        called: set[str] = set()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg == "service" and isinstance(keyword.value, ast.Constant):
                    services.add(str(keyword.value.value))
            if isinstance(node.func, ast.Attribute):
                called.add(node.func.attr)
                if node.func.attr == "get_paginator" and node.args:
                    first = node.args[0]
                    if isinstance(first, ast.Constant):
                        called.add(str(first.value))
        for service in services:
            for operation in session.get_service_model(service).operation_names:
                if xform_name(operation) in called:
                    found.add((service, operation))
    return found


@dataclass
class World:
    """What the calls act on: the demo world, plus an endpoint and a bucket of their own."""

    url: str
    model: str
    endpoint: str
    bucket: str
    answers: RawAnswers

    def client(self, service: str, region: str = REGION) -> Any:
        return self.answers.attach(aws_client(self.url, service, region))


@pytest.fixture(scope="module")
def world(running_sandbox: SandboxServer) -> Iterator[World]:
    url = running_sandbox.url
    model = upload_tumor_model(url, REGION)
    endpoint = live_endpoint(url, model, region=REGION)
    bucket = ensure_bucket(aws_client(url, "s3", REGION), REGION)
    status, _ = control(
        url,
        "quotas",
        body={"quota": "ml.m5.xlarge for transform job usage", "value": 20, "region": REGION},
    )
    assert status == 200
    yield World(url=url, model=model, endpoint=endpoint, bucket=bucket, answers=RawAnswers())


Call = Callable[[World], str]
CALLS: dict[tuple[str, str], Call] = {}


def calls(service: str, operation: str) -> Callable[[Call], Call]:
    def register(function: Call) -> Call:
        CALLS[(service, operation)] = function
        return function

    return register


def _demo(world: World, service: str) -> Any:
    return world.client(service, DEMO_REGION)


def _config_name(world: World, endpoint: str, region: str = DEMO_REGION) -> str:
    described = aws_client(world.url, "sagemaker", region).describe_endpoint(EndpointName=endpoint)
    return str(described["EndpointConfigName"])


# SageMaker control plane.


@calls("sagemaker", "ListEndpoints")
def _list_endpoints(world: World) -> str:
    _demo(world, "sagemaker").list_endpoints(MaxResults=100)
    return "ListEndpoints"


@calls("sagemaker", "DescribeEndpoint")
def _describe_endpoint(world: World) -> str:
    _demo(world, "sagemaker").describe_endpoint(EndpointName="tumor-classifier")
    return "DescribeEndpoint"


@calls("sagemaker", "DescribeEndpointConfig")
def _describe_endpoint_config(world: World) -> str:
    """A config without data capture: AWS leaves DataCaptureConfig out."""
    name = _config_name(world, "fraud-detection")
    _demo(world, "sagemaker").describe_endpoint_config(EndpointConfigName=name)
    return "DescribeEndpointConfig"


@calls("sagemaker", "DescribeModel")
def _describe_model(world: World) -> str:
    _demo(world, "sagemaker").describe_model(ModelName=world_model_name(world))
    return "DescribeModel"


def world_model_name(world: World) -> str:
    config = aws_client(world.url, "sagemaker", DEMO_REGION).describe_endpoint_config(
        EndpointConfigName=_config_name(world, "fraud-detection")
    )
    return str(config["ProductionVariants"][0]["ModelName"])


@calls("sagemaker", "ListModels")
def _list_models(world: World) -> str:
    _demo(world, "sagemaker").list_models(MaxResults=100)
    return "ListModels"


@calls("sagemaker", "ListTags")
def _list_tags(world: World) -> str:
    arn = aws_client(world.url, "sagemaker", DEMO_REGION).describe_endpoint(
        EndpointName="tumor-classifier"
    )["EndpointArn"]
    _demo(world, "sagemaker").list_tags(ResourceArn=arn, MaxResults=100)
    return "ListTags"


def _inference_component(world: World) -> str:
    """An InService component on an endpoint of its own whose variant names no model."""
    sagemaker = aws_client(world.url, "sagemaker", REGION)
    host = unique("conformance-ic-host")
    sagemaker.create_endpoint_config(
        EndpointConfigName=host,
        ExecutionRoleArn=EXECUTION_ROLE_ARN,
        ProductionVariants=[
            {"VariantName": "AllTraffic", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
        ],
    )
    sagemaker.create_endpoint(EndpointName=host, EndpointConfigName=host)
    wait_for_status(world.url, REGION, host, "InService")
    name = unique("conformance-ic")
    sagemaker.create_inference_component(
        InferenceComponentName=name,
        EndpointName=host,
        VariantName="AllTraffic",
        Specification={
            "ModelName": world.model,
            "ComputeResourceRequirements": {
                "NumberOfCpuCoresRequired": 1,
                "MinMemoryRequiredInMb": 1024,
            },
        },
        RuntimeConfig={"CopyCount": 1},
    )
    deadline = time.monotonic() + 15
    while (
        sagemaker.describe_inference_component(InferenceComponentName=name)[
            "InferenceComponentStatus"
        ]
        == "Creating"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return name


@calls("sagemaker", "DescribeInferenceComponent")
def _describe_inference_component(world: World) -> str:
    name = _inference_component(world)
    world.client("sagemaker").describe_inference_component(InferenceComponentName=name)
    return "DescribeInferenceComponent"


@calls("sagemaker", "ListInferenceComponents")
def _list_inference_components(world: World) -> str:
    name = _inference_component(world)
    endpoint = aws_client(world.url, "sagemaker", REGION).describe_inference_component(
        InferenceComponentName=name
    )["EndpointName"]
    world.client("sagemaker").list_inference_components(EndpointNameEquals=endpoint)
    return "ListInferenceComponents"


def _new_config(world: World, weights: tuple[float, float] = (1.0, 1.0)) -> str:
    name = unique("conformance-config")
    world.client("sagemaker").create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": f"v{index}",
                "ModelName": world.model,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
                "InitialVariantWeight": weight,
            }
            for index, weight in enumerate(weights)
        ],
        ExecutionRoleArn=EXECUTION_ROLE_ARN,
        EnableNetworkIsolation=True,
    )
    return name


@calls("sagemaker", "CreateEndpointConfig")
def _create_endpoint_config(world: World) -> str:
    _new_config(world)
    return "CreateEndpointConfig"


@calls("sagemaker", "UpdateEndpoint")
def _update_endpoint(world: World) -> str:
    wait_for_status(world.url, REGION, world.endpoint, "InService")
    world.client("sagemaker").update_endpoint(
        EndpointName=world.endpoint, EndpointConfigName=_new_config(world, (3.0, 1.0))
    )
    wait_for_status(world.url, REGION, world.endpoint, "InService")
    return "UpdateEndpoint"


@calls("sagemaker", "UpdateEndpointWeightsAndCapacities")
def _update_weights(world: World) -> str:
    wait_for_status(world.url, REGION, world.endpoint, "InService")
    world.client("sagemaker").update_endpoint_weights_and_capacities(
        EndpointName=world.endpoint,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v0", "DesiredWeight": 1.0, "DesiredInstanceCount": 1},
            {"VariantName": "v1", "DesiredWeight": 1.0, "DesiredInstanceCount": 1},
        ],
    )
    wait_for_status(world.url, REGION, world.endpoint, "InService")
    return "UpdateEndpointWeightsAndCapacities"


def _transform_job(world: World) -> str:
    s3 = aws_client(world.url, "s3", REGION)
    root = unique("conformance-batch")
    s3.put_object(
        Bucket=world.bucket,
        Key=f"{root}/in/tumor.csv",
        Body=rows_to_csv(holdout_rows("tumor")[:20]).encode(),
    )
    name = unique("conformance-job")
    world.client("sagemaker").create_transform_job(
        TransformJobName=name,
        ModelName=world.model,
        TransformInput={
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"s3://{world.bucket}/{root}/in/",
                }
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={
            "S3OutputPath": f"s3://{world.bucket}/{root}/out/",
            "AssembleWith": "Line",
        },
        TransformResources={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
    )
    return name


@calls("sagemaker", "CreateTransformJob")
def _create_transform_job(world: World) -> str:
    _transform_job(world)
    return "CreateTransformJob"


@calls("sagemaker", "DescribeTransformJob")
def _describe_transform_job(world: World) -> str:
    name = _transform_job(world)
    sagemaker = world.client("sagemaker")
    deadline = time.monotonic() + 20
    while sagemaker.describe_transform_job(TransformJobName=name)["TransformJobStatus"] in (
        "InProgress",
        "Stopping",
    ):
        assert time.monotonic() < deadline, f"{name} never finished"
        time.sleep(0.1)
    return "DescribeTransformJob"


@calls("sagemaker", "StopTransformJob")
def _stop_transform_job(world: World) -> str:
    world.client("sagemaker").stop_transform_job(TransformJobName=_transform_job(world))
    return "StopTransformJob"


@calls("sagemaker", "ListTransformJobs")
def _list_transform_jobs(world: World) -> str:
    _demo(world, "sagemaker").list_transform_jobs(MaxResults=100)
    return "ListTransformJobs"


@calls("sagemaker", "ListMonitoringSchedules")
def _list_monitoring_schedules(world: World) -> str:
    _demo(world, "sagemaker").list_monitoring_schedules(MaxResults=100)
    return "ListMonitoringSchedules"


@calls("sagemaker", "DescribeMonitoringSchedule")
def _describe_monitoring_schedule(world: World) -> str:
    _demo(world, "sagemaker").describe_monitoring_schedule(
        MonitoringScheduleName=MONITORING_SCHEDULE
    )
    return "DescribeMonitoringSchedule"


@calls("sagemaker", "ListMonitoringExecutions")
def _list_monitoring_executions(world: World) -> str:
    _demo(world, "sagemaker").list_monitoring_executions(
        MonitoringScheduleName=MONITORING_SCHEDULE, EndpointName=MONITORED_ENDPOINT, MaxResults=10
    )
    return "ListMonitoringExecutions"


@calls("sagemaker", "DescribeProcessingJob")
def _describe_processing_job(world: World) -> str:
    executions = aws_client(world.url, "sagemaker", DEMO_REGION).list_monitoring_executions(
        MonitoringScheduleName=MONITORING_SCHEDULE, StatusEquals="CompletedWithViolations"
    )["MonitoringExecutionSummaries"]
    arn = executions[0]["ProcessingJobArn"]
    _demo(world, "sagemaker").describe_processing_job(ProcessingJobName=arn.rsplit("/", 1)[-1])
    return "DescribeProcessingJob"


# SageMaker Runtime.


def _csv_row() -> bytes:
    return rows_to_csv(holdout_rows("tumor")[:1]).encode()


@calls("sagemaker-runtime", "InvokeEndpoint")
def _invoke(world: World) -> str:
    wait_for_status(world.url, REGION, world.endpoint, "InService")
    world.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=world.endpoint, ContentType="text/csv", Body=_csv_row()
    )
    return "InvokeEndpoint"


@calls("sagemaker-runtime", "InvokeEndpointWithResponseStream")
def _invoke_stream(world: World) -> str:
    wait_for_status(world.url, REGION, world.endpoint, "InService")
    answer = world.client("sagemaker-runtime").invoke_endpoint_with_response_stream(
        EndpointName=world.endpoint, ContentType="text/csv", Body=_csv_row()
    )
    assert list(answer["Body"])
    return "InvokeEndpointWithResponseStream"


# Application Auto Scaling, on the world's own endpoint.


def _resource(world: World) -> str:
    return f"endpoint/{world.endpoint}/variant/v0"


_DIMENSION = "sagemaker:variant:DesiredInstanceCount"


def _register(world: World) -> None:
    world.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=_resource(world),
        ScalableDimension=_DIMENSION,
        MinCapacity=1,
        MaxCapacity=2,
    )


def _put_policy(world: World) -> str:
    _register(world)
    name = unique("conformance-policy")
    world.client("application-autoscaling").put_scaling_policy(
        PolicyName=name,
        ServiceNamespace="sagemaker",
        ResourceId=_resource(world),
        ScalableDimension=_DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 100.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 60,
        },
    )
    return name


@calls("application-autoscaling", "RegisterScalableTarget")
def _register_scalable_target(world: World) -> str:
    _register(world)
    return "RegisterScalableTarget"


@calls("application-autoscaling", "PutScalingPolicy")
def _put_scaling_policy(world: World) -> str:
    _put_policy(world)
    return "PutScalingPolicy"


@calls("application-autoscaling", "DescribeScalableTargets")
def _describe_scalable_targets(world: World) -> str:
    _demo(world, "application-autoscaling").describe_scalable_targets(ServiceNamespace="sagemaker")
    return "DescribeScalableTargets"


@calls("application-autoscaling", "DescribeScalingPolicies")
def _describe_scaling_policies(world: World) -> str:
    _demo(world, "application-autoscaling").describe_scaling_policies(ServiceNamespace="sagemaker")
    return "DescribeScalingPolicies"


@calls("application-autoscaling", "DescribeScalingActivities")
def _describe_scaling_activities(world: World) -> str:
    _demo(world, "application-autoscaling").describe_scaling_activities(
        ServiceNamespace="sagemaker"
    )
    return "DescribeScalingActivities"


@calls("application-autoscaling", "DeleteScalingPolicy")
def _delete_scaling_policy(world: World) -> str:
    name = _put_policy(world)
    world.client("application-autoscaling").delete_scaling_policy(
        PolicyName=name,
        ServiceNamespace="sagemaker",
        ResourceId=_resource(world),
        ScalableDimension=_DIMENSION,
    )
    return "DeleteScalingPolicy"


@calls("application-autoscaling", "DeregisterScalableTarget")
def _deregister_scalable_target(world: World) -> str:
    _register(world)
    world.client("application-autoscaling").deregister_scalable_target(
        ServiceNamespace="sagemaker", ResourceId=_resource(world), ScalableDimension=_DIMENSION
    )
    return "DeregisterScalableTarget"


# CloudWatch, CloudWatch Logs, CloudTrail.


@calls("cloudwatch", "DescribeAlarms")
def _describe_alarms(world: World) -> str:
    _demo(world, "cloudwatch").describe_alarms(MaxRecords=100)
    return "DescribeAlarms"


@calls("cloudwatch", "DescribeAlarmHistory")
def _describe_alarm_history(world: World) -> str:
    _demo(world, "cloudwatch").describe_alarm_history(MaxRecords=100)
    return "DescribeAlarmHistory"


@calls("cloudwatch", "GetMetricData")
def _get_metric_data(world: World) -> str:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    _demo(world, "cloudwatch").get_metric_data(
        MetricDataQueries=[
            {
                "Id": "invocations",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/SageMaker",
                        "MetricName": "Invocations",
                        "Dimensions": [
                            {"Name": "EndpointName", "Value": "tumor-classifier"},
                            {"Name": "VariantName", "Value": "A"},
                        ],
                    },
                    "Period": 300,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=now - timedelta(hours=3),
        EndTime=now,
    )
    return "GetMetricData"


@calls("logs", "FilterLogEvents")
def _filter_log_events(world: World) -> str:
    wait_for_status(world.url, REGION, world.endpoint, "InService")
    world.client("logs").filter_log_events(
        logGroupName="/aws/sagemaker/Endpoints/" + world.endpoint, limit=50
    )
    return "FilterLogEvents"


@calls("cloudtrail", "LookupEvents")
def _lookup_events(world: World) -> str:
    _demo(world, "cloudtrail").lookup_events(
        LookupAttributes=[
            {"AttributeKey": "EventSource", "AttributeValue": "sagemaker.amazonaws.com"}
        ],
        MaxResults=50,
    )
    return "LookupEvents"


# S3, Service Quotas, STS.


@calls("s3", "PutObject")
def _put_object(world: World) -> str:
    world.client("s3").put_object(
        Bucket=world.bucket, Key=unique("conformance/object"), Body=b'{"a": 1}'
    )
    return "PutObject"


@calls("s3", "GetObject")
def _get_object(world: World) -> str:
    key = unique("conformance/object")
    aws_client(world.url, "s3", REGION).put_object(Bucket=world.bucket, Key=key, Body=b"{}")
    world.client("s3").get_object(Bucket=world.bucket, Key=key, Range="bytes=0-1")["Body"].read()
    return "GetObject"


@calls("s3", "ListObjectsV2")
def _list_objects(world: World) -> str:
    aws_client(world.url, "s3", REGION).put_object(
        Bucket=world.bucket, Key=unique("conformance/listed"), Body=b"x"
    )
    world.client("s3").list_objects_v2(Bucket=world.bucket, Prefix="conformance/")
    return "ListObjectsV2"


@calls("service-quotas", "ListServiceQuotas")
def _list_service_quotas(world: World) -> str:
    _demo(world, "service-quotas").list_service_quotas(ServiceCode="sagemaker", MaxResults=100)
    return "ListServiceQuotas"


@calls("sts", "GetCallerIdentity")
def _get_caller_identity(world: World) -> str:
    world.client("sts").get_caller_identity()
    return "GetCallerIdentity"


def test_every_gateway_operation_has_a_conformance_call() -> None:
    derived = gateway_operations()
    assert ("sagemaker", "DescribeEndpoint") in derived  # the derivation still finds calls
    assert sorted(derived - set(CALLS)) == []


@pytest.mark.parametrize(
    ("service", "operation"), sorted(CALLS), ids=[f"{s}:{o}" for s, o in sorted(CALLS)]
)
def test_operation_answers_in_aws_shape(world: World, service: str, operation: str) -> None:
    called = CALLS[(service, operation)](world)
    answer = world.answers.last(called)
    assert answer.operation.service_model.service_name == service
    assert problems(answer) == []


@pytest.mark.parametrize("region", [DEMO_REGION, "eu-west-1"])
def test_every_demo_endpoint_config_and_model_describes_in_aws_shape(
    world: World, region: str
) -> None:
    """Serverless, captured, autoscaled and Failed endpoints: each shape the demo holds."""
    sagemaker = world.client("sagemaker", region)
    found: dict[str, list[str]] = {}
    for summary in sagemaker.list_endpoints(MaxResults=100)["Endpoints"]:
        name = summary["EndpointName"]
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
        found[name] = problems(world.answers.last("DescribeEndpoint"))
        config = sagemaker.describe_endpoint_config(
            EndpointConfigName=endpoint["EndpointConfigName"]
        )
        found[f"{name} config"] = problems(world.answers.last("DescribeEndpointConfig"))
        for variant in config["ProductionVariants"]:
            if "ModelName" not in variant:  # a host of inference components
                continue
            sagemaker.describe_model(ModelName=variant["ModelName"])
            found[variant["ModelName"]] = problems(world.answers.last("DescribeModel"))
    assert len(found) >= 6
    assert {name: shown for name, shown in found.items() if shown} == {}


# Specific shapes AWS leaves out or keeps, beyond what the model alone says.


def _describe_config(world: World, name: str) -> tuple[dict[str, Any], RawAnswer]:
    sagemaker = world.client("sagemaker")
    sagemaker.describe_endpoint_config(EndpointConfigName=name)
    answer = world.answers.last("DescribeEndpointConfig")
    assert answer.body is not None
    return json.loads(answer.body), answer


def test_endpoint_config_keeps_execution_role_and_network_isolation(world: World) -> None:
    document, answer = _describe_config(world, _new_config(world))
    assert document["ExecutionRoleArn"] == EXECUTION_ROLE_ARN
    assert document["EnableNetworkIsolation"] is True
    assert "DataCaptureConfig" not in document
    assert problems(answer) == []


def test_model_with_a_primary_container_has_no_containers_list(world: World) -> None:
    world.client("sagemaker").describe_model(ModelName=world.model)
    answer = world.answers.last("DescribeModel")
    assert answer.body is not None
    document = json.loads(answer.body)
    assert document["PrimaryContainer"]["ModelDataUrl"].startswith("s3://")
    assert "Containers" not in document
    assert "VpcConfig" not in document
    assert problems(answer) == []


def test_s3_request_id_is_what_botocore_reports(world: World) -> None:
    answer = world.client("s3").list_objects_v2(Bucket=world.bucket, MaxKeys=1)
    request_id = answer["ResponseMetadata"]["RequestId"]
    assert request_id
    assert world.answers.last("ListObjectsV2").headers["x-amz-request-id"] == request_id


def test_an_operation_sagemaker_lacks_answers_as_aws_does(world: World) -> None:
    """AWS's JSON front end answers an X-Amz-Target it does not route with HTTP 400 and
    ``__type`` com.amazon.coral.service#UnknownOperationException; botocore reports the code
    after the ``#`` and does not retry it."""
    sagemaker = world.client("sagemaker")
    with pytest.raises(ClientError) as raised:
        sagemaker.describe_hub(HubName="no-such-hub")
    assert raised.value.response["Error"]["Code"] == "UnknownOperationException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    answer = world.answers.last("DescribeHub")
    assert answer.body is not None
    assert json.loads(answer.body)["__type"] == "com.amazon.coral.service#UnknownOperationException"
    assert answer.headers["content-type"] == "application/x-amz-json-1.1"
    assert answer.headers["x-amzn-requestid"]
