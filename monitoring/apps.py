from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from endpoints.registry import (
            EndpointListColumn,
            EndpointTab,
            register_list_column,
            register_tab,
        )

        register_list_column(
            EndpointListColumn(
                "health", "Health (last hour)", "monitoring:endpoint_list_health", 10
            )
        )
        register_tab(
            EndpointTab("metrics", "Metrics & alarms", "monitoring:endpoint_metrics", order=20)
        )
        register_tab(EndpointTab("logs", "Logs", "monitoring:endpoint_logs", order=25))
        register_tab(
            EndpointTab("monitoring", "Monitoring", "monitoring:endpoint_monitoring", order=30)
        )
