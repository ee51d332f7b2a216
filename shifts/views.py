"""Traffic-shift pages: parse input, check the role, call one service or selector, render.

Services enforce every rule (self-approval, roles, states, through shifts.policy); the
views only turn their refusals into pages: Refused → 403 (already audited by the
service), Conflict → 409 with the reason, Invalid → the form with its errors (400).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apihistory.selectors import trail_event_by_request
from core.errors import Conflict, Invalid, Refused
from core.forms import add_errors
from core.roles import Role, role_required
from core.views import error_response
from endpoints.selectors import endpoint_or_404, variant_shares
from shifts import live, policy, selectors, services
from shifts.changes import change_of
from shifts.forms import CommentForm, ProposalFilterForm, ShiftForm
from shifts.models import ChangeType, ShiftProposal, ShiftState
from shifts.reversions import reverted_outside
from shifts.weights import shares

if TYPE_CHECKING:
    from apihistory.models import TrailEvent
    from endpoints.models import Endpoint


def _trail_event(proposal: ShiftProposal) -> TrailEvent | None:
    """The CloudTrail record of the SageMaker call that made the change (the shift's
    UpdateEndpointWeightsAndCapacities, a deploy's UpdateEndpoint), once ingested."""
    event_name = selectors.trail_event_name(proposal)
    if not event_name:
        return None
    return trail_event_by_request(
        account_id=proposal.endpoint.account_id,
        region=proposal.endpoint.region,
        event_name=event_name,
        endpoint_name=proposal.endpoint.name,
        request_id=proposal.aws_request_id,
        sent_at=proposal.update_sent_at,
    )


def _proposal_or_404(pk: int) -> ShiftProposal:
    proposal = selectors.proposal_detail(pk=pk)
    if proposal is None:
        raise Http404("No such change request.")
    return proposal


@require_GET
@role_required(Role.VIEWER)
def shift_list(request: HttpRequest) -> HttpResponse:
    form = ProposalFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    page_number = 1
    if form.is_bound and form.is_valid():
        filters = {
            "endpoint": (form.cleaned_data.get("endpoint") or "").strip(),
            "state": form.cleaned_data.get("state") or "",
            "person": (form.cleaned_data.get("person") or "").strip(),
            "change": form.cleaned_data.get("change") or "",
        }
        page_number = form.cleaned_data.get("page") or 1
    status = 400 if form.is_bound and not form.is_valid() else 200
    pending = (
        selectors.pending_rows(**filters)
        if filters.get("state", "") in ("", ShiftState.PENDING)
        else []
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "pending": pending,
        "history": selectors.history_page(page=page_number, **filters),
        "query": query.urlencode(),
    }
    return render(request, "shifts/list.html", context, status=status)


def _detail_context(request: HttpRequest, proposal: ShiftProposal) -> dict[str, Any]:
    context: dict[str, Any] = {
        "proposal": proposal,
        "endpoint": proposal.endpoint,
        "actions": selectors.proposal_actions(proposal=proposal, user=request.user),
        "comment_form": CommentForm(),
        "trail_event": _trail_event(proposal),
        "reversion": reverted_outside(proposal=proposal),
    }
    if proposal.is_traffic:
        context["rows"] = selectors.share_rows(proposal.before_weights, proposal.desired_weights)
    else:
        context["change_view"] = selectors.change_view(proposal=proposal)
    if proposal.is_plan:
        context["plan"] = selectors.plan_view(proposal=proposal, user=request.user)
    if proposal.state == ShiftState.PENDING:
        # Said before anyone clicks Approve: an approval now would only supersede it.
        context["moved"] = change_of(proposal).moved_in_inventory(proposal=proposal)
    sent_or_sending = proposal.update_sent_at is not None or proposal.state in (
        ShiftState.APPROVED,
        ShiftState.APPLYING,
    )
    if proposal.change in (ChangeType.DEPLOY, ChangeType.ROLLBACK) and sent_or_sending:
        context["deployment"] = live.deployment_panel(proposal=proposal)
    return context


def _detail(request: HttpRequest, pk: int, *, status: int = 200, error: str = "") -> HttpResponse:
    context = _detail_context(request, _proposal_or_404(pk))
    context["error"] = error
    return render(request, "shifts/detail.html", context, status=status)


@require_GET
@role_required(Role.VIEWER)
def shift_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, pk)


