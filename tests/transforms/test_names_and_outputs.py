"""A job's name and where its output goes: launchers may name a job (SageMaker's
TransformJobName rules, unused in the portal and in AWS), a copy gets a fresh name and an
output prefix of its own, the pre-flight warns before writing into a prefix that already
holds objects, and the job page shows the job's ARN."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from django.urls import reverse

from audit.models import AuditEntry
from core.aws.clients import call_counts, reset_call_counts
from tests.aws_actor import sagemaker
from tests.transforms.conftest import BUCKET, form_data, poll_until_terminal, tumor_launch
from transforms import services
from transforms.forms import copied_output_path
from transforms.models import TransformJob, TransformStatus, job_name_problem

pytestmark = pytest.mark.django_db(transaction=True)


def s3(url: str) -> Any:
    """A colleague's S3 client on the sandbox."""
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def fresh_output() -> str:
    return f"s3://{BUCKET}/batch/tumor/output/names-{uuid.uuid4().hex[:8]}"


def _post(client, launch, **extra: object):
    return client.post(reverse("transforms:launch"), {**form_data(launch), **extra})


@pytest.mark.parametrize(
    ("output", "name", "expected"),
    [
        ("s3://b/batch/out/job-a", "job-b", "s3://b/batch/out/job-b"),
        ("s3://b/batch/out/job-a/", "job-b", "s3://b/batch/out/job-b"),
        ("s3://b/out", "job-b", "s3://b/job-b"),
        ("s3://b", "job-b", "s3://b/job-b"),
        ("s3://b/", "job-b", "s3://b/job-b"),
    ],
)
def test_a_copys_output_is_the_parent_prefix_and_its_own_name(output, name, expected):
    assert copied_output_path(output, name) == expected


@pytest.mark.parametrize(
    ("name", "accepted"),
    [
        ("tumor-nightly-2026-12-04", True),
        ("a", True),
        ("a--b", True),
        ("A" * 63, True),
        ("A" * 64, False),
        ("-tumor", False),
        ("tumor-", False),
        ("tumor_nightly", False),
        ("tumor nightly", False),
        ("tümor", False),
    ],
)
def test_job_names_follow_sagemakers_rules(name, accepted):
    assert (job_name_problem(name) is None) is accepted


