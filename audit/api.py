"""The audit log in the REST API (Approvers and Admins, as on the page)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from audit.selectors import AUDIT_KEYSET, AuditFilters, audit_entries_filtered
from core.api.access import require_role
from core.api.paging import PageQuery, cursor_page, page_body
from core.errors import Invalid
from core.roles import Role

router = Router(tags=["audit"])
MAX_FILTER = 512
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9999, 12, 30)


class AuditEntryOut(Schema):
    id: int
    time: datetime
    username: str
    action: str
    target: str
    outcome: str
    error: str
    before: Any
    after: Any
    request_id: str
    source_ip: str | None
    hash: str


class AuditPage(Schema):
    items: list[AuditEntryOut]
    next_cursor: str | None


class AuditQuery(PageQuery):
    actor: str = ""
    action: str = ""
    outcome: str = ""
    target: str = ""
    date_from: date | None = None
    date_to: date | None = None


@router.get("/audit", response=AuditPage, summary="Audit log entries")
def audit_list(request: HttpRequest, query: Query[AuditQuery]) -> dict[str, Any]:
    require_role(request, Role.APPROVER, "Reading the audit log")
    for field in ("date_from", "date_to"):
        day = getattr(query, field)
        if day is not None and not LAST_DAY >= day >= FIRST_DAY:
            raise Invalid(errors={field: ["Give a day between 1970 and 9999."]})
    filters = AuditFilters(
        actor=query.actor[:MAX_FILTER],
        action=query.action[:MAX_FILTER],
        outcome=query.outcome[:MAX_FILTER],
        target=query.target[:MAX_FILTER],
        date_from=query.date_from,
        date_to=query.date_to,
    )
    items, next_cursor = cursor_page(
        audit_entries_filtered(filters=filters),
        keyset=AUDIT_KEYSET,
        cursor=query.cursor,
        limit=query.limit,
    )
    body = [{name: getattr(entry, name) for name in AuditEntryOut.model_fields} for entry in items]
    return page_body(body, next_cursor)
