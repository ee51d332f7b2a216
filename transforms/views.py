"""Batch transform pages: list, launch (with copy-from), detail with live status and
output preview, and stop."""

from __future__ import annotations

import json
import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import Conflict, Invalid
from core.forms import add_errors
from core.redaction import redact
from core.roles import Role, role_required
from transforms import live, policy, selectors, services
from transforms.forms import TransformFilterForm, TransformLaunchForm, initial_from
from transforms.models import TransformJob


def _job_or_404(pk: uuid.UUID) -> TransformJob:
    job = selectors.job_detail(pk=str(pk))
    if job is None:
        raise Http404("No such transform job.")
    return job


@require_GET
@role_required(Role.VIEWER)
def job_list(request: HttpRequest) -> HttpResponse:
    form = TransformFilterForm(request.GET or None)
    page = None
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        page = selectors.job_page(
            target_region=data.get("target_region") or "",
            status=data.get("status") or "",
            source=data.get("source") or "",
            text=(data.get("text") or "").strip(),
            page=data.get("page") or 1,
        )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "can_launch": policy.refusal_for("launch", request.user) is None,
    }
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "transforms/job_list.html", context, status=status)


@require_http_methods(["GET", "POST"])
@role_required(Role.OPERATOR)
def job_launch(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = TransformLaunchForm(request.POST)
        if form.is_valid():
            try:
                job = services.transform_job_launch(
                    launch=form.launch(), actor=request.user, request=request
                )
            except Invalid as rejected:
                add_errors(form, rejected)
            else:
                messages.success(request, f"Transform job {job.name} launched.")
                return redirect("transforms:detail", pk=job.pk)
        status = 400
    else:
        initial: dict[str, object] = {}
        copy = request.GET.get("copy", "")
        if copy:
            try:
                source = selectors.job_detail(pk=str(uuid.UUID(copy)))
            except ValueError:
                source = None
            if source is not None:
                initial = initial_from(source)
        form = TransformLaunchForm(initial=initial)
    region = (
        form["target_region"].value() or next(iter(selectors.target_region_choices()), ("",))[0]
    )
    target_name, _, region_name = str(region).partition("/")
    models, models_error = live.model_names(target_name=target_name, region=region_name)
    context = {
        "form": form,
        "models": models,
        "models_error": models_error,
        "recent": selectors.recent_jobs(),
    }
    return render(request, "transforms/job_launch.html", context, status=status)


@require_GET
@role_required(Role.OPERATOR)
def model_options(request: HttpRequest) -> HttpResponse:
    """The model choices of another account/region, for the launch form (htmx)."""
    target_name, _, region = request.GET.get("target_region", "").partition("/")
    models, models_error = live.model_names(target_name=target_name, region=region)
    context = {"models": models, "models_error": models_error}
    return render(request, "transforms/partials/_model_options.html", context)


def _detail_context(request: HttpRequest, job: TransformJob) -> dict[str, object]:
    return {
        "job": job,
        "can_stop": policy.refusal_for("stop", request.user) is None,
        "can_launch": policy.refusal_for("launch", request.user) is None,
        "environment_json": json.dumps(redact(job.environment), indent=2, sort_keys=True),
    }


@require_GET
@role_required(Role.VIEWER)
def job_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    job = _job_or_404(pk)
    return render(request, "transforms/job_detail.html", _detail_context(request, job))


@require_GET
@role_required(Role.VIEWER)
def job_status(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """The status panel alone; the detail page polls it while the job runs."""
    job = _job_or_404(pk)
    return render(request, "transforms/partials/_status.html", _detail_context(request, job))


@require_GET
@role_required(Role.VIEWER)
def job_preview(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    job = _job_or_404(pk)
    context = {"job": job, "preview": live.output_preview(job=job)}
    return render(request, "transforms/partials/_preview.html", context)


@require_POST
@role_required(Role.OPERATOR)
def job_stop(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    job = _job_or_404(pk)
    try:
        services.transform_job_stop(job=job, actor=request.user, request=request)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Stop of {job.name} requested.")
    return redirect("transforms:detail", pk=job.pk)
