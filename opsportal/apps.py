from django.apps import AppConfig


class OpsPortalConfig(AppConfig):
    """The top of the portal: settings, URLs, the overview page, user management (the admin
    site and `seed_demo_users`). It may use every app; no app uses it."""

    name = "opsportal"
    verbose_name = "Ops Portal"
