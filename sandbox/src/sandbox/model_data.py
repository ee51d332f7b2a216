"""Loading a variant's model the way a SageMaker container would at endpoint creation.

On AWS a container downloads ModelDataUrl and must then pass its ping health check; if either
fails the endpoint ends ``Failed`` with a reason naming the URL or the variant. The sandbox
does the same against its own S3, so a typo in a model path shows up exactly as it would on
AWS. Loaded models are cached by object ETag because a bulk world shares one artifact among
many endpoints.

A container can also be told to fail: ``SANDBOX_FAILURE_RATE`` in its Environment (0-1) makes
that fraction of its requests crash with a 500, which SageMaker reports as a ModelError. This
is how a broken model build is staged (``sandbox/scenarios.py``): the failure belongs to the
model as deployed, so moving traffic off the variant is what stops it. A value the container
cannot read makes it fail its health check, as a real container crashing at start would.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sandbox import moto_bridge
from sandbox.models import ArtifactError, SandboxModel, load_artifact
from sandbox.multi_model import multi_model_prefix, split_prefix

_CACHE_SIZE = 256
FAILURE_RATE_VARIABLE = "SANDBOX_FAILURE_RATE"


@dataclass(frozen=True)
class ContainerImage:
    """The image a container was created with, for DescribeEndpoint's DeployedImages."""

    specified_image: str


@dataclass(frozen=True)
class VariantModel:
    """The outcome of preparing one variant: a model to serve, or AWS's failure reason."""

    model: SandboxModel | None
    images: tuple[ContainerImage, ...]
    failure_reason: str | None
    failure_rate: float = 0.0
    multi_model_prefix: str | None = None


class ArtifactCache:
    """Parsed artifacts keyed by (account, bucket, key, ETag): a changed object reloads."""

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, str, str, str], SandboxModel | ArtifactError] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def load(self, account_id: str, region: str, bucket: str, key: str) -> SandboxModel | None:
        """The model at s3://bucket/key; None if absent, ArtifactError if not loadable."""
        found = moto_bridge.read_s3_object(account_id, region, bucket, key)
        if found is None:
            return None
        cache_key = (account_id, bucket, key, found.etag)
        with self._lock:
            cached = self._entries.get(cache_key)
            if cached is not None:
                self._entries.move_to_end(cache_key)
        if cached is None:
            try:
                cached = load_artifact(found.data)
            except ArtifactError as error:
                cached = error
            with self._lock:
                self._entries[cache_key] = cached
                while len(self._entries) > self._size:
                    self._entries.popitem(last=False)
        if isinstance(cached, ArtifactError):
            raise cached
        return cached

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def split_s3_url(url: str) -> tuple[str, str] | None:
    """(bucket, key) of an s3:// URL, or None for anything the sandbox cannot download."""
    if not url.startswith("s3://"):
        return None
    bucket, _, key = url[len("s3://") :].partition("/")
    if not bucket or not key:
        return None
    return bucket, key


def download_failure(container_index: int, url: str) -> str:
    """AWS's FailureReason when a container cannot fetch its model data."""
    return (
        f'Failed to download model data for container "container_{container_index}" '
        f'from URL: "{url}". Please ensure that there is an object located at the URL '
        "and that the role passed to CreateModel has permissions to download the object."
    )


def health_check_failure(variant_name: str) -> str:
    """AWS's FailureReason when a container starts but never answers /ping."""
    return (
        f"The primary container for production variant {variant_name} did not pass the ping "
        "health check. Please check CloudWatch Logs for this endpoint."
    )


def _containers(description: dict[str, Any]) -> list[dict[str, Any]]:
    containers = description.get("Containers") or []
    if containers:
        return list(containers)
    primary = description.get("PrimaryContainer")
    return [primary] if primary else []


def container_failure_rate(container: dict[str, Any]) -> float | None:
    """The container's ``SANDBOX_FAILURE_RATE`` (0 when unset), or None when it is unusable."""
    value = (container.get("Environment") or {}).get(FAILURE_RATE_VARIABLE)
    if value is None:
        return 0.0
    try:
        rate = float(value)
    except (TypeError, ValueError):
        return None
    return rate if 0.0 <= rate <= 1.0 else None


def prepare_variant(
    cache: ArtifactCache,
    *,
    account_id: str,
    region: str,
    variant_name: str,
    model_description: dict[str, Any],
) -> VariantModel:
    """Fetch and load the variant's model data, answering what the endpoint's fate will be."""
    containers = _containers(model_description)
    images = tuple(
        ContainerImage(specified_image=str(container.get("Image", "")))
        for container in containers
        if container.get("Image")
    )
    served: SandboxModel | None = None
    failure_rate = 0.0
    prefix = multi_model_prefix(model_description)
    if prefix is not None:
        # A multi-model container downloads nothing at creation: each request's TargetModel
        # is loaded then (``sandbox.multi_model``), so even an empty prefix serves.
        if split_prefix(prefix) is None:
            return VariantModel(None, images, download_failure(1, prefix))
        rates = [container_failure_rate(container) for container in containers]
        if None in rates:
            return VariantModel(None, images, health_check_failure(variant_name))
        return VariantModel(None, images, None, max(r or 0.0 for r in rates), prefix)
    for index, container in enumerate(containers, start=1):
        rate = container_failure_rate(container)
        if rate is None:
            return VariantModel(None, images, health_check_failure(variant_name))
        failure_rate = max(failure_rate, rate)
        url = container.get("ModelDataUrl")
        if not url:
            continue
        location = split_s3_url(str(url))
        if location is None:
            return VariantModel(None, images, download_failure(index, str(url)))
        try:
            loaded = cache.load(account_id, region, *location)
        except ArtifactError:
            return VariantModel(None, images, health_check_failure(variant_name))
        if loaded is None:
            return VariantModel(None, images, download_failure(index, str(url)))
        served = served or loaded
    if served is None:
        # Without model data there is nothing to serve; a real container would fail /ping.
        return VariantModel(None, images, health_check_failure(variant_name))
    return VariantModel(served, images, None, failure_rate)
