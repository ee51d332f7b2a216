"""Endpoint page reads that must ask AWS now: the models under a multi-model variant's prefix.

A multi-model endpoint serves whatever artifacts are under its S3 prefix, and people add
models there without touching the endpoint, so the inventory cannot know them: the page
lists the prefix (ListObjectsV2, paged, at most MAX_MODELS keys) within the page's AWS
budget. Answers are cached for CACHE_SECONDS; when S3 fails the page shows the last good
listing marked stale, or says that the prefix could not be read. It never fails the page.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from core.aws import s3 as aws_s3
from core.aws.errors import AwsError
from core.targets import target_by_name
from endpoints.models import Endpoint
from endpoints.selectors.multi_model import MultiModelVariant

MAX_MODELS = 100
CACHE_SECONDS = 30
LAST_GOOD_SECONDS = 86400


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


def _cache_key(endpoint: Endpoint, variant: MultiModelVariant, *, last_good: bool) -> str:
    digest = hashlib.sha256(variant.prefix_url.encode()).hexdigest()
    kind = "mme-models-last-good" if last_good else "mme-models"
    return f"{kind}:{endpoint.pk}:{variant.name}:{digest}"


def prefix_models(*, endpoint: Endpoint, variant: MultiModelVariant) -> PrefixListing:
    """The artifacts under the variant's prefix, from the cache, S3, or the last good
    listing marked stale."""
    key = _cache_key(endpoint, variant, last_good=False)
    cached: PrefixListing | None = cache.get(key)
    if cached is not None:
        return cached
    listing = PrefixListing(variant=variant)
    try:
        location = aws_s3.parse_s3_uri(variant.prefix_url)
    except ValueError as exc:
        listing.error = str(exc)
        return listing
    prefix = location.key
    if prefix and not prefix.endswith("/"):
        prefix += "/"  # SageMaker joins the prefix and the TargetModel with a slash
    try:
        found = aws_s3.list_objects(
            target=target_by_name(endpoint.target),
            region=endpoint.region,
            bucket=location.bucket,
            prefix=prefix,
            limit=MAX_MODELS + 1,
        )
    except AwsError as exc:
        last_good: PrefixListing | None = cache.get(_cache_key(endpoint, variant, last_good=True))
        if last_good is None:
            listing.error = str(exc)
            listing.stale_since = timezone.now()
            return listing
        return replace(
            last_good, error=str(exc), stale_since=last_good.stale_since or last_good.fetched_at
        )
    models = [
        PrefixModel(target_model=o.key[len(prefix) :], size=o.size)
        for o in found
        if not o.key.endswith("/")  # a "folder" marker is no model
    ]
    listing.models = models[:MAX_MODELS]
    listing.more = len(found) > MAX_MODELS
    listing.fetched_at = timezone.now()
    cache.set(key, listing, CACHE_SECONDS)
    cache.set(_cache_key(endpoint, variant, last_good=True), listing, LAST_GOOD_SECONDS)
    return listing
