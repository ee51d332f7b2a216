"""Which S3 operation a REST request calls, from its method, path and query.

S3 names no operation in its requests: the SDK turns ``get_object`` into ``GET /bucket/key``
and ``list_objects_v2`` into ``GET /bucket?list-type=2``. A fault aimed at one S3 operation
needs the reverse mapping. It covers the bucket and object operations tools commonly call, on
path-style requests (what botocore sends to a custom endpoint such as the sandbox's); any other
request has no name here, and only an ``s3:*`` fault reaches it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Bucket sub-resource -> the operation of a GET, a PUT and a DELETE on it.
_BUCKET_SUBRESOURCES: dict[str, tuple[str | None, str | None, str | None]] = {
    "acl": ("GetBucketAcl", "PutBucketAcl", None),
    "cors": ("GetBucketCors", "PutBucketCors", "DeleteBucketCors"),
    "encryption": ("GetBucketEncryption", "PutBucketEncryption", "DeleteBucketEncryption"),
    "lifecycle": (
        "GetBucketLifecycleConfiguration",
        "PutBucketLifecycleConfiguration",
        "DeleteBucketLifecycle",
    ),
    "location": ("GetBucketLocation", None, None),
    "logging": ("GetBucketLogging", "PutBucketLogging", None),
    "notification": (
        "GetBucketNotificationConfiguration",
        "PutBucketNotificationConfiguration",
        None,
    ),
    "ownershipControls": (
        "GetBucketOwnershipControls",
        "PutBucketOwnershipControls",
        "DeleteBucketOwnershipControls",
    ),
    "policy": ("GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"),
    "publicAccessBlock": (
        "GetPublicAccessBlock",
        "PutPublicAccessBlock",
        "DeletePublicAccessBlock",
    ),
    "replication": ("GetBucketReplication", "PutBucketReplication", "DeleteBucketReplication"),
    "tagging": ("GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging"),
    "versioning": ("GetBucketVersioning", "PutBucketVersioning", None),
    "website": ("GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite"),
    "versions": ("ListObjectVersions", None, None),
    "uploads": ("ListMultipartUploads", None, None),
}
_OBJECT_OPERATIONS = frozenset(
    {
        "GetObject",
        "HeadObject",
        "PutObject",
        "CopyObject",
        "DeleteObject",
        "GetObjectTagging",
        "PutObjectTagging",
        "DeleteObjectTagging",
        "GetObjectAcl",
        "PutObjectAcl",
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPartCopy",
        "CompleteMultipartUpload",
        "AbortMultipartUpload",
        "ListParts",
    }
)
_OTHER_BUCKET_OPERATIONS = frozenset(
    {
        "ListBuckets",
        "CreateBucket",
        "DeleteBucket",
        "HeadBucket",
        "ListObjects",
        "ListObjectsV2",
        "DeleteObjects",
    }
)
_METHODS = ("GET", "PUT", "DELETE")
_OBJECT_TAGGING = {
    "GET": "GetObjectTagging",
    "PUT": "PutObjectTagging",
    "DELETE": "DeleteObjectTagging",
}
_OBJECT_ACL = {"GET": "GetObjectAcl", "PUT": "PutObjectAcl"}

# Every operation ``s3_operation`` can return, for checking a fault's name against.
KNOWN_OPERATIONS = frozenset(
    {name for names in _BUCKET_SUBRESOURCES.values() for name in names if name}
    | _OBJECT_OPERATIONS
    | _OTHER_BUCKET_OPERATIONS
)


def s3_operation(
    method: str, path: str, query: Mapping[str, Any], headers: Mapping[str, str]
) -> str | None:
    """The operation a path-style S3 request calls, or None when it is not one named here."""
    bucket, _, key = path.lstrip("/").partition("/")
    if not bucket:
        return "ListBuckets" if method == "GET" else None
    if key:
        return _object_operation(method, query, headers)
    return _bucket_operation(method, query)


def _bucket_operation(method: str, query: Mapping[str, Any]) -> str | None:
    if method == "HEAD":
        return "HeadBucket"
    if method == "POST":
        return "DeleteObjects" if "delete" in query else None
    if method not in _METHODS:
        return None
    sub = next((name for name in query if name in _BUCKET_SUBRESOURCES), None)
    if sub is not None:
        return _BUCKET_SUBRESOURCES[sub][_METHODS.index(method)]
    if method == "GET":
        return "ListObjectsV2" if _first(query, "list-type") == "2" else "ListObjects"
    return "CreateBucket" if method == "PUT" else "DeleteBucket"


def _object_operation(
    method: str, query: Mapping[str, Any], headers: Mapping[str, str]
) -> str | None:
    copying = "x-amz-copy-source" in headers
    if method == "HEAD":
        return "HeadObject"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        return "CompleteMultipartUpload" if "uploadId" in query else None
    if "tagging" in query:
        return _OBJECT_TAGGING.get(method)
    if "acl" in query:
        return _OBJECT_ACL.get(method)
    if method == "GET":
        return "ListParts" if "uploadId" in query else "GetObject"
    if method == "PUT":
        if "uploadId" in query:
            return "UploadPartCopy" if copying else "UploadPart"
        return "CopyObject" if copying else "PutObject"
    if method == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
    return None


def _first(query: Mapping[str, Any], name: str) -> str | None:
    value = query.get(name)
    if isinstance(value, list):
        return str(value[0]) if value else None
    return None if value is None else str(value)
