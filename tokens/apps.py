from django.apps import AppConfig


class TokensConfig(AppConfig):
    """Personal API tokens: each acts with its owner's role, for the REST API under /api/v1/."""

    name = "tokens"
    verbose_name = "API tokens"
