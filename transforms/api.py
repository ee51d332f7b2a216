"""Batch transform jobs in the REST API: list, one job, launch (the launch form's fields
and the same pre-flight checks) and stop."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router, Schema

from core.api.access import require_role
from core.api.idempotency import OPENAPI_EXTRA, idempotent, json_response
from core.api.paging import PageQuery, offset_page, page_body
from core.errors import Invalid
from core.redaction import redact
from core.roles import Role
from transforms import selectors, services
from transforms.forms import TransformLaunchForm
from transforms.models import TransformJob

router = Router(tags=["batch transform jobs"])


class JobOut(Schema):
    id: str
    name: str
    status: str
    source: str
    target: str
    account_id: str
    region: str
    model_name: str
    input_uri: str
    output_path: str
    instance_type: str
    instance_count: int
    failure_reason: str
    created_by: str | None
    launched_at: datetime | None
    start_time: datetime | None
    end_time: datetime | None
    url: str


class JobDetailOut(JobOut):
    content_type: str
    split_type: str
    compression_type: str
    batch_strategy: str
    max_payload_mb: int
    max_concurrent_transforms: int
    accept: str
    assemble_with: str
    input_filter: str
    output_filter: str
    join_source: str
    environment: dict[str, str]
    status_history: list[Any]


class JobPage(Schema):
    items: list[JobOut]
    next_cursor: str | None


class JobFilters(PageQuery):
    status: str = ""
    target_region: str = ""
    source: str = ""
    text: str = ""


class LaunchIn(Schema):
    """The launch form's fields by name (transforms/forms.py); `environment` is KEY=value
    lines, as on the form."""

    target_region: str
    name: str = ""
    model_name: str
    input_uri: str
    content_type: str
    split_type: str = "Line"
    compression_type: str = "None"
    batch_strategy: str = "MultiRecord"
    max_payload_mb: int = 6
    max_concurrent_transforms: int = 1
    instance_type: str = "ml.m5.xlarge"
    instance_count: int = 1
    output_path: str
    accept: str = ""
    assemble_with: str = "Line"
    input_filter: str = ""
    output_filter: str = ""
    join_source: str = ""
    kms_key_id: str = ""
    environment: str = ""
    overwrite_output: bool = False


def job_body(job: TransformJob, *, detail: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(job.pk),
        "name": job.name,
        "status": job.status,
        "source": job.source,
        "target": job.target,
        "account_id": job.account_id,
        "region": job.region,
        "model_name": job.model_name,
        "input_uri": job.input_uri,
        "output_path": job.output_path,
        "instance_type": job.instance_type,
        "instance_count": job.instance_count,
        "failure_reason": job.failure_reason,
        "created_by": job.created_by.get_username() if job.created_by else None,
        "launched_at": job.launched_at,
        "start_time": job.start_time,
        "end_time": job.end_time,
        "url": reverse("transforms:detail", kwargs={"pk": job.pk}),
    }
    if detail:
        body.update(
            {
                name: getattr(job, name)
                for name in (
                    "content_type",
                    "split_type",
                    "compression_type",
                    "batch_strategy",
                    "max_payload_mb",
                    "max_concurrent_transforms",
                    "accept",
                    "assemble_with",
                    "input_filter",
                    "output_filter",
                    "join_source",
                    "status_history",
                )
            }
        )
        body["environment"] = redact(job.environment)
    return body


def _job(job_id: str) -> TransformJob:
    try:
        pk = str(uuid.UUID(job_id))
    except ValueError:
        raise Http404("No such transform job.") from None
    job = selectors.job_detail(pk=pk)
    if job is None:
        raise Http404("No such transform job.")
    return job


@router.get("/jobs", response=JobPage, summary="List batch transform jobs")
def job_list(request: HttpRequest, filters: Query[JobFilters]) -> dict[str, Any]:
    require_role(request, Role.VIEWER, "Reading batch transform jobs")
    queryset = selectors.job_queryset(
        target_region=filters.target_region,
        status=filters.status,
        source=filters.source,
        text=filters.text.strip(),
    )
    items, next_cursor = offset_page(queryset, cursor=filters.cursor, limit=filters.limit)
    return page_body([job_body(j) for j in items], next_cursor)


@router.get("/jobs/{job_id}", response=JobDetailOut, summary="One batch transform job")
def job_get(request: HttpRequest, job_id: str) -> dict[str, Any]:
    require_role(request, Role.VIEWER, "Reading batch transform jobs")
    return job_body(_job(job_id), detail=True)


@router.post(
    "/jobs",
    response={201: JobDetailOut},
    summary="Launch a batch transform job",
    openapi_extra=OPENAPI_EXTRA,
)
def job_launch(request: HttpRequest, body: LaunchIn) -> HttpResponse:
    """Checked as the launch form checks it (fields, then S3, model and quota pre-flight);
    a problem names each field that is wrong."""
    require_role(request, Role.OPERATOR, "Launching a batch transform job")

    def run() -> HttpResponse:
        data = body.dict()
        data["overwrite_output"] = "on" if data["overwrite_output"] else ""
        form = TransformLaunchForm(data)
        if not form.is_valid():
            raise Invalid(
                "The job cannot be launched as given.",
                errors={
                    ("request" if field == "__all__" else field): [str(m) for m in messages]
                    for field, messages in form.errors.items()
                },
            )
        job = services.transform_job_launch(
            launch=form.launch(), actor=request.user, request=request
        )
        return json_response(job_body(job, detail=True), status=201)

    return idempotent(request, run)


@router.post("/jobs/{job_id}/stop", response=JobDetailOut, summary="Stop a running job")
def job_stop(request: HttpRequest, job_id: str) -> dict[str, Any]:
    require_role(request, Role.OPERATOR, "Stopping a batch transform job")
    job = services.transform_job_stop(job=_job(job_id), actor=request.user, request=request)
    return job_body(job, detail=True)
