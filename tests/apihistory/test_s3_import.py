"""Importing a trail's log files from S3: the sandbox's trail delivers real gzip files,
the import stores exactly their SageMaker management events (once, whatever the source),
and locations or files that are not trail logs give a clear message."""

from __future__ import annotations

import gzip
import io
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apihistory.models import TrailEvent
from apihistory.services import TrailImportError, trail_import_s3, trail_ingest
from sandbox.testing import CI_DEPLOYER_KEY, MARIA_KEY, control, keyed_client
from tests.apihistory import ACCOUNT, target_for

pytestmark = pytest.mark.django_db

REGION = "eu-west-2"
TARGET = target_for(REGION)


@pytest.fixture(scope="module")
def trail_bucket(sandbox_server: Any) -> Iterator[str]:
    """A bucket with a logging trail of REGION delivering under `audit/`."""
    url = sandbox_server.url
    s3 = keyed_client(url, "s3", REGION, "testing")
    bucket = f"trail-logs-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    cloudtrail = keyed_client(url, "cloudtrail", REGION, "testing")
    name = f"portal-import-{uuid.uuid4().hex[:8]}"
    cloudtrail.create_trail(Name=name, S3BucketName=bucket, S3KeyPrefix="audit")
    cloudtrail.start_logging(Name=name)
    yield bucket
    cloudtrail.stop_logging(Name=name)
    cloudtrail.delete_trail(Name=name)


def _delivered_records(url: str, bucket: str) -> list[dict[str, Any]]:
    s3 = keyed_client(url, "s3", REGION, "testing")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"audit/AWSLogs/{ACCOUNT}/CloudTrail/")
    records: list[dict[str, Any]] = []
    for item in listed.get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        records.extend(json.loads(gzip.decompress(body))["Records"])
    return records


def test_import_stores_exactly_the_sagemaker_events_of_the_delivered_files(sandbox, trail_bucket):
    for key in (MARIA_KEY, CI_DEPLOYER_KEY):
        keyed_client(sandbox.url, "sagemaker", REGION, key).list_endpoints(
            NameContains=f"imported-{key}"
        )
    # Not SageMaker: recorded with eventSource s3.amazonaws.com, and not imported.
    s3 = keyed_client(sandbox.url, "s3", REGION, MARIA_KEY)
    s3.create_bucket(
        Bucket=f"other-{uuid.uuid4().hex[:8]}",
        CreateBucketConfiguration={"LocationConstraint": REGION},
    )
    status, flushed = control(sandbox.url, "flush-cloudtrail")
    assert status == 200 and any(trail_bucket in uri for uri in flushed["files"])
    delivered = _delivered_records(sandbox.url, trail_bucket)
    sagemaker = {r["eventID"] for r in delivered if r["eventSource"] == "sagemaker.amazonaws.com"}
    assert len(sagemaker) >= 2 and len(delivered) > len(sagemaker)

    result = trail_import_s3(target=TARGET, uri=f"s3://{trail_bucket}/audit/")

    assert result.ok and result.files >= 1, result.summary()
    assert result.records == len(delivered) and result.sagemaker == len(sagemaker)
    assert result.stored == len(sagemaker)
    stored = set(TrailEvent.objects.values_list("event_id", flat=True))
    assert stored == sagemaker
    maria = TrailEvent.objects.get(search_text__contains=f"imported-{MARIA_KEY.lower()}")
    assert (maria.principal_name, maria.region, maria.target) == (
        "maria.data-scientist",
        REGION,
        "sandbox",
    )
    deployer = TrailEvent.objects.get(search_text__contains=f"imported-{CI_DEPLOYER_KEY.lower()}")
    assert (deployer.identity_type, deployer.session_name) == ("AssumedRole", "github-actions-1234")

    again = trail_import_s3(target=TARGET, uri=f"s3://{trail_bucket}/audit/")
    assert again.ok and again.stored == 0
    # The same events through LookupEvents are the same rows: nothing new either.
    looked_up = trail_ingest(
        target=TARGET, region=REGION, until=timezone.now() + timedelta(seconds=2)
    )
    assert looked_up.ok and looked_up.read >= len(sagemaker) and looked_up.stored == 0
    assert TrailEvent.objects.count() == len(sagemaker)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("https://bucket/audit/", "is not an S3 URI"),
        ("s3://Not_A_Bucket/audit/", "is not a valid S3 bucket name"),
        (f"s3://missing-{uuid.uuid4().hex[:8]}/audit/", "does not exist"),
    ],
)
def test_a_location_that_cannot_hold_trail_files_is_refused(sandbox, uri, message):
    with pytest.raises(TrailImportError, match=message):
        trail_import_s3(target=TARGET, uri=uri)


