"""Reads from AWS for transform pages: the output preview (one ranged GetObject per `.out`
object, never the whole object) and the model names of a region for the launch form.

Both are cached: a Completed job's output never changes, so its preview is read once an
hour at most; model names are kept for a minute so reloading the form or switching region
back and forth does not call ListModels each time. Failures are not cached, and degrade to
an error message instead of failing the page."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.core.cache import cache

from core.aws import s3 as aws_s3
from core.aws import transform as aws_transform
from core.aws.errors import AwsError
from core.targets import target_by_name, target_regions
from transforms.models import TransformJob, TransformStatus

PREVIEW_LINES = 20
PREVIEW_OBJECTS = 10
PREVIEW_CACHE_SECONDS = 3600
MODELS_CACHE_SECONDS = 60


@dataclass
class PreviewObject:
    """The first lines of one output object, split into cells."""

    key: str
    size: int
    truncated: bool
    header: list[str]
    rows: list[list[str]]


@dataclass
class Preview:
    objects: list[PreviewObject] = field(default_factory=list)
    error: str = ""


def _rows(job: TransformJob, text: str, truncated: bool) -> list[list[str]]:
    lines = text.splitlines()
    if truncated and lines:
        lines = lines[:-1]  # the range probably cut the last line
    lines = [line for line in lines if line.strip()][:PREVIEW_LINES]
    if "csv" in (job.accept or job.content_type):
        return [list(row) for row in csv.reader(io.StringIO("\n".join(lines)))]
    return [[line] for line in lines]


def _header(job: TransformJob, width: int) -> list[str]:
    """With JoinSource=Input the prediction is appended after the input columns, so the
    last column is the prediction and the others came from the input."""
    if width == 0:
        return []
    if job.join_source == "Input":
        return [f"input {i + 1}" for i in range(width - 1)] + ["prediction"]
    return ["prediction"] if width == 1 else [f"output {i + 1}" for i in range(width)]


def output_preview(*, job: TransformJob) -> Preview:
    key = f"transform-preview:{job.pk}:{job.status}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    preview = _read_preview(job)
    if not preview.error and job.status == TransformStatus.COMPLETED:
        cache.set(key, preview, PREVIEW_CACHE_SECONDS)
    return preview


def _read_preview(job: TransformJob) -> Preview:
    preview = Preview()
    try:
        destination = aws_s3.parse_s3_uri(job.output_path)
        target = target_by_name(job.target)
        prefix = destination.key.rstrip("/") + "/" if destination.key else ""
        objects = aws_s3.list_objects(
            target=target,
            region=job.region,
            bucket=destination.bucket,
            prefix=prefix,
            suffix=".out",
            limit=PREVIEW_OBJECTS,
        )
        for item in objects:
            head = aws_s3.read_head(
                target=target, region=job.region, bucket=destination.bucket, key=item.key
            )
            text = head.body.decode("utf-8", errors="replace")
            rows = _rows(job, text, head.truncated)
            width = max((len(r) for r in rows), default=0)
            preview.objects.append(
                PreviewObject(
                    key=item.key,
                    size=head.size,
                    truncated=head.truncated,
                    header=_header(job, width),
                    rows=rows,
                )
            )
    except (AwsError, ValueError, LookupError) as exc:
        preview.error = f"Could not read the output: {exc}"
    return preview


def model_names(*, target_name: str, region: str) -> tuple[list[str], str]:
    """The region's model names, or an empty list and why. Only a configured target-region
    is asked (the name comes from the browser)."""
    if not any(t.name == target_name and r == region for t, r in target_regions()):
        return [], "Choose one of the configured accounts and regions."
    key = f"transform-models:{target_name}:{region}"
    cached = cache.get(key)
    if cached is not None:
        return cached, ""
    try:
        names = aws_transform.list_model_names(target=target_by_name(target_name), region=region)
    except (AwsError, LookupError) as exc:
        return [], f"Could not list models: {exc}"
    cache.set(key, names, MODELS_CACHE_SECONDS)
    return names, ""
