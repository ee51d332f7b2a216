"""Pre-flight checks: each refusal is a clear message on the form, and nothing is created."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.errors import Invalid
from tests.aws_actor import sagemaker
from tests.transforms.conftest import BUCKET, form_data, tumor_launch
from transforms import services
from transforms.models import TransformJob, TransformStatus

pytestmark = pytest.mark.django_db(transaction=True)

M5_LARGE = (
    "Quota 'ml.m5.large for transform job usage' is 0 instances; 0 in use; this job needs 1. "
    "Request an increase in Service Quotas."
)


def _launch_errors(client, **changes) -> dict[str, list[str]]:
    response = client.post(reverse("transforms:launch"), form_data(tumor_launch(**changes)))
    assert response.status_code == 400
    assert not TransformJob.objects.exists()
    return {k or "": v for k, v in response.context["form"].errors.items()}


def test_quota_precheck_names_the_quota_usage_and_need(sandbox, role_client):
    client = role_client("Operator")
    errors = _launch_errors(client, instance_type="ml.m5.large")
    assert errors["instance_type"] == [M5_LARGE]
    page = client.post(
        reverse("transforms:launch"), form_data(tumor_launch(instance_type="ml.m5.large"))
    ).content.decode()
    assert "Quota &#x27;ml.m5.large for transform job usage&#x27; is 0 instances" in page


def test_quota_counts_running_and_pending_jobs(sandbox, set_quota, broker_down, operator):
    set_quota("ml.c5.xlarge for transform job usage", 1)
    first = services.transform_job_launch(
        launch=tumor_launch(instance_type="ml.c5.xlarge"), actor=operator
    )
    assert first.status == TransformStatus.PENDING  # broker down: not created yet
    with pytest.raises(Invalid) as rejected:
        services.transform_job_launch(
            launch=tumor_launch(instance_type="ml.c5.xlarge"), actor=operator
        )
    assert rejected.value.errors["instance_type"] == [
        "Quota 'ml.c5.xlarge for transform job usage' is 1 instances; 1 in use; this job "
        "needs 1. Request an increase in Service Quotas."
    ]


def test_resource_limit_exceeded_from_aws_is_shown_like_the_precheck(
    sandbox, set_quota, broker_down, role_client, operator
):
    set_quota("ml.c5.xlarge for transform job usage", 1)
    job = services.transform_job_launch(
        launch=tumor_launch(instance_type="ml.c5.xlarge"), actor=operator
    )
    # A colleague takes the last instance in the console before the create task runs.
    request = tumor_launch(instance_type="ml.c5.xlarge").spec
    sagemaker(sandbox.url).create_transform_job(
        TransformJobName=f"console-{job.name[-8:]}",
        ModelName=request.model_name,
        TransformInput={
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": request.input_uri}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": request.output_path + "-console"},
        TransformResources={"InstanceType": "ml.c5.xlarge", "InstanceCount": 1},
    )
    assert services.transform_job_create(job_id=str(job.pk)).startswith("failed")
    job.refresh_from_db()
    assert job.status == TransformStatus.FAILED
    assert job.failure_reason == (
        "Quota 'ml.c5.xlarge for transform job usage' is 1 instances; 1 in use; this job "
        "needs 1. Request an increase in Service Quotas."
    )
    page = role_client("Viewer").get(reverse("transforms:detail", args=[job.pk]))
    assert "is 1 instances; 1 in use; this job needs 1" in page.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("input_uri", "https://example.com/data.csv", "is not an S3 URI"),
        ("input_uri", "s3://Bad_Bucket/x.csv", "is not a valid S3 bucket name"),
        ("output_path", "/tmp/out", "is not an S3 URI"),
        ("input_uri", "s3://no-such-bucket-opsportal/x.csv", "does not exist in us-east-1"),
        ("input_uri", f"s3://{BUCKET}/batch/nothing-here/", "No object or prefix with objects"),
        ("output_path", "s3://no-such-bucket-opsportal/out", "does not exist in us-east-1"),
        ("model_name", "no-such-model", "Model 'no-such-model' does not exist in us-east-1"),
        ("input_filter", "$.id", "CSV records are arrays"),
        ("output_filter", "$..x", "recursive descent"),
        ("max_concurrent_transforms", 20, "× MaxPayloadInMB is 120"),
        ("instance_count", 0, "At least one instance"),
    ],
)
def test_bad_input_gets_a_clear_message(sandbox, role_client, field, value, message):
    errors = _launch_errors(role_client("Operator"), **{field: value})
    assert any(message in e for e in errors[field]), errors


def test_an_input_prefix_with_objects_is_accepted(sandbox):
    launch = tumor_launch(input_uri=f"s3://{BUCKET}/batch/tumor/input/")
    assert services.transform_job_preflight(launch=launch) == {}


def test_viewer_cannot_launch(sandbox, role_client):
    response = role_client("Viewer").post(reverse("transforms:launch"), form_data(tumor_launch()))
    assert response.status_code == 403
    assert not TransformJob.objects.exists()


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({f"V{i}": "x" for i in range(17)}, "At most 16 variables"),
        ({"MODE": "x" * 10_241}, "SageMaker allows 10240"),
        ({"1BAD": "x"}, "is not a variable name"),
    ],
)
def test_environments_sagemaker_refuses_are_refused_before_anything_is_created(
    environment, message, operator
):
    with pytest.raises(Invalid) as refused:
        services.transform_job_launch(launch=tumor_launch(environment=environment), actor=operator)
    assert any(message in m for m in refused.value.errors["environment"])
    assert not TransformJob.objects.exists()
