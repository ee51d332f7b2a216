"""The audit page: who changed what, readable by Approvers and Admins."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.forms import AuditFilterForm
from audit.selectors import AuditFilters, audit_entries_page
from core.paging import KeysetPage
from core.roles import Role, role_required

_FILTER_FIELDS = ("actor", "action", "outcome", "target", "date_from", "date_to")


@require_GET
@role_required(Role.APPROVER)
def entry_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    page: KeysetPage | None = None
    if form.is_valid():
        data = form.cleaned_data
        filters = AuditFilters(**{name: data[name] for name in _FILTER_FIELDS})
        page = audit_entries_page(filters=filters, before=data["before"], after=data["after"])
    query = request.GET.copy()
    query.pop("before", None)
    query.pop("after", None)
    context = {
        "form": form,
        "page": page,
        "filter_query": query.urlencode(),
        "filtered": any(request.GET.get(name) for name in _FILTER_FIELDS),
    }
    return render(request, "audit/list.html", context)
