from django.apps import AppConfig


class ShiftsConfig(AppConfig):
    name = "shifts"
    verbose_name = "Change requests"

    def ready(self) -> None:
        from endpoints.registry import EndpointPanel, EndpointTab, register_panel, register_tab
        from shifts import panels

        register_tab(EndpointTab("traffic", "Traffic", "shifts:endpoint", order=40))
        # The key "changes" is CloudTrail's tab (apihistory, labelled "API calls"): this one
        # holds the change requests, capacity, auto scaling and the configs to roll back to.
        register_tab(EndpointTab("change_requests", "Change requests", "shifts:changes", order=45))
        register_panel(
            EndpointPanel(
                "shift-emergency",
                slot="header",
                template="shifts/partials/_emergency_banner.html",
                context=panels.emergency_banner,
                order=10,
            )
        )
        register_panel(
            EndpointPanel(
                "shadow-test",
                slot="detail",
                template="shifts/partials/_shadow_test.html",
                context=panels.shadow_test,
                order=5,
            )
        )
        register_panel(
            EndpointPanel(
                "shift-summary",
                slot="detail",
                template="shifts/partials/_endpoint_shifts.html",
                context=panels.shift_summary,
                order=10,
            )
        )
