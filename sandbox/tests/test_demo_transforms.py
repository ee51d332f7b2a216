"""The demo world's batch transform history: the tumor batch file and its nightly jobs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

from sandbox.quotas import quota_code
from sandbox.seed import (
    BROKEN_BATCH_KEY,
    BROKEN_BATCH_LINE,
    TUMOR_BATCH_KEY,
    TUMOR_BATCH_ROWS,
    bucket_name,
)

AwsFactory = Callable[..., Any]
BUCKET = bucket_name("us-east-1")
COMPLETED = ("tumor-batch-2026-11-20", "tumor-batch-2026-11-21", "tumor-batch-2026-11-22")
FAILED = "tumor-batch-2026-11-23"


def test_the_batch_file_has_an_id_column_and_no_header(aws: AwsFactory) -> None:
    body = aws("s3").get_object(Bucket=BUCKET, Key=TUMOR_BATCH_KEY)["Body"].read().decode()
    lines = body.splitlines()
    assert len(lines) == TUMOR_BATCH_ROWS
    assert lines[0].split(",")[0] == "1001"
    assert all(len(line.split(",")) == 31 for line in lines)


def test_nightly_jobs_completed_with_id_and_prediction_outputs(aws: AwsFactory) -> None:
    sagemaker, s3 = aws("sagemaker"), aws("s3")
    listed = sagemaker.list_transform_jobs(NameContains="tumor-batch-", MaxResults=100)
    statuses = {
        j["TransformJobName"]: j["TransformJobStatus"] for j in listed["TransformJobSummaries"]
    }
    assert statuses == {**dict.fromkeys(COMPLETED, "Completed"), FAILED: "Failed"}
    for name in COMPLETED:
        described = sagemaker.describe_transform_job(TransformJobName=name)
        assert described["CreationTime"].astimezone(UTC).date().isoformat() == name.removeprefix(
            "tumor-batch-"
        )
        assert described["DataProcessing"]["OutputFilter"] == "$[0,-1]"
        key = f"batch/tumor/output/{name}/tumor-batch.csv.out"
        lines = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().splitlines()
        assert len(lines) == TUMOR_BATCH_ROWS
        assert lines[0].startswith("1001,") and len(lines[0].split(",")) == 2


def test_the_failed_night_names_the_object_and_line(aws: AwsFactory) -> None:
    described = aws("sagemaker").describe_transform_job(TransformJobName=FAILED)
    assert described["TransformJobStatus"] == "Failed"
    assert f"s3://{BUCKET}/{BROKEN_BATCH_KEY}" in described["FailureReason"]
    assert f"line {BROKEN_BATCH_LINE}" in described["FailureReason"]
    listed = aws("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"batch/tumor/output/{FAILED}/")
    assert listed.get("KeyCount", 0) == 0


def test_new_accounts_have_no_ml_m5_large_for_transform(aws: AwsFactory) -> None:
    quota = aws("service-quotas").get_service_quota(
        ServiceCode="sagemaker", QuotaCode=quota_code("ml.m5.large for transform job usage")
    )
    assert quota["Quota"]["Value"] == 0.0
