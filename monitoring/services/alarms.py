"""Monitoring writes: sync CloudWatch alarms into the database.

DescribeAlarms costs one call per 100 alarms; an alarm's state history is fetched only
when its state changed since the last sync (DescribeAlarmHistory allows 3 calls/s), at
most HISTORY_FETCHES_PER_SYNC per run, the rest on the next.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.aws import cloudwatch as aws_cloudwatch
from core.aws.errors import AwsError
from core.aws.types import AlarmState
from core.models import SyncKind
from core.sync_status import sync_failed, sync_succeeded
from core.targets import Target, target_regions
from monitoring.models import Alarm

logger = logging.getLogger(__name__)

HISTORY_FETCHES_PER_SYNC = 20
HISTORY_LIMIT = 10


@dataclass
class AlarmSyncReport:
    target: str
    region: str
    alarms: int = 0
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    error: str = ""

    def summary(self) -> str:
        if self.error:
            return f"alarms {self.target}/{self.region}: FAILED {self.error}"
        return (
            f"alarms {self.target}/{self.region}: {self.alarms} alarms, "
            f"{len(self.changed)} changed state, {len(self.removed)} removed"
        )


def alarm_sync(*, target: Target, region: str) -> AlarmSyncReport:
    """Bring one target-region's alarms in line with CloudWatch; failures are recorded,
    not raised, so pages keep the last known alarms with a stale note."""
    report = AlarmSyncReport(target=target.name, region=region)
    now = timezone.now()
    try:
        alarms = list(aws_cloudwatch.describe_alarms(target=target, region=region))
        report.alarms = len(alarms)
        known = {
            a.name: a for a in Alarm.objects.filter(account_id=target.account_id, region=region)
        }
        history_budget = HISTORY_FETCHES_PER_SYNC
        for state in alarms:
            existing = known.pop(state.name, None)
            state_changed = existing is None or (
                existing.state != state.state or existing.state_updated_at != state.updated_at
            )
            history = existing.history if existing else []
            if (state_changed or (existing and not existing.history)) and history_budget > 0:
                history_budget -= 1
                history = [
                    {"time": h.time.isoformat(), "type": h.item_type, "summary": h.summary}
                    for h in aws_cloudwatch.alarm_history(
                        target=target, region=region, alarm_name=state.name, limit=HISTORY_LIMIT
                    )
                ]
            if existing is not None and existing.state != state.state:
                report.changed.append(state.name)
            _store(target=target, region=region, state=state, history=history, now=now)
        for gone in known.values():
            report.removed.append(gone.name)
            gone.delete()
    except AwsError as exc:
        report.error = str(exc)
        sync_failed(kind=SyncKind.ALARMS, target=target, region=region, error=exc, at=now)
        logger.warning("alarm sync %s/%s failed: %s", target.name, region, exc)
        return report
    sync_succeeded(
        kind=SyncKind.ALARMS, target=target, region=region, at=now, detail={"alarms": report.alarms}
    )
    if report.changed or report.removed:
        audit_record(
            actor=None,
            action="alarms.sync",
            target=f"{target.name}/{target.account_id}/{region}",
            after={"state_changed": report.changed, "removed": report.removed},
        )
    return report


def alarm_sync_configured() -> list[AlarmSyncReport]:
    return [alarm_sync(target=target, region=region) for target, region in target_regions()]


@transaction.atomic
def _store(
    *,
    target: Target,
    region: str,
    state: AlarmState,
    history: list[dict[str, str]],
    now: datetime,
) -> None:
    Alarm.objects.update_or_create(
        account_id=target.account_id,
        region=region,
        name=state.name,
        defaults={
            "target": target.name,
            "arn": state.arn,
            "state": state.state,
            "reason": state.reason,
            "state_updated_at": state.updated_at,
            "namespace": state.namespace,
            "metric": state.metric,
            "dimensions": state.dimensions,
            "endpoint_name": state.dimensions.get("EndpointName", ""),
            "variant_name": state.dimensions.get("VariantName", ""),
            "statistic": state.statistic,
            "threshold": state.threshold,
            "comparison": state.comparison,
            "period": state.period,
            "evaluation_periods": state.evaluation_periods,
            "history": history,
            "synced_at": now,
        },
    )
