from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from audit import checks, receivers  # noqa: F401  (checks registers itself)

        receivers.connect()
