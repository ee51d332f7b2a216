"""Change-request pages beyond traffic: the endpoint's Change requests tab, the forms for
capacity, auto scaling, deploy and rollback changes, and the live deployment panel.

As in views.py the services decide every rule: a form only parses, Preview runs the same
checks without saving (shifts.live), a submit calls `change_propose` or
`change_emergency`, and their Invalid lands on the form (400), Refused is the 403 page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core.aws.types import EndpointStatus
from core.errors import Conflict, Invalid, Refused
from core.forms import add_errors
from core.roles import Role, role_required
from core.views import error_response
from endpoints.selectors import endpoint_or_404, production_capacities
from shifts import live, policy, selectors, services
from shifts.change_forms import (
    AutoScalingForm,
    CapacityForm,
    ChangeForm,
    ChooseScalingForm,
    DeployForm,
    RollbackForm,
    offered_strategies,
)
from shifts.changes import autoscaling as scaling
from shifts.models import ChangeType, ShiftProposal

if TYPE_CHECKING:
    from endpoints.models import Endpoint

TAB = "change_requests"
KINDS: dict[str, str] = {
    "capacity": ChangeType.CAPACITY,
    "autoscaling": ChangeType.AUTOSCALING,
    "deploy": ChangeType.DEPLOY,
    "rollback": ChangeType.ROLLBACK,
}
TITLES: dict[str, str] = {
    ChangeType.CAPACITY: "Change capacity",
    ChangeType.AUTOSCALING: "Change auto scaling",
    ChangeType.DEPLOY: "Deploy a model version",
    ChangeType.ROLLBACK: "Roll back to an earlier config",
}


@require_GET
@role_required(Role.VIEWER)
def endpoint_changes(request: HttpRequest, pk: int) -> HttpResponse:
    """The endpoint's capacity, auto scaling (with its recent activities, read live), the
    configs it has run, and its change requests of every type, with the buttons."""
    endpoint = endpoint_or_404(pk)
    scaling_state = selectors.endpoint_scaling(endpoint=endpoint)
    activities = live.endpoint_activities(endpoint=endpoint, scaling=scaling_state)
    shifts = selectors.endpoint_shifts(endpoint_id=endpoint.pk)
    can_propose = policy.refusal_for("propose", request.user) is None
    context = {
        "endpoint": endpoint,
        "tab": TAB,
        "scaling": scaling_state,
        "variants": [(row, activities.get(row.name)) for row in scaling_state.variants],
        "alarms": selectors.alarms_of(endpoint=endpoint),
        "configs": selectors.config_rows(endpoint=endpoint),
        "shifts": shifts,
        "history": selectors.endpoint_history(endpoint_id=endpoint.pk),
        "can_propose": can_propose,
        "can_emergency": policy.refusal_for("emergency", request.user) is None,
        "may_propose_now": can_propose
        and endpoint.deleted_at is None
        and endpoint.status == EndpointStatus.IN_SERVICE
        and not shifts.open,
    }
    return render(request, "shifts/endpoint_changes.html", context)


@dataclass
class FormPage:
    """A change form and what its page shows beside the fields."""

    form: ChangeForm
    extra: dict[str, Any]


def _capacity_page(request: HttpRequest, endpoint: Endpoint) -> FormPage:
    capacity = production_capacities(endpoint_id=endpoint.pk)
    return FormPage(CapacityForm(request.POST or None, capacity=capacity), {})


def _scaling_page(request: HttpRequest, endpoint: Endpoint) -> FormPage:
    state = selectors.endpoint_scaling(endpoint=endpoint)
    variants = [row.name for row in state.variants if not row.serverless]
    chooser = ChooseScalingForm(
        request.POST if request.method == "POST" else (request.GET or None), variants=variants
    )
    variant, action = chooser.chosen()
    row = next((r for r in state.variants if r.name == variant), None)
    form = AutoScalingForm(
        request.POST or None,
        variants=variants,
        variant=variant,
        action=action,
        entry=row.scaling if row else None,
    )
    extra = {
        "chooser": ChooseScalingForm(
            initial={"variant": variant, "operation": action}, variants=variants
        ),
        "variant_row": row,
        "action_label": scaling.ACTIONS.get(action, ""),
        "scaling_action": action,
        "scaling_error": state.error,
        "serverless_only": not variants,
    }
    return FormPage(form, extra)


def _deployment_setup(form: DeployForm | RollbackForm, endpoint: Endpoint) -> dict[str, Any]:
    variants = (endpoint.config_raw or {}).get("ProductionVariants") or []
    serverless = any("ServerlessConfig" in v for v in variants if isinstance(v, dict))
    offered, not_offered = offered_strategies(
        production_variants=len(variants), serverless=serverless
    )
    alarms = selectors.alarms_of(endpoint=endpoint).health
    health = [a.name for a in alarms]
    # An alarm already in ALARM would roll the deployment back at its first bake (the
    # usual case when rolling back during an incident): offered, but not ticked.
    quiet = [a.name for a in alarms if a.state != "ALARM"]
    form.setup_deployment(
        strategies=offered, alarms=health, default_alarms=None if form.is_bound else quiet
    )
    return {"not_offered": not_offered, "health_alarms": health}


def _deploy_page(request: HttpRequest, endpoint: Endpoint) -> FormPage:
    models, models_error = live.model_names(endpoint=endpoint)
    all_variants = list(endpoint.variants.all())
    variants = [v.name for v in all_variants if not v.is_shadow]
    # The shadow test's "Propose promoting" link fills the form in; the person still chooses.
    prefilled = ("variant", "model", "instance_type", "instance_count", "end_shadow_test")
    initial = (
        {k: request.GET[k] for k in prefilled if k in request.GET}
        if request.method == "GET"
        else {}
    )
    form = DeployForm(
        request.POST or None,
        variants=variants,
        models=models,
        has_shadow=any(v.is_shadow for v in all_variants),
        initial=initial,
    )
    extra = {"models_error": models_error, "model_count": len(models or [])}
    extra.update(_deployment_setup(form, endpoint))
    return FormPage(form, extra)


def _rollback_page(request: HttpRequest, endpoint: Endpoint) -> FormPage:
    older = [row.name for row in selectors.config_rows(endpoint=endpoint) if not row.current]
    initial = {"config_name": request.GET.get("config", "")} if request.method == "GET" else {}
    form = RollbackForm(request.POST or None, configs=older, initial=initial)
    extra = {"older_configs": older}
    extra.update(_deployment_setup(form, endpoint))
    return FormPage(form, extra)


PAGES: dict[str, Callable[[HttpRequest, Endpoint], FormPage]] = {
    ChangeType.CAPACITY: _capacity_page,
    ChangeType.AUTOSCALING: _scaling_page,
    ChangeType.DEPLOY: _deploy_page,
    ChangeType.ROLLBACK: _rollback_page,
}


def _change(kind: str) -> str:
    change = KINDS.get(kind)
    if change is None:
        raise Http404("No such kind of change.")
    return change


def _submit(
    request: HttpRequest, *, endpoint: Endpoint, change: str, mode: str, page: FormPage
) -> HttpResponse | None:
    """Propose (or make at once) the change; the redirect, or None with the refusal on
    the form."""
    form = page.form
    service = services.change_emergency if mode == "emergency" else services.change_propose
    try:
        created = service(
            endpoint_id=endpoint.pk,
            actor=request.user,
            change=change,
            spec=form.spec(),
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except Refused as exc:
        return error_response(request, exc)
    except (Conflict, Invalid) as exc:
        add_errors(form, exc)
        return None
    if mode == "emergency":
        messages.warning(request, f"Emergency change #{created.pk} is being applied now.")
    else:
        messages.success(request, f"Change #{created.pk} proposed; an Approver must act.")
    return redirect("shifts:detail", pk=created.pk)


def _change_form(request: HttpRequest, *, pk: int, kind: str, mode: str) -> HttpResponse:
    """GET shows the form; an htmx POST or the Preview button previews (runs the checks,
    saves nothing); a plain POST proposes, or with `mode` emergency applies at once."""
    change = _change(kind)
    endpoint = endpoint_or_404(pk)
    page = PAGES[change](request, endpoint)
    form = page.form
    previewing = bool(request.headers.get("HX-Request")) or request.POST.get("action") == "preview"
    submitted = request.method == "POST" and not previewing
    if submitted and form.is_valid():
        response = _submit(request, endpoint=endpoint, change=change, mode=mode, page=page)
        if response is not None:
            return response
    preview = None
    if request.method == "POST" and previewing:
        spec = form.spec_or_none()
        if spec is not None:
            preview = live.change_preview(endpoint=endpoint, change=change, spec=spec)
    context = {
        "endpoint": endpoint,
        "tab": TAB,
        "form": form,
        "kind": kind,
        "change": change,
        "mode": mode,
        "title": TITLES[change],
        "preview": preview,
        "previewing": previewing,
        "can_emergency": mode != "emergency"
        and policy.refusal_for("emergency", request.user) is None,
        **page.extra,
    }
    status = 400 if submitted and form.errors else 200
    if request.method == "POST" and request.headers.get("HX-Request"):
        # The preview alone; an htmx GET (the auto scaling chooser) takes the whole page and
        # swaps the part it selects.
        return render(request, "shifts/partials/_change_preview.html", context, status=status)
    return render(request, "shifts/change_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@role_required(Role.OPERATOR)
def change_propose(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    return _change_form(request, pk=pk, kind=kind, mode="propose")


@require_http_methods(["GET", "POST"])
@role_required(Role.OPERATOR)
def change_emergency(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    why = policy.refusal_for("emergency", request.user)
    if why:
        raise PermissionDenied(why)
    return _change_form(request, pk=pk, kind=kind, mode="emergency")


@require_GET
@role_required(Role.VIEWER)
def deployment_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The live deployment panel of a deploy or rollback alone, polled by htmx while the
    change is approved or applying."""
    proposal = selectors.proposal_detail(pk=pk)
    if proposal is None or proposal.change not in (ChangeType.DEPLOY, ChangeType.ROLLBACK):
        raise Http404("No such deploy or rollback.")
    context = {"proposal": proposal, "deployment": live.deployment_panel(proposal=proposal)}
    return render(request, "shifts/partials/_deployment.html", context)


def is_config_change(proposal: ShiftProposal) -> bool:
    return proposal.change in (ChangeType.DEPLOY, ChangeType.ROLLBACK)
