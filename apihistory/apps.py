from django.apps import AppConfig


class ApiHistoryConfig(AppConfig):
    name = "apihistory"
    verbose_name = "API history (CloudTrail)"

    def ready(self) -> None:
        from endpoints.registry import EndpointTab, register_tab

        register_tab(EndpointTab("changes", "API calls", "apihistory:endpoint_changes", order=50))