@require_GET
@role_required(Role.VIEWER)
def shift_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The state panel alone, polled by htmx while the shift is open."""
    proposal = _proposal_or_404(pk)
    context = {"proposal": proposal, "trail_event": _trail_event(proposal)}
    return render(request, "shifts/partials/_state.html", context)


@require_GET
@role_required(Role.VIEWER)
def endpoint_traffic(request: HttpRequest, pk: int) -> HttpResponse:
    """The endpoint's Traffic tab: the live split, open and past shifts, and the buttons."""
    endpoint = endpoint_or_404(pk)
    context = {
        "endpoint": endpoint,
        "tab": "traffic",
        "variants": variant_shares(list(endpoint.variants.all())),
        "shifts": selectors.endpoint_shifts(endpoint_id=endpoint.pk),
        "history": selectors.endpoint_history(endpoint_id=endpoint.pk),
        "can_emergency": policy.refusal_for("emergency", request.user) is None,
        "can_propose": policy.refusal_for("propose", request.user) is None,
    }
    return render(request, "shifts/endpoint_traffic.html", context)


def _shift_form_page(
    request: HttpRequest,
    *,
    endpoint: Endpoint,
    mode: str,
    proposal: ShiftProposal | None = None,
) -> HttpResponse:
    """Propose, edit and emergency share one form: GET shows it, an htmx POST (or the
    Preview button) previews the split, a plain POST submits."""
    current = selectors.live_weights(endpoint=endpoint)
    initial: dict[str, Any] = {}
    if proposal is not None and request.method == "GET":
        initial["reason"] = proposal.reason
        wanted = shares(proposal.desired_weights)
        for index, name in enumerate(current):
            if name in wanted:
                initial[ShiftForm.share_field(index)] = round(wanted[name], 2)
    form = ShiftForm(request.POST or None, current=current, initial=initial)
    context = {
        "endpoint": endpoint,
        "form": form,
        "mode": mode,
        "proposal": proposal,
        "tab": "traffic",
        # Said before anything is typed: a proposal cannot be opened beside an open one.
        "blocking": [
            p
            for p in selectors.endpoint_shifts(endpoint_id=endpoint.pk).open
            if mode == "propose" or (proposal is not None and p.pk != proposal.pk)
        ]
        if mode != "emergency"
        else [],
    }
    previewing = request.headers.get("HX-Request") or request.POST.get("action") == "preview"
    if request.method == "POST" and not previewing and form.is_valid():
        desired = form.cleaned_data["desired"]
        reason = form.cleaned_data["reason"]
        try:
            if mode == "edit" and proposal is not None:
                created = services.shift_revise(
                    proposal_id=proposal.pk,
                    actor=request.user,
                    desired=desired,
                    reason=reason,
                    request=request,
                )
            elif mode == "emergency":
                created = services.shift_emergency(
                    endpoint_id=endpoint.pk,
                    actor=request.user,
                    desired=desired,
                    reason=reason,
                    request=request,
                )
            else:
                created = services.shift_propose(
                    endpoint_id=endpoint.pk,
                    actor=request.user,
                    desired=desired,
                    reason=reason,
                    request=request,
                )
        except Refused as exc:
            return error_response(request, exc)
        except (Conflict, Invalid) as exc:
            add_errors(form, exc)
        else:
            if mode == "emergency":
                messages.warning(request, f"Emergency shift #{created.pk} is being applied now.")
            else:
                messages.success(request, f"Shift #{created.pk} proposed; an Approver must act.")
            return redirect("shifts:detail", pk=created.pk)
    context["preview"] = form.preview() if form.is_bound else selectors.share_rows(current, current)
    status = 400 if request.method == "POST" and not previewing and form.errors else 200
    if request.headers.get("HX-Request"):
        return render(request, "shifts/partials/_preview.html", context, status=status)
    return render(request, "shifts/propose.html", context, status=status)


