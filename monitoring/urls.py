"""The Metrics, Logs and Monitoring tabs of an endpoint, what they load, and the endpoint
list's health column."""

from django.urls import path

from monitoring import logs_views, views

app_name = "monitoring"

urlpatterns = [
    path("endpoints/health", views.endpoint_list_health, name="endpoint_list_health"),
    path("endpoints/<int:pk>/metrics", views.endpoint_metrics, name="endpoint_metrics"),
    path(
        "endpoints/<int:pk>/metrics/panel",
        views.endpoint_metrics_panel,
        name="endpoint_metrics_panel",
    ),
    path("endpoints/<int:pk>/logs", logs_views.endpoint_logs, name="endpoint_logs"),
    path(
        "endpoints/<int:pk>/logs/lines",
        logs_views.endpoint_logs_lines,
        name="endpoint_logs_lines",
    ),
    path("endpoints/<int:pk>/monitoring", views.endpoint_monitoring, name="endpoint_monitoring"),
    path(
        "endpoints/<int:pk>/monitoring/charts",
        views.endpoint_monitoring_charts,
        name="endpoint_monitoring_charts",
    ),
    path(
        "endpoints/<int:pk>/monitoring/check", views.endpoint_check_now, name="endpoint_check_now"
    ),
    path(
        "endpoints/<int:pk>/monitoring/checks/<int:run_id>",
        views.check_run_status,
        name="check_run_status",
    ),
]
