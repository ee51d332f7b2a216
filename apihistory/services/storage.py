"""Storing CloudTrail records, however they were read (LookupEvents, trail files).

Rows are keyed by CloudTrail's event id, so overlaps and repeated imports store nothing
twice. TrailEvent mirrors AWS data and is not audited row by row: bulk inserts are fine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from apihistory import parse
from apihistory.models import TrailEvent
from core.targets import Target

logger = logging.getLogger(__name__)

STORE_BATCH = 500


def event_times(records: Iterable[dict[str, Any]]) -> list[datetime]:
    found = []
    for record in records:
        try:
            found.append(parse.parse_event_time(record.get("eventTime")))
        except parse.BadRecord:
            continue
    return found


def store_records(
    *, target: Target, records: Sequence[dict[str, Any]], region: str | None = None
) -> tuple[int, int]:
    """Insert the records not stored yet; returns (new rows, unreadable records).

    Known ids are skipped before parsing (an overlap re-reads hundreds); the insert still
    ignores conflicts, for a concurrent run storing the same event in between.
    """
    stored = bad = 0
    for offset in range(0, len(records), STORE_BATCH):
        by_id: dict[str, dict[str, Any]] = {}
        for record in records[offset : offset + STORE_BATCH]:
            event_id = str(record.get("eventID") or "")
            if event_id:
                by_id.setdefault(event_id, record)
            else:
                bad += 1
        known = set(
            TrailEvent.objects.filter(event_id__in=list(by_id)).values_list("event_id", flat=True)
        )
        rows = []
        for event_id, record in by_id.items():
            if event_id in known:
                continue
            try:
                values = parse.event_fields(record)
            except parse.BadRecord as exc:
                logger.warning("skipping CloudTrail record %s: %s", event_id, exc)
                bad += 1
                continue
            values["account_id"] = target.account_id
            if region is not None or not values["region"]:
                values["region"] = region or ""
            rows.append(TrailEvent(target=target.name, **values))
        TrailEvent.objects.bulk_create(rows, ignore_conflicts=True)
        stored += len(rows)
    return stored, bad
