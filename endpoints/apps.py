from django.apps import AppConfig


class EndpointsConfig(AppConfig):
    name = "endpoints"
    verbose_name = "Endpoints"

    def ready(self) -> None:
        from endpoints import policy
        from endpoints.registry import EndpointTab, register_tab
        from endpoints.selectors.async_inference import real_time_refusal

        register_tab(EndpointTab("detail", "Configuration", "endpoints:detail", order=10))
        register_tab(
            EndpointTab(
                "invoke",
                "Test invoke",
                "endpoints:invoke",
                order=90,
                allowed=lambda user: policy.refusal_for("test_invoke", user) is None,
                shown=lambda endpoint: real_time_refusal(endpoint) is None,
            )
        )
