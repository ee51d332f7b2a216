"""Top-level routes. Each app's URL module carries its own full paths (an app that adds an
endpoint tab routes it under endpoints/<pk>/ itself). Every route but login, logout,
/healthz, /readyz and /metrics (a token or an allowed network: opsportal.metrics) needs a
role; the role matrix test (tests/opsportal/test_role_matrix.py) fails when a route has no
entry."""

from django.urls import include, path

from opsportal import metrics, views
from opsportal.admin_site import admin_site
from opsportal.api import api

urlpatterns = [
    path("", views.overview, name="overview"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("nav/badge/<slug:kind>", views.nav_badge, name="nav_badge"),
    path("readyz", views.readyz, name="readyz"),
    path("accounts/", include("opsportal.auth_urls")),
    path("", include("endpoints.urls")),
    path("", include("monitoring.urls")),
    path("", include("apihistory.urls")),
    path("", include("triage.urls")),
    path("", include("shifts.urls")),
    path("", include("transforms.urls")),
    path("", include("audit.urls")),
    path("", include("tokens.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin_site.urls),
]

handler403 = "opsportal.views.permission_denied"
