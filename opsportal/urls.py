"""Top-level routes. Every route but login, logout and /healthz needs a role; the role
matrix test (tests/opsportal/test_role_matrix.py) fails when a route has no entry."""

from django.urls import include, path

from opsportal import views
from opsportal.admin_site import admin_site

urlpatterns = [
    path("", views.overview, name="overview"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("opsportal.auth_urls")),
    path("endpoints/", include("endpoints.urls")),
    path("endpoints/", include("monitoring.urls")),
    path("audit/", include("audit.urls")),
    path("api-history/", include("apihistory.urls")),
    path("incidents/", include("triage.urls")),
    path("shifts/", include("shifts.urls")),
    path("transforms/", include("transforms.urls")),
    path("admin/", admin_site.urls),
]

handler403 = "opsportal.views.permission_denied"
