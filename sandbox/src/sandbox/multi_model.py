"""Multi-model endpoints: a container of ``Mode: MultiModel`` whose ModelDataUrl is an S3 prefix.

On AWS such an endpoint is created without downloading anything (the prefix may be empty).
Each InvokeEndpoint names its model with ``TargetModel``, a path relative to the prefix; the
first request for a model downloads and loads that artifact into the variant's containers
and later ones find it loaded. An artifact uploaded after the endpoint was created is served
on its first request. The sandbox does the same with its real artifacts
(``sandbox.models``): the target is read from the sandbox's S3 and parsed on its first
request, and the time both took is what the request waited.

Errors are AWS's ValidationErrors: a TargetModel that is not under the prefix ("Failed to
download model data..."), none at all on a multi-model endpoint, one that breaks the
header's constraints, or one sent to a single-model endpoint.

Each request's cache outcome is counted in the variant's minute (``sandbox.endpoint_metrics``)
and published in ``AWS/SageMaker`` as AWS does for multi-model endpoints: ModelCacheHit (1
or 0 per request, so Average is the hit rate), ModelLoadingWaitTime, ModelDownloadingTime
and ModelLoadingTime (Microseconds, for the requests that loaded a model) and
LoadedModelCount (per instance). Nothing is unloaded while the endpoint lives, so
ModelUnloadingTime is never published.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox import moto_bridge
from sandbox.aws_protocol import AwsError
from sandbox.metric_store import MetricDatum
from sandbox.models import SandboxModel, load_artifact
from sandbox.variants import VariantState

MULTI_MODEL_MODE = "MultiModel"
TARGET_MODEL_HEADER = "x-amzn-sagemaker-target-model"
MAX_TARGET_MODEL_LENGTH = 1024
# botocore's TargetModelHeader pattern \A\S[\p{Print}]*\z: printable, not starting with a space.
_TARGET_MODEL_PATTERN = re.compile(r"\A[!-~][ -~]*\Z")
MICROSECONDS = "Microseconds"


def multi_model_prefix(model_description: Mapping[str, Any]) -> str | None:
    """The S3 prefix a model serves from if its container is a multi-model one, else None."""
    containers = list(model_description.get("Containers") or [])
    primary = model_description.get("PrimaryContainer")
    if primary:
        containers.insert(0, primary)
    for container in containers:
        if container.get("Mode") == MULTI_MODEL_MODE and container.get("ModelDataUrl"):
            return str(container["ModelDataUrl"])
    return None


def split_prefix(url: str) -> tuple[str, str] | None:
    """(bucket, key prefix) of an s3:// prefix; the prefix may be empty (the bucket's root)."""
    if not url.startswith("s3://"):
        return None
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket:
        return None
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


def _validation(message: str) -> AwsError:
    return AwsError("ValidationError", message)


def not_multi_model(endpoint: str) -> AwsError:
    """What SageMaker answers a TargetModel sent to a single-model endpoint."""
    return _validation(
        f"Endpoint {endpoint} is not a multi-model endpoint and does not support target "
        "model header."
    )


def check_target_model(target: str) -> None:
    """The header's constraints (botocore's TargetModelHeader), as AWS checks them."""
    if not 1 <= len(target) <= MAX_TARGET_MODEL_LENGTH:
        raise _validation(
            f"1 validation error detected: Value '{target[:64]}' at 'targetModel' failed to "
            f"satisfy constraint: Member must have length less than or equal to "
            f"{MAX_TARGET_MODEL_LENGTH}"
        )
    if not _TARGET_MODEL_PATTERN.match(target):
        raise _validation(
            f"1 validation error detected: Value '{target}' at 'targetModel' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            r"\A\S[\p{Print}]*\z"
        )


def download_failure(bucket: str, key: str) -> AwsError:
    """What SageMaker answers for a TargetModel with no object under the prefix."""
    return _validation(
        f"Failed to download model data(bucket: {bucket}, key: {key}). Please ensure that "
        "there is an object located at the URL and that the role passed to CreateModel has "
        "permissions to download the model."
    )


