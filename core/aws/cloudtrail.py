"""CloudTrail reads: LookupEvents pages and trail log files in S3.

LookupEvents answers 2 requests a second per account and region. The client here makes a
single attempt, so a ThrottlingException reaches the caller as `Throttled` at once: the
ingest service paces itself through a limiter shared by every worker and backs off on its
own, which botocore's per-client retries could not coordinate.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from core.aws.clients import client
from core.aws.errors import translated
from core.aws.types import TrailFile, TrailPage
from core.targets import Target

PAGE_SIZE = 50  # LookupEvents' maximum: fewest calls per event
SAGEMAKER_SOURCE = "sagemaker.amazonaws.com"
# Trail files live under AWSLogs/<account>/CloudTrail/; digests and Insights files sit beside
# them (CloudTrail-Digest/, CloudTrail-Insight/) and hold no management events.
_LOG_SEGMENT = "/CloudTrail/"
_LOG_SUFFIXES = (".json.gz", ".json")


class BadTrailFile(ValueError):
    """An object under a trail prefix that is not a CloudTrail log file; says which and why."""


def _cloudtrail(target: Target, region: str) -> Any:
    return client(target=target, region=region, service="cloudtrail", attempts=1)


def _s3(target: Target, region: str) -> Any:
    return client(target=target, region=region, service="s3")


def lookup_events(
    *,
    target: Target,
    region: str,
    start: datetime,
    end: datetime,
    next_token: str | None = None,
    event_source: str = SAGEMAKER_SOURCE,
    pace: Callable[[], object] | None = None,
) -> TrailPage:
    """One page (up to 50 events, newest first) of the source's events between start and end.

    The next page must repeat the same start, end and source: CloudTrail binds the token
    to the query. `pace` (the caller's rate limiter) is called just before the request
    goes out, after the client is built, so the time between a granted slot and the
    request reaching AWS is as short and as steady as it can be.
    """
    params: dict[str, Any] = {
        "LookupAttributes": [{"AttributeKey": "EventSource", "AttributeValue": event_source}],
        "StartTime": start,
        "EndTime": end,
        "MaxResults": PAGE_SIZE,
    }
    if next_token:
        params["NextToken"] = next_token
    cloudtrail = _cloudtrail(target, region)
    if pace is not None:
        pace()
    with translated("LookupEvents"):
        data = cloudtrail.lookup_events(**params)
    return TrailPage(
        records=tuple(_record(item) for item in data.get("Events", [])),
        next_token=data.get("NextToken") or None,
    )


def _record(item: dict[str, Any]) -> dict[str, Any]:
    """The event's CloudTrail record; if its JSON is unreadable, the summary fields, so
    the event is still kept and findable rather than silently dropped."""
    raw = item.get("CloudTrailEvent")
    try:
        record = json.loads(raw) if raw else None
    except ValueError:
        record = None
    if isinstance(record, dict):
        return record
    when = item.get("EventTime")
    identity: dict[str, Any] = {}
    if item.get("Username"):
        identity["userName"] = item["Username"]
    if item.get("AccessKeyId"):
        identity["accessKeyId"] = item["AccessKeyId"]
    return {
        "eventID": item.get("EventId", ""),
        "eventName": item.get("EventName", ""),
        "eventSource": item.get("EventSource", ""),
        "eventTime": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if isinstance(when, datetime)
        else when,
        "readOnly": item.get("ReadOnly"),
        "userIdentity": identity,
    }


def trail_log_keys(*, target: Target, region: str, bucket: str, prefix: str) -> Iterator[str]:
    """Keys of the CloudTrail log files under a prefix, in S3's (lexical, so date) order."""
    paginator = _s3(target, region).get_paginator("list_objects_v2")
    with translated("ListObjectsV2"):
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = str(item["Key"])
                if _LOG_SEGMENT in f"/{key}" and key.endswith(_LOG_SUFFIXES):
                    yield key


def read_trail_file(*, target: Target, region: str, bucket: str, key: str) -> TrailFile:
    """One log file's records (gzip JSON `{"Records": [...]}`, or the same uncompressed)."""
    uri = f"s3://{bucket}/{key}"
    with translated("GetObject"):
        body = _s3(target, region).get_object(Bucket=bucket, Key=key)["Body"].read()
    if body[:2] == b"\x1f\x8b":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError, zlib.error) as exc:
            raise BadTrailFile(f"{uri} is not a readable gzip file ({exc}).") from None
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise BadTrailFile(f"{uri} does not hold JSON ({exc}).") from None
    records = document.get("Records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        raise BadTrailFile(f'{uri} is not a CloudTrail log file (no "Records" list).')
    return TrailFile(uri=uri, records=tuple(r for r in records if isinstance(r, dict)))
