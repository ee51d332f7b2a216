"""Monitoring reads: alarms per endpoint and endpoints in ALARM."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Min

from core.models import SyncKind, SyncStatus
from core.sync_status import sync_status
from endpoints.selectors import live_endpoints_by_key

if TYPE_CHECKING:
    from endpoints.models import Endpoint
from monitoring.models import TARGET_TRACKING_PREFIX, Alarm


def endpoint_alarms(*, endpoint: Endpoint) -> list[Alarm]:
    """Alarms whose EndpointName dimension is this endpoint, ALARM first; auto scaling's
    own after the ones that say something is wrong."""
    alarms = Alarm.objects.filter(
        account_id=endpoint.account_id, region=endpoint.region, endpoint_name=endpoint.name
    )
    order = {"ALARM": 0, "INSUFFICIENT_DATA": 1, "OK": 2}
    return sorted(alarms, key=lambda a: (a.drives_auto_scaling, order.get(a.state, 3), a.name))


def incident_started_at(*, endpoint: Endpoint) -> datetime | None:
    """When the endpoint's current incident began: the earliest state change among its
    alarms that are in ALARM now (None when none is)."""
    started: datetime | None = (
        Alarm.objects.filter(
            account_id=endpoint.account_id,
            region=endpoint.region,
            endpoint_name=endpoint.name,
            state="ALARM",
        )
        .exclude(name__startswith=TARGET_TRACKING_PREFIX)
        .aggregate(first=Min("state_updated_at"))["first"]
    )
    return started


def alarm_sync_status(*, endpoint: Endpoint) -> SyncStatus | None:
    return sync_status(kind=SyncKind.ALARMS, target=endpoint.target, region=endpoint.region)


@dataclass(frozen=True)
class EndpointInAlarm:
    endpoint: Endpoint | None
    account_id: str
    region: str
    endpoint_name: str
    alarms: list[Alarm]


def endpoints_in_alarm() -> list[EndpointInAlarm]:
    """Endpoints with at least one alarm in ALARM (2 queries)."""
    grouped: dict[tuple[str, str, str], list[Alarm]] = {}
    for alarm in firing_alarms():
        grouped.setdefault((alarm.account_id, alarm.region, alarm.endpoint_name), []).append(alarm)
    endpoints = live_endpoints_by_key(set(grouped))
    return [
        EndpointInAlarm(
            endpoint=endpoints.get(key),
            account_id=key[0],
            region=key[1],
            endpoint_name=key[2],
            alarms=alarms,
        )
        for key, alarms in sorted(grouped.items(), key=lambda item: item[0][2])
    ]


def firing_alarms() -> list[Alarm]:
    """Every alarm in ALARM that watches an endpoint (its EndpointName dimension), but
    not auto scaling's own: those fire to scale, not because something is wrong."""
    return list(
        Alarm.objects.filter(state="ALARM")
        .exclude(endpoint_name="")
        .exclude(name__startswith=TARGET_TRACKING_PREFIX)
        .order_by("name")
    )


def firing_alarms_by_endpoint(
    *, keys: set[tuple[str, str, str]]
) -> dict[tuple[str, str, str], list[Alarm]]:
    """The alarms in ALARM (auto scaling's own left out) of each (account, region, endpoint
    name) in `keys`, in one query: the endpoint list's health column for a page of rows."""
    found: dict[tuple[str, str, str], list[Alarm]] = {}
    if not keys:
        return found
    alarms = (
        Alarm.objects.filter(state="ALARM", endpoint_name__in={name for _, _, name in keys})
        .exclude(name__startswith=TARGET_TRACKING_PREFIX)
        .order_by("name")
    )
    for alarm in alarms:
        key = (alarm.account_id, alarm.region, alarm.endpoint_name)
        if key in keys:
            found.setdefault(key, []).append(alarm)
    return found
