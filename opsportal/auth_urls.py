"""Sign-in and sign-out. Django's views do the work; django-axes (the first
authentication backend) throttles, and audit.receivers records every attempt. With
single sign-on on (opsportal.sso), the provider's flow starts and returns here too."""

from django.urls import path

from opsportal import sso

urlpatterns = [
    path("login/", sso.PortalLoginView.as_view(), name="login"),
    # Sign-out accepts POST only, so a link or an image tag cannot sign anyone out.
    path("logout/", sso.logout, name="logout"),
    path("sso/login/", sso.SsoLoginView.as_view(), name="sso_login"),
    path("sso/callback/", sso.SsoCallbackView.as_view(), name="sso_callback"),
    path("sso/no-access/", sso.no_access, name="sso_no_access"),
]