@dataclass(frozen=True)
class ModelLoad:
    """How one request found its target model: loaded already, or loaded for it (µs)."""

    cache_hit: bool
    loaded_count: int
    downloading_us: int = 0
    loading_us: int = 0

    @property
    def waiting_us(self) -> int:
        return self.downloading_us + self.loading_us


# (account, region, endpoint, endpoint creation time, variant): a recreated endpoint of the
# same name starts with empty containers.
_FleetKey = tuple[str, str, str, float, str]


class MultiModelHost:
    """The models loaded into each multi-model variant's containers."""

    def __init__(self) -> None:
        self._loaded: dict[_FleetKey, dict[str, SandboxModel]] = {}
        self._lock = threading.Lock()

    def serve(
        self,
        *,
        account_id: str,
        region: str,
        endpoint: str,
        created: float,
        variant: VariantState,
        target: str | None,
        request_id: str,
    ) -> tuple[VariantState, ModelLoad]:
        """The variant with its target model in place, and how the model was found.

        Raises AWS's ValidationError for a missing, malformed or absent target model, and
        ArtifactError when the object is there but the container cannot load it (the runtime
        answers that as the container's failure, a ModelError).
        """
        prefix_url = variant.model_data_prefix
        assert prefix_url is not None
        if target is None:
            raise _validation(f"Request {request_id} is missing a target model header.")
        check_target_model(target)
        location = split_prefix(prefix_url)
        if location is None:
            raise download_failure(prefix_url, target)
        bucket, prefix = location
        key = f"{prefix}{target}"
        fleet: _FleetKey = (account_id, region, endpoint, created, variant.name)
        with self._lock:
            loaded = self._loaded.setdefault(fleet, {})
            model = loaded.get(target)
            count = len(loaded)
        if model is not None:
            return dataclasses.replace(variant, model=model), ModelLoad(True, count)
        started = time.perf_counter()
        found = moto_bridge.read_s3_object(account_id, region, bucket, key)
        downloaded = time.perf_counter()
        if found is None:
            raise download_failure(bucket, key)
        model = load_artifact(found.data)
        finished = time.perf_counter()
        with self._lock:
            loaded = self._loaded.setdefault(fleet, {})
            model = loaded.setdefault(target, model)
            count = len(loaded)
        load = ModelLoad(
            False,
            count,
            downloading_us=round((downloaded - started) * 1e6),
            loading_us=round((finished - downloaded) * 1e6),
        )
        return dataclasses.replace(variant, model=model), load

    def clear(self) -> None:
        with self._lock:
            self._loaded.clear()


def _histogram(
    metric: str, values: Iterable[int], dimensions: tuple[tuple[str, str], ...]
) -> MetricDatum | None:
    counts: dict[int, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    if not counts:
        return None
    ordered = sorted(counts)
    return MetricDatum(
        metric,
        dimensions,
        [float(v) for v in ordered],
        [float(counts[v]) for v in ordered],
        MICROSECONDS,
    )


def loading_data(
    loads: list[ModelLoad], instance_count: int | None, dimensions: tuple[tuple[str, str], ...]
) -> list[MetricDatum]:
    """The AWS/SageMaker multi-model datums for one variant-minute of requests."""
    if not loads:
        return []
    hits = sum(load.cache_hit for load in loads)
    cache_values, cache_counts = [], []
    for value, count in ((0.0, len(loads) - hits), (1.0, hits)):
        if count:
            cache_values.append(value)
            cache_counts.append(float(count))
    instances = max(1, instance_count or 1)
    data = [
        MetricDatum("ModelCacheHit", dimensions, cache_values, cache_counts),
        # Every instance holds the variant's loaded models, one datum per instance.
        MetricDatum(
            "LoadedModelCount",
            dimensions,
            [float(max(load.loaded_count for load in loads))],
            [float(instances)],
        ),
    ]
    misses = [load for load in loads if not load.cache_hit]
    for metric, values in (
        ("ModelLoadingWaitTime", [load.waiting_us for load in misses]),
        ("ModelDownloadingTime", [load.downloading_us for load in misses]),
        ("ModelLoadingTime", [load.loading_us for load in misses]),
    ):
        datum = _histogram(metric, values, dimensions)
        if datum is not None:
            data.append(datum)
    return data
