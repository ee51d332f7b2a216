"""Reads of the audit log: the filtered, keyset-paginated page and the chain check."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import QuerySet

from audit.models import GENESIS_HASH, AuditEntry
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


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int
    message: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_break: ChainBreak | None


def _entries_in_order(*, batch_size: int) -> Iterator[AuditEntry]:
    """Keyset batches rather than one long cursor: constant memory, and no server-side
    cursor to lose behind a transaction-pooling proxy."""
    last_id = 0
    while True:
        batch = list(AuditEntry.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id


def audit_chain_verify(*, batch_size: int = 1000) -> ChainReport:
    """Walk the chain from the first entry and stop at the first row that does not hold."""
    expected_prev = GENESIS_HASH
    previous_id: int | None = None
    checked = 0
    for entry in _entries_in_order(batch_size=batch_size):
        if entry.prev_hash != expected_prev:
            if previous_id is None:
                message = f"Audit entry #{entry.id}: prev_hash is not the genesis hash"
            else:
                message = f"Audit entry #{entry.id}: prev_hash does not match #{previous_id}"
            return ChainReport(checked=checked, first_break=ChainBreak(entry.id, message))
        computed = entry.compute_hash()
        if computed != entry.hash:
            message = (
                f"Audit entry #{entry.id} ({entry.action} {entry.target}): hash mismatch "
                f"(stored {entry.hash[:12]}…, computed {computed[:12]}…)"
            )
            return ChainReport(checked=checked, first_break=ChainBreak(entry.id, message))
        checked += 1
        expected_prev = entry.hash
        previous_id = entry.id
    return ChainReport(checked=checked, first_break=None)
