from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "triage"
    verbose_name = "On-call triage"

    def ready(self) -> None:
        from apihistory.links import register_linker
        from endpoints.registry import EndpointTab, register_tab
        from shifts.registry import register_open_incident_check
        from triage import correlation
        from triage.incident_selectors import open_incident_words

        register_tab(EndpointTab("timeline", "Timeline", "triage:endpoint_timeline", order=60))
        register_tab(EndpointTab("what_changed", "What changed", "triage:what_changed", order=70))
        register_linker(correlation.shift_links)
        register_linker(correlation.transform_links)
        # An incident kept open after its alarm cleared still holds staged shifts back.
        register_open_incident_check(open_incident_words)
