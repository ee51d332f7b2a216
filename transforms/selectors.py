"""Reads for the transform pages."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from transforms.models import TransformJob, TransformSource

PAGE_SIZE = 50


def target_region_choices() -> list[tuple[str, str]]:
    """`target/region` values for the launch form and filters."""
    return [
        (f"{t.name}/{region}", f"{t.name} · {t.account_id} · {region}")
        for t in settings.OPSPORTAL_TARGETS
        for region in t.regions
    ]


def job_queryset(
    *, target_region: str = "", status: str = "", source: str = "", text: str = ""
) -> QuerySet[TransformJob]:
    jobs = TransformJob.objects.select_related("created_by")
    if target_region:
        target, _, region = target_region.partition("/")
        jobs = jobs.filter(target=target, region=region)
    if status:
        jobs = jobs.filter(status=status)
    if source:
        jobs = jobs.filter(source=source)
    if text:
        jobs = jobs.filter(name__icontains=text) | jobs.filter(model_name__icontains=text)
    return jobs.order_by("-launched_at", "-creation_time", "name")


def job_page(
    *, target_region: str = "", status: str = "", source: str = "", text: str = "", page: int = 1
) -> Page:
    jobs = job_queryset(target_region=target_region, status=status, source=source, text=text)
    return Paginator(jobs, PAGE_SIZE).get_page(page)


def job_detail(*, pk: str) -> TransformJob | None:
    return TransformJob.objects.select_related("created_by").filter(pk=pk).first()


def recent_jobs(limit: int = 20) -> list[TransformJob]:
    """Jobs to copy a launch from."""
    return list(TransformJob.objects.order_by("-launched_at", "-creation_time")[:limit])


def portal_jobs_named(names: set[str]) -> list[TransformJob]:
    """The jobs the portal launched under these TransformJobNames (one query)."""
    return list(TransformJob.objects.filter(source=TransformSource.PORTAL, name__in=names))
