"""A real OpenID Connect provider for the single sign-on tests: django-oauth-toolkit with
OIDC on, RS256 with a key made per run, a groups claim, a login page and a few users. It
runs as its own Django project in its own process (`python -m tests.oidc_provider`)."""
