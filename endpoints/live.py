"""Endpoint page reads that must ask AWS now: the models under a multi-model variant's prefix.

A multi-model endpoint serves whatever artifacts are under its S3 prefix, and people add
models there without touching the endpoint, so the inventory cannot know them: the page
lists the prefix (ListObjectsV2, paged, at most MAX_MODELS keys) within the page's AWS
budget. Answers are cached for CACHE_SECONDS; when S3 fails the page shows the last good
listing marked stale, or says that the prefix could not be read. It never fails the page.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from core.aws import s3 as aws_s3
from core.live_cache import read_through
from core.targets import target_by_name
from endpoints.models import Endpoint
from endpoints.selectors.multi_model import MultiModelVariant

MAX_MODELS = 100
CACHE_SECONDS = 30


@dataclass(frozen=True)
class PrefixModel:
    """One artifact under the prefix, named as a request's TargetModel names it."""

    target_model: str
    size: int


@dataclass
class PrefixListing:
    """What the page shows of one multi-model variant's prefix."""

    variant: MultiModelVariant
    models: list[PrefixModel] = field(default_factory=list)
    more: bool = False
    fetched_at: datetime | None = None
    stale_since: datetime | None = None
    error: str = ""


def _cache_key(endpoint: Endpoint, variant: MultiModelVariant) -> str:
    digest = hashlib.sha256(variant.prefix_url.encode()).hexdigest()
    return f"mme-models:{endpoint.pk}:{variant.name}:{digest}"


def prefix_models(*, endpoint: Endpoint, variant: MultiModelVariant) -> PrefixListing:
    """The artifacts under the variant's prefix, from the cache, S3, or the last good
    listing marked stale."""
    try:
        location = aws_s3.parse_s3_uri(variant.prefix_url)
    except ValueError as exc:
        return PrefixListing(variant=variant, error=str(exc))
    prefix = location.key
    if prefix and not prefix.endswith("/"):
        prefix += "/"  # SageMaker joins the prefix and the TargetModel with a slash

    def list_prefix() -> tuple[list[PrefixModel], bool]:
        found = aws_s3.list_objects(
            target=target_by_name(endpoint.target),
            region=endpoint.region,
            bucket=location.bucket,
            prefix=prefix,
            limit=MAX_MODELS + 1,
        )
        models = [
            PrefixModel(target_model=o.key[len(prefix) :], size=o.size)
            for o in found
            if not o.key.endswith("/")  # a "folder" marker is no model
        ]
        return models[:MAX_MODELS], len(found) > MAX_MODELS

    read = read_through(
        key=_cache_key(endpoint, variant), fresh_seconds=CACHE_SECONDS, read=list_prefix
    )
    models, more = read.value if read.value is not None else ([], False)
    return PrefixListing(
        variant=variant,
        models=models,
        more=more,
        fetched_at=read.fetched_at,
        stale_since=read.stale_since,
        error=read.error,
    )
