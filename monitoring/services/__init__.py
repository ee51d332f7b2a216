"""Monitoring writes: the alarm and Model Monitor syncs, and Check now (a data-quality
check the portal runs itself over an endpoint's captured data)."""

from monitoring.services.alarms import AlarmSyncReport, alarm_sync, alarm_sync_configured
from monitoring.services.check_now import (
    CheckFailed,
    CheckRejected,
    check_run_execute,
    check_run_request,
    check_run_sweep,
)
from monitoring.services.model_monitor import (
    MonitorSyncReport,
    monitor_sync,
    monitor_sync_configured,
)

__all__ = [
    "AlarmSyncReport",
    "CheckFailed",
    "CheckRejected",
    "MonitorSyncReport",
    "alarm_sync",
    "alarm_sync_configured",
    "check_run_execute",
    "check_run_request",
    "check_run_sweep",
    "monitor_sync",
    "monitor_sync_configured",
]
