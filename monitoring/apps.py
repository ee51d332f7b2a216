from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from endpoints.registry import EndpointTab, register_tab

        register_tab(
            EndpointTab("metrics", "Metrics & alarms", "monitoring:endpoint_metrics", order=20)
        )
        register_tab(EndpointTab("logs", "Logs", "monitoring:endpoint_logs", order=25))
        register_tab(
            EndpointTab("monitoring", "Monitoring", "monitoring:endpoint_monitoring", order=30)
        )
