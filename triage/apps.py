from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "triage"
    verbose_name = "On-call triage"

    def ready(self) -> None:
        from apihistory.links import register_linker
        from endpoints.registry import EndpointTab, register_tab
        from triage import correlation

        register_tab(EndpointTab("timeline", "Timeline", "triage:endpoint_timeline", order=60))
        register_tab(EndpointTab("what_changed", "What changed", "triage:what_changed", order=70))
        register_linker(correlation.shift_links)
        register_linker(correlation.transform_links)
