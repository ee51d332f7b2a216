"""Links to the portal are pasted into incident channels and runbooks: every path the
portal has served keeps working, whichever app now answers it."""

from __future__ import annotations

import uuid

import pytest
from django.urls import resolve

JOB = uuid.UUID(int=7)

PATHS = {
    "/": "overview",
    "/healthz": "healthz",
    "/readyz": "readyz",
    "/accounts/login/": "login",
    "/accounts/logout/": "logout",
    "/endpoints/": "endpoints:list",
    "/endpoints/3/": "endpoints:detail",
    "/endpoints/3/refresh": "endpoints:refresh",
    "/endpoints/3/invoke": "endpoints:invoke",
    "/endpoints/3/what-changed": "triage:what_changed",
    "/endpoints/3/changes": "apihistory:endpoint_changes",
    "/endpoints/3/timeline": "triage:endpoint_timeline",
    "/endpoints/health": "monitoring:endpoint_list_health",
    "/endpoints/3/metrics": "monitoring:endpoint_metrics",
    "/endpoints/3/metrics/panel": "monitoring:endpoint_metrics_panel",
    "/endpoints/3/monitoring": "monitoring:endpoint_monitoring",
    "/endpoints/3/monitoring/charts": "monitoring:endpoint_monitoring_charts",
    "/endpoints/3/monitoring/check": "monitoring:endpoint_check_now",
    "/endpoints/3/monitoring/checks/5": "monitoring:check_run_status",
    "/audit/": "audit:list",
    "/api-history/": "apihistory:list",
    "/api-history/9/": "apihistory:detail",
    "/incidents/": "triage:board",
    "/incidents/endpoint/3/take": "triage:take",
    "/incidents/endpoint/3/release": "triage:release",
    "/incidents/endpoint/3/summary": "triage:summary",
    "/shifts/": "shifts:list",
    "/shifts/4/": "shifts:detail",
    "/shifts/4/status": "shifts:status",
    "/shifts/4/edit": "shifts:edit",
    "/shifts/4/approve": "shifts:approve",
    "/shifts/4/reject": "shifts:reject",
    "/shifts/4/cancel": "shifts:cancel",
    "/shifts/4/acknowledge": "shifts:acknowledge",
    "/shifts/endpoint/3/": "shifts:endpoint",
    "/shifts/endpoint/3/propose": "shifts:propose",
    "/shifts/endpoint/3/emergency": "shifts:emergency",
    "/transforms/": "transforms:list",
    "/transforms/launch": "transforms:launch",
    "/transforms/models": "transforms:models",
    f"/transforms/{JOB}/": "transforms:detail",
    f"/transforms/{JOB}/status": "transforms:status",
    f"/transforms/{JOB}/preview": "transforms:preview",
    f"/transforms/{JOB}/stop": "transforms:stop",
}


@pytest.mark.parametrize(("path", "name"), PATHS.items())
def test_every_path_the_portal_has_served_still_resolves(path, name):
    assert resolve(path).view_name == name