def test_a_prefix_without_log_files_is_refused(sandbox, trail_bucket):
    s3 = keyed_client(sandbox.url, "s3", REGION, "testing")
    s3.put_object(
        Bucket=trail_bucket,
        Key=f"empty/AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2025/01/01/d.json.gz",
        Body=gzip.compress(b"{}"),
    )
    with pytest.raises(TrailImportError, match="No CloudTrail log files under"):
        trail_import_s3(target=TARGET, uri=f"s3://{trail_bucket}/empty/")


def test_the_command_imports_good_files_and_names_the_bad_ones(sandbox, settings, trail_bucket):
    settings.OPSPORTAL_TARGETS = (TARGET,)
    s3 = keyed_client(sandbox.url, "s3", REGION, "testing")
    folder = f"mixed/AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2025/01/01"
    good = {
        "Records": [
            {
                "eventID": str(uuid.uuid4()),
                "eventTime": "2025-01-01T10:00:00Z",
                "eventSource": "sagemaker.amazonaws.com",
                "eventName": "DeleteEndpoint",
                "awsRegion": REGION,
                "recipientAccountId": ACCOUNT,
                "userIdentity": {"type": "Root", "arn": f"arn:aws:iam::{ACCOUNT}:root"},
                "requestParameters": {"endpointName": "gone-2025"},
                "readOnly": False,
            },
            {
                "eventID": str(uuid.uuid4()),
                "eventTime": "2025-01-01T10:00:01Z",
                "eventSource": "sagemaker.amazonaws.com",
                "eventName": "DeleteEndpoint",
                "recipientAccountId": "444455556666",
                "requestParameters": {"endpointName": "theirs"},
            },
        ]
    }
    s3.put_object(
        Bucket=trail_bucket,
        Key=f"{folder}/good.json.gz",
        Body=gzip.compress(json.dumps(good).encode()),
    )
    s3.put_object(Bucket=trail_bucket, Key=f"{folder}/broken.json.gz", Body=b"\x1f\x8b not gzip")
    s3.put_object(Bucket=trail_bucket, Key=f"{folder}/other.json.gz", Body=gzip.compress(b"[1]"))
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="2 log files could not be read"):
        call_command(
            "ingest_cloudtrail", "--from-s3", f"s3://{trail_bucket}/mixed/", stdout=out, stderr=err
        )

    assert "1 log files, 2 records, 2 SageMaker management events, 1 new" in out.getvalue()
    assert "1 of other accounts skipped" in out.getvalue()
    assert "broken.json.gz is not a readable gzip file" in err.getvalue()
    assert 'other.json.gz is not a CloudTrail log file (no "Records" list)' in err.getvalue()
    row = TrailEvent.objects.get()
    assert (row.endpoint_name, row.principal_name, row.read_only) == ("gone-2025", "root", False)

    with pytest.raises(CommandError, match="No CloudTrail log files under"):
        call_command("ingest_cloudtrail", "--from-s3", f"s3://{trail_bucket}/nothing/")
    with pytest.raises(CommandError, match="--region does not apply"):
        call_command(
            "ingest_cloudtrail", "--from-s3", f"s3://{trail_bucket}/mixed/", "--region", REGION
        )
