"""S3 for batch transform (existence checks, bounded previews of output) and the audit
log's digests (small objects written and read whole)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from core.aws.clients import client
from core.aws.errors import NotFound, ValidationFailed, translated
from core.aws.types import S3Object, S3Range
from core.targets import Target

PREVIEW_BYTES = 65536  # one ranged GET per object: never the whole object
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_uri(uri: str) -> S3Uri:
    """Split s3://bucket/key; ValueError says what is wrong with a malformed URI."""
    uri = uri.strip()
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an S3 URI (it must start with s3://).")
    bucket, _, key = uri[5:].partition("/")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise ValueError(f"{bucket!r} is not a valid S3 bucket name.")
    return S3Uri(bucket=bucket, key=key)


def _s3(target: Target, region: str) -> Any:
    return client(target=target, region=region, service="s3", read_timeout=5)


def bucket_exists(*, target: Target, region: str, bucket: str) -> bool:
    """Whether the bucket exists (and may be listed): one ListObjectsV2 for at most one key.

    Listing rather than HeadBucket because a HEAD error has no body, so a missing bucket
    and a refused one look alike; NoSuchBucket is unambiguous.
    """
    try:
        with translated("ListObjectsV2"):
            _s3(target, region).list_objects_v2(Bucket=bucket, MaxKeys=1)
    except NotFound:
        return False
    return True


def prefix_has_objects(*, target: Target, region: str, bucket: str, prefix: str) -> bool:
    """Whether any key starts with `prefix`: S3Prefix's own meaning, so an object's full key
    counts as a non-empty prefix too."""
    with translated("ListObjectsV2"):
        data = _s3(target, region).list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
    return bool(data.get("KeyCount") or data.get("Contents"))


def list_objects(
    *, target: Target, region: str, bucket: str, prefix: str, suffix: str = "", limit: int = 50
) -> list[S3Object]:
    """Objects under a prefix (ending in `suffix`), at most `limit` of them."""
    found: list[S3Object] = []
    paginator = _s3(target, region).get_paginator("list_objects_v2")
    with translated("ListObjectsV2"):
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                if item["Key"].endswith(suffix):
                    found.append(S3Object(key=item["Key"], size=int(item.get("Size", 0))))
                    if len(found) >= limit:
                        return found
    return found


def read_head(*, target: Target, region: str, bucket: str, key: str) -> S3Range:
    """The first PREVIEW_BYTES of an object with one ranged GetObject."""
    with translated("GetObject"):
        data = _s3(target, region).get_object(
            Bucket=bucket, Key=key, Range=f"bytes=0-{PREVIEW_BYTES - 1}"
        )
        body = data["Body"].read()
    content_range = str(data.get("ContentRange", ""))
    size = int(content_range.rsplit("/", 1)[1]) if "/" in content_range else len(body)
    return S3Range(key=key, body=body, size=size, truncated=size > len(body))


def read_object(*, target: Target, region: str, bucket: str, key: str, max_bytes: int) -> bytes:
    """A whole small object (a JSON report, a baseline) with one GetObject; ValidationFailed
    when it is longer than `max_bytes`, so a wrong key cannot fill the worker's memory."""
    with translated("GetObject"):
        data = _s3(target, region).get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max_bytes}")
        body = data["Body"].read()
    if len(body) > max_bytes:
        raise ValidationFailed(
            f"s3://{bucket}/{key} is larger than {max_bytes} bytes.",
            code="ObjectTooLarge",
            operation="GetObject",
        )
    return body


def read_json_object(*, target: Target, region: str, uri: str, max_bytes: int) -> dict[str, Any]:
    """A JSON object stored in S3 (a report, a baseline). ValueError says what is wrong
    with a malformed URI or a body that is not a JSON object; AwsError when S3 says no."""
    location = parse_s3_uri(uri)
    body = read_object(
        target=target, region=region, bucket=location.bucket, key=location.key, max_bytes=max_bytes
    )
    try:
        document = json.loads(body)
    except ValueError:
        raise ValueError(f"{uri} is not JSON.") from None
    if not isinstance(document, dict):
        raise ValueError(f"{uri} is not a JSON object.")
    return document


def iter_object_lines(*, target: Target, region: str, bucket: str, key: str) -> Iterator[bytes]:
    """An object's lines, streamed (one GetObject; the body is never held whole)."""
    with translated("GetObject"):
        data = _s3(target, region).get_object(Bucket=bucket, Key=key)
        yield from data["Body"].iter_lines()


def iter_keys(
    *, target: Target, region: str, bucket: str, prefix: str, start_after: str = ""
) -> Iterator[S3Object]:
    """Objects under a prefix in key order, lazily (stop iterating to stop listing), from
    just after `start_after` when given."""
    kwargs = {"Bucket": bucket, "Prefix": prefix}
    if start_after:
        kwargs["StartAfter"] = start_after
    paginator = _s3(target, region).get_paginator("list_objects_v2")
    with translated("ListObjectsV2"):
        for page in paginator.paginate(**kwargs):
            for item in page.get("Contents", []):
                yield S3Object(key=item["Key"], size=int(item.get("Size", 0)))


def write_object(
    *, target: Target, region: str, bucket: str, key: str, body: bytes, content_type: str
) -> None:
    """One small object (an audit digest) with one PutObject."""
    with translated("PutObject"):
        _s3(target, region).put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
