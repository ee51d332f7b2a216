"""Reads of the audit log: the filtered, keyset-paginated page (the chain check is
`audit.verification`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import QuerySet

from audit.models import AuditEntry
from core.paging import Keyset, KeysetPage, Position

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    action: str = ""
    outcome: str = ""
    target: str = ""
    date_from: date | None = None
    date_to: date | None = None


# Newest first by id: ids grow with time, and the chain is in id order anyway.
AUDIT_KEYSET = Keyset()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def audit_entries_filtered(*, filters: AuditFilters) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.all()
    if filters.actor:
        qs = qs.filter(username__iexact=filters.actor)
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.outcome:
        qs = qs.filter(outcome=filters.outcome)
    if filters.target:
        qs = qs.filter(target__icontains=filters.target)
    # Whole UTC days, as ranges on the column so its index is used.
    if filters.date_from:
        qs = qs.filter(time__gte=_midnight(filters.date_from))
    if filters.date_to:
        qs = qs.filter(time__lt=_midnight(filters.date_to + timedelta(days=1)))
    return qs


def audit_entries_page(
    *,
    filters: AuditFilters,
    before: Position | None = None,
    after: Position | None = None,
    page_size: int = PAGE_SIZE,
) -> KeysetPage[AuditEntry]:
    """Newest first, keyset-paginated by id: one query per page however deep it is."""
    return AUDIT_KEYSET.page(
        audit_entries_filtered(filters=filters), before=before, after=after, size=page_size
    )
