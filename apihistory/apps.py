from django.apps import AppConfig


class ApiHistoryConfig(AppConfig):
    name = "apihistory"
    verbose_name = "API history (CloudTrail)"
