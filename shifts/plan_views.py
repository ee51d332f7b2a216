"""Staged-shift pages: the propose form (from a template or from scratch, with "save as
template"), the live plan panel polled by htmx on the change's page, and the controls.

As elsewhere in shifts the services decide every rule: their Invalid lands on the form
(400), Conflict on the change's page (409), Refused is the 403 page.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import Conflict, Invalid, Refused
from core.forms import add_errors
from core.roles import Role, role_required
from core.views import error_response
from endpoints.selectors import endpoint_or_404
from shifts import live, selectors, services
from shifts.forms import CommentForm
from shifts.models import ShiftProposal
from shifts.plan_forms import PlanForm, TemplateForm, initial_from_template

# Safety actions take a reason; moving on takes an optional comment.
WITH_REASON = {"pause": services.plan_pause, "abort": services.plan_abort}
WITH_COMMENT = {"resume": services.plan_resume, "promote": services.plan_promote}


@require_http_methods(["GET", "POST"])
@role_required(Role.OPERATOR)
def plan_propose(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the form (filled from `?template=`); POST proposes, or with
    action=save_template saves the fields as a template and shows the form again."""
    endpoint = endpoint_or_404(pk)
    variants = [v.name for v in endpoint.variants.all() if not v.is_shadow]
    templates = selectors.plan_templates(endpoint=endpoint)
    choices = [
        (t.pk, f"{t.name} ({'this endpoint' if t.endpoint_id else 'every endpoint'})")
        for t in templates
    ]
    initial = {}
    chosen = request.GET.get("template", "")
    if request.method == "GET" and chosen.isdigit():
        template = selectors.plan_template(endpoint=endpoint, template_id=int(chosen))
        if template is not None:
            initial = {**initial_from_template(template.spec), "template": template.pk}
    form = PlanForm(
        request.POST or None,
        initial=initial,
        variants=variants,
        alarms=selectors.gate_alarm_names(endpoint=endpoint),
        templates=choices,
    )
    saving = request.POST.get("action") == "save_template"
    template_form = TemplateForm(request.POST if saving else None)
    status = 200
    if request.method == "POST":
        if saving:
            # A template needs no reason: only its plan fields are checked.
            form.fields["reason"].required = False
        valid = form.is_valid() and (not saving or template_form.is_valid())
        if valid:
            try:
                if saving:
                    services.plan_template_save(
                        actor=request.user,
                        name=template_form.cleaned_data["name"],
                        spec=form.spec(),
                        endpoint_id=endpoint.pk
                        if template_form.cleaned_data["scope"] == "endpoint"
                        else None,
                        request=request,
                    )
                    messages.success(
                        request, f"Template {template_form.cleaned_data['name']!r} saved."
                    )
                    return redirect("shifts:plan_propose", pk=endpoint.pk)
                created = services.plan_propose(
                    endpoint_id=endpoint.pk,
                    actor=request.user,
                    spec=form.spec(),
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except Refused as exc:
                return error_response(request, exc)
            except (Conflict, Invalid) as exc:
                add_errors(form, exc)
            else:
                messages.success(
                    request, f"Staged shift #{created.pk} proposed; an Approver must act."
                )
                return redirect("shifts:detail", pk=created.pk)
        status = 400
    context = {
        "endpoint": endpoint,
        "tab": "change_requests",
        "form": form,
        "template_form": template_form,
        "templates": templates,
        "variants": variants,
    }
    return render(request, "shifts/plan_form.html", context, status=status)


def _plan_or_404(pk: int) -> ShiftProposal:
    proposal = selectors.proposal_detail(pk=pk)
    if proposal is None or not proposal.is_plan:
        raise Http404("No such staged shift.")
    return proposal


@require_GET
@role_required(Role.VIEWER)
def plan_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The live plan panel alone, polled by htmx while the plan moves."""
    proposal = _plan_or_404(pk)
    context = {"plan": selectors.plan_view(proposal=proposal, user=request.user)}
    return render(request, "shifts/partials/_plan.html", context)


@require_GET
@role_required(Role.VIEWER)
def plan_chart(request: HttpRequest, pk: int) -> HttpResponse:
    """The candidate-vs-baseline chart alone (CloudWatch, through the endpoint's cached
    metrics panel), refreshed once a minute while the plan moves."""
    proposal = _plan_or_404(pk)
    chart = live.plan_chart(proposal=proposal)
    context = {
        "proposal": proposal,
        "chart": chart,
        "series_json": json.dumps(chart.series),
        "boundaries_json": json.dumps(chart.boundaries),
        "active": proposal.is_open,
    }
    return render(request, "shifts/partials/_plan_chart.html", context)


@require_POST
@role_required(Role.OPERATOR)
def plan_control(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Pause, abort, resume or promote; back to the change's page with what happened."""
    if action not in WITH_REASON and action not in WITH_COMMENT:
        raise Http404("No such plan action.")
    proposal = _plan_or_404(pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Keep the comment under 2,000 characters.")
        return redirect("shifts:detail", pk=proposal.pk)
    text = form.cleaned_data["comment"]
    try:
        if action in WITH_REASON:
            WITH_REASON[action](
                proposal_id=proposal.pk, actor=request.user, reason=text, request=request
            )
        else:
            WITH_COMMENT[action](
                proposal_id=proposal.pk, actor=request.user, comment=text, request=request
            )
    except Refused as exc:
        return error_response(request, exc)
    except (Conflict, Invalid) as exc:
        messages.error(request, str(exc))
        return redirect("shifts:detail", pk=proposal.pk)
    done = {"pause": "paused", "abort": "rolling back", "resume": "resumed", "promote": "promoted"}
    messages.success(request, f"Plan {done[action]}.")
    return redirect("shifts:detail", pk=proposal.pk)
