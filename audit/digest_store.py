"""Where signed audit digests are kept: an S3 prefix or a directory, never the database.

Digest names sort in the order they were signed, so listing a store gives the chain.
In production the S3 bucket should have Object Lock (or at least versioning) and the
directory should be on storage the database's administrators cannot write.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings

from core.aws.s3 import iter_keys, parse_s3_uri, read_object, write_object
from core.targets import target_by_name

MAX_DIGEST_BYTES = 65536
SUFFIX = ".json"


class DigestStore(Protocol):
    @property
    def location(self) -> str: ...

    def put(self, name: str, body: bytes) -> None: ...

    def names(self) -> list[str]: ...

    def get(self, name: str) -> bytes: ...


@dataclass(frozen=True)
class DirectoryStore:
    path: Path

    @property
    def location(self) -> str:
        return str(self.path)

    def put(self, name: str, body: bytes) -> None:
        """Written under a temporary name and renamed, so a reader never sees half a file."""
        self.path.mkdir(parents=True, exist_ok=True)
        partial = self.path / f".{name}.partial"
        partial.write_bytes(body)
        os.replace(partial, self.path / name)

    def names(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(
            p.name for p in self.path.iterdir() if p.name.endswith(SUFFIX) and p.is_file()
        )

    def get(self, name: str) -> bytes:
        return (self.path / name).read_bytes()[: MAX_DIGEST_BYTES + 1]


@dataclass(frozen=True)
class S3Store:
    target_name: str
    region: str
    bucket: str
    prefix: str

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def put(self, name: str, body: bytes) -> None:
        write_object(
            target=target_by_name(self.target_name),
            region=self.region,
            bucket=self.bucket,
            key=self.prefix + name,
            body=body,
            content_type="application/json",
        )

    def names(self) -> list[str]:
        found = iter_keys(
            target=target_by_name(self.target_name),
            region=self.region,
            bucket=self.bucket,
            prefix=self.prefix,
        )
        return sorted(
            item.key[len(self.prefix) :]
            for item in found
            if item.key.endswith(SUFFIX) and "/" not in item.key[len(self.prefix) :]
        )

    def get(self, name: str) -> bytes:
        return read_object(
            target=target_by_name(self.target_name),
            region=self.region,
            bucket=self.bucket,
            key=self.prefix + name,
            max_bytes=MAX_DIGEST_BYTES,
        )


def store_at(location: str) -> DigestStore:
    """The store at `location` (s3://bucket/prefix/ or a directory). S3 is reached with
    OPSPORTAL_AUDIT_DIGEST_TARGET's credentials. ValueError for a malformed S3 URI."""
    if location.startswith("s3://"):
        uri = parse_s3_uri(location)
        prefix = uri.key if not uri.key or uri.key.endswith("/") else uri.key + "/"
        target_name, region = settings.OPSPORTAL_AUDIT_DIGEST_TARGET
        return S3Store(target_name=target_name, region=region, bucket=uri.bucket, prefix=prefix)
    return DirectoryStore(Path(location))


def configured_store() -> DigestStore | None:
    location: str = settings.OPSPORTAL_AUDIT_DIGESTS
    return store_at(location) if location else None