def test_copy_gets_a_fresh_name_and_output_prefix_and_launches_without_a_warning(
    sandbox, role_client, operator
):
    original = services.transform_job_launch(
        launch=tumor_launch(output_path=fresh_output()), actor=operator
    )
    assert poll_until_terminal(original).status == TransformStatus.COMPLETED
    client = role_client("Operator")

    form = client.get(reverse("transforms:launch"), {"copy": str(original.pk)}).context["form"]

    name = form["name"].value()
    assert name.startswith("opsportal-") and name != original.name
    parent = original.output_path.rsplit("/", 1)[0]
    assert form["output_path"].value() == f"{parent}/{name}"
    data = {key: form[key].value() for key in form.fields if form[key].value() is not None}
    response = client.post(reverse("transforms:launch"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    copy = TransformJob.objects.get(name=name)
    assert copy.output_path == f"{parent}/{name}" != original.output_path
    assert poll_until_terminal(copy).status == TransformStatus.COMPLETED
    keys = [
        o["Key"]
        for o in s3(sandbox.url).list_objects_v2(Bucket=BUCKET, Prefix="batch/tumor/output/")[
            "Contents"
        ]
    ]
    original_key = original.output_path.split(f"{BUCKET}/", 1)[1]
    assert any(k.startswith(f"{original_key}/") for k in keys)
    assert any(k.startswith(f"batch/tumor/output/{name}/") for k in keys)


def test_an_output_prefix_holding_objects_is_warned_about_until_confirmed(sandbox, role_client):
    output = fresh_output()
    key = output.split(f"{BUCKET}/", 1)[1]
    s3(sandbox.url).put_object(Bucket=BUCKET, Key=f"{key}/tumor-batch.csv.out", Body=b"1001,1\n")
    client = role_client("Operator")

    reset_call_counts()
    warned = _post(client, tumor_launch(output_path=output))

    assert warned.status_code == 400
    body = warned.content.decode()
    assert 'data-testid="overwrite-output"' in body
    assert f"s3://{BUCKET}/{key}/ already holds objects" in body
    # The input's bucket and prefix, and one call for the output's bucket and prefix.
    assert call_counts()[("s3", "ListObjectsV2")] == 3
    assert not TransformJob.objects.exists()

    confirmed = _post(client, tumor_launch(output_path=output), overwrite_output="on")

    assert confirmed.status_code == 302, confirmed.content.decode()[:3000]
    job = TransformJob.objects.get()
    entry = AuditEntry.objects.get(action="transform.launch", target__contains=job.name)
    assert entry.after["overwrite_output"] is True


def test_a_prefix_that_only_begins_like_the_output_is_not_warned_about(sandbox):
    output = fresh_output()
    key = output.split(f"{BUCKET}/", 1)[1]
    s3(sandbox.url).put_object(Bucket=BUCKET, Key=f"{key}-older/tumor-batch.csv.out", Body=b"x")
    assert services.transform_job_preflight(launch=tumor_launch(output_path=output)) == {}


def test_a_named_job_runs_under_its_name(sandbox, role_client):
    name = f"tumor-nightly-{uuid.uuid4().hex[:8]}"
    client = role_client("Operator")

    response = _post(client, tumor_launch(output_path=fresh_output()), name=name)

    assert response.status_code == 302, response.content.decode()[:3000]
    job = TransformJob.objects.get()
    assert job.name == name
    described = sagemaker(sandbox.url).describe_transform_job(TransformJobName=name)
    assert described["TransformJobArn"].endswith(f"transform-job/{name}")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("-tumor", "is not a TransformJobName"),
        ("tumor_nightly", "letters, digits and hyphens"),
        ("x" * 64, "at most 63 characters"),
    ],
)
def test_a_bad_name_is_explained_on_the_form(sandbox, role_client, name, message):
    response = _post(role_client("Operator"), tumor_launch(), name=name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TransformJob.objects.exists()


def test_a_name_already_used_in_the_portal_or_in_aws_is_refused(sandbox, role_client, operator):
    taken = services.transform_job_launch(
        launch=tumor_launch(output_path=fresh_output()), actor=operator
    )
    client = role_client("Operator")
    again = _post(client, tumor_launch(output_path=fresh_output()), name=taken.name)
    assert again.status_code == 400
    assert f"A job named {taken.name} already exists in us-east-1." in again.content.decode()

    # A colleague's job in the console: the create task would mistake it for its own.
    console = f"console-{uuid.uuid4().hex[:8]}"
    spec = tumor_launch().spec
    sagemaker(sandbox.url).create_transform_job(
        TransformJobName=console,
        ModelName=spec.model_name,
        TransformInput={
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": spec.input_uri}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": fresh_output()},
        TransformResources={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
    )
    clash = _post(client, tumor_launch(output_path=fresh_output()), name=console)
    assert clash.status_code == 400
    assert f"A job named {console} already exists in us-east-1 (in SageMaker)." in (
        clash.content.decode()
    )
    assert TransformJob.objects.count() == 1


def test_the_job_page_shows_its_arn(sandbox, role_client, operator):
    job = services.transform_job_launch(
        launch=tumor_launch(output_path=fresh_output()), actor=operator
    )
    job.refresh_from_db()
    assert job.arn.endswith(f":transform-job/{job.name}")

    body = role_client("Viewer").get(reverse("transforms:detail", args=[job.pk])).content.decode()

    arn = body.split('data-testid="job-arn">', 1)[1].split("</div>", 1)[0]
    assert arn == job.arn
