"""Incident records: the history list (with filters), one incident's page (its signals,
cause, history, the actions taken and the impact), its post-mortem skeleton in Markdown, and
the lifecycle buttons (acknowledge, mitigated, resolved)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core.errors import Conflict, Invalid, Refused
from core.roles import Role, role_required
from core.views import error_response
from triage import incidents, policy
from triage.forms import IncidentFilterForm, IncidentNoteForm
from triage.impact import incident_impact
from triage.incident_selectors import incident_actions, incident_detail, incident_history
from triage.models import Incident
from triage.postmortem import postmortem_markdown

PAGE_SIZE = 50


@require_GET
@role_required(Role.VIEWER)
def incident_list(request: HttpRequest) -> HttpResponse:
    form = IncidentFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(incident_history(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "triage/incident_list.html", context, status=400 if form.errors else 200)


def _incident_or_404(pk: int) -> Incident:
    incident = incident_detail(pk=pk)
    if incident is None:
        raise Http404("No such incident.")
    return incident


@require_GET
@role_required(Role.VIEWER)
def incident_page(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident_or_404(pk)
    now = timezone.now()
    context = {
        "incident": incident,
        "endpoint": incident.endpoint,
        "actions": incident_actions(incident=incident, now=now),
        "impact": incident_impact(incident=incident, now=now),
        "note_form": IncidentNoteForm(),
        "can_move": policy.refusal_for("move", request.user) is None,
        "moves": incidents.next_moves(incident),
    }
    return render(request, "triage/incident_detail.html", context)


@require_GET
@role_required(Role.VIEWER)
def incident_postmortem(request: HttpRequest, pk: int) -> HttpResponse:
    """The post-mortem skeleton as a Markdown file to paste into the team's document."""
    incident = _incident_or_404(pk)
    now = timezone.now()
    text = postmortem_markdown(
        incident=incident,
        actions=incident_actions(incident=incident, now=now),
        impact=incident_impact(incident=incident, now=now),
        now=now,
    )
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="incident-{incident.pk}.md"'
    return response


@require_POST
@role_required(Role.OPERATOR)
def incident_move(request: HttpRequest, pk: int, to: str) -> HttpResponse:
    incident = _incident_or_404(pk)
    form = IncidentNoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    if not form.is_valid():
        messages.error(request, "Keep the note under 2,000 characters.")
        return redirect("triage:incident", pk=incident.pk)
    try:
        incidents.incident_move(
            incident_id=incident.pk, actor=request.user, to=to, note=note, request=request
        )
    except Refused as exc:
        return error_response(request, exc)
    except (Conflict, Invalid) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Incident #{incident.pk} is {to}.")
    back = request.POST.get("back")
    if back == "board":
        return redirect("triage:board")
    return redirect("triage:incident", pk=incident.pk)