@require_http_methods(["GET", "POST"])
@role_required(Role.OPERATOR)
def shift_propose(request: HttpRequest, pk: int) -> HttpResponse:
    return _shift_form_page(request, endpoint=endpoint_or_404(pk), mode="propose")


@require_http_methods(["GET", "POST"])
@role_required(Role.OPERATOR)
def shift_emergency(request: HttpRequest, pk: int) -> HttpResponse:
    why = policy.refusal_for("emergency", request.user)
    if why:
        raise PermissionDenied(why)
    return _shift_form_page(request, endpoint=endpoint_or_404(pk), mode="emergency")


@require_http_methods(["GET", "POST"])
@role_required(Role.OPERATOR)
def shift_edit(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _proposal_or_404(pk)
    why = policy.refusal_for("edit", request.user, proposal)
    if why:
        raise PermissionDenied(why)
    if proposal.state != ShiftState.PENDING:
        return _detail(request, pk, status=409, error="Only pending proposals can be edited.")
    if not proposal.is_traffic:
        return _detail(
            request,
            pk,
            status=409,
            error="Only traffic shifts can be edited; cancel this change and propose it anew.",
        )
    return _shift_form_page(request, endpoint=proposal.endpoint, mode="edit", proposal=proposal)


def _comment(request: HttpRequest) -> str:
    form = CommentForm(request.POST)
    return form.cleaned_data["comment"] if form.is_valid() else ""


def _decide(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    decisions: dict[str, Callable[..., ShiftProposal]] = {
        "approve": services.shift_approve,
        "reject": services.shift_reject,
        "acknowledge": services.shift_acknowledge,
    }
    service = decisions[action]
    try:
        proposal = service(
            proposal_id=pk, actor=request.user, comment=_comment(request), request=request
        )
    except ShiftProposal.DoesNotExist:
        raise Http404("No such change request.") from None
    except Refused as exc:
        return error_response(request, exc)
    except (Conflict, Invalid) as exc:
        return _detail(request, pk, status=exc.status, error=exc.message)
    noun = "Shift" if proposal.is_traffic else "Change"
    if proposal.state == ShiftState.SUPERSEDED:
        what = "live weights" if proposal.is_traffic else "endpoint"
        messages.warning(
            request,
            f"The {what} changed after this {noun.lower()} was proposed, so it is superseded "
            "and nothing was applied.",
        )
    elif action == "approve" and proposal.state == ShiftState.PENDING:
        messages.success(request, "Approval recorded; more approvals are needed.")
    else:
        messages.success(request, f"{noun} #{proposal.pk}: {action} recorded.")
    return redirect("shifts:detail", pk=pk)


@require_POST
@role_required(Role.APPROVER)
def shift_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, "approve")


@require_POST
@role_required(Role.APPROVER)
def shift_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, "reject")


@require_POST
@role_required(Role.APPROVER)
def shift_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, "acknowledge")


@require_POST
@role_required(Role.OPERATOR)
def shift_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.shift_cancel(proposal_id=pk, actor=request.user, request=request)
    except ShiftProposal.DoesNotExist:
        raise Http404("No such change request.") from None
    except Refused as exc:
        return error_response(request, exc)
    except Conflict as exc:
        return _detail(request, pk, status=exc.status, error=exc.message)
    messages.success(request, f"Change request #{pk} cancelled.")
    return redirect("shifts:detail", pk=pk)
