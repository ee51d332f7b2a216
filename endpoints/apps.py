from django.apps import AppConfig


class EndpointsConfig(AppConfig):
    name = "endpoints"
    verbose_name = "Endpoints"

    def ready(self) -> None:
        from core.roles import Role
        from endpoints.registry import EndpointTab, register_tab

        register_tab(EndpointTab("detail", "Configuration", "endpoints:detail", order=10))
        register_tab(
            EndpointTab("invoke", "Test invoke", "endpoints:invoke", order=90, role=Role.OPERATOR)
        )
