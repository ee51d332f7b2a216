"""The gateway's S3 and quota reads: bounded previews and quota lookup by name."""

from __future__ import annotations

import boto3
import pytest
from django.conf import settings

from core.aws import quotas as aws_quotas
from core.aws import s3 as aws_s3
from core.aws.clients import call_counts, reset_call_counts
from tests.transforms.conftest import BUCKET
from transforms import tasks

TARGET = settings.OPSPORTAL_TARGETS[0]


def test_preview_read_is_one_ranged_get(sandbox):
    s3 = boto3.client(
        "s3",
        endpoint_url=sandbox.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    body = b"".join(f"{i},0.5\n".encode() for i in range(40_000))
    s3.put_object(Bucket=BUCKET, Key="tests/big.csv.out", Body=body)
    reset_call_counts()
    head = aws_s3.read_head(
        target=TARGET, region="us-east-1", bucket=BUCKET, key="tests/big.csv.out"
    )
    assert len(head.body) == aws_s3.PREVIEW_BYTES < len(body)
    assert head.truncated and head.size == len(body)
    assert call_counts()[("s3", "GetObject")] == 1


@pytest.mark.parametrize(
    "uri", ["s3:/bucket/x", "bucket/key", "s3://ab/x", "s3://UPPER/x", "s3://a..b/x", ""]
)
def test_malformed_s3_uris_are_refused(uri):
    with pytest.raises(ValueError):
        aws_s3.parse_s3_uri(uri)


def test_s3_uri_parts():
    parsed = aws_s3.parse_s3_uri(" s3://my-bucket/a/b.csv ")
    assert (parsed.bucket, parsed.key) == ("my-bucket", "a/b.csv")


def test_quota_is_found_by_name(sandbox):
    quota = aws_quotas.sagemaker_quota_by_name(
        target=TARGET, region="us-east-1", name="ml.m5.large for transform job usage"
    )
    assert quota is not None and quota.value == 0 and quota.code.startswith("L-")
    assert (
        aws_quotas.sagemaker_quota_by_name(
            target=TARGET, region="us-east-1", name="ml.nope for transform job usage"
        )
        is None
    )


def test_beat_runs_the_sync_and_the_sweeper():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks.transform_jobs_sync_all.name in scheduled
    assert tasks.transform_jobs_sweep.name in scheduled
