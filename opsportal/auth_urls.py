"""Sign-in and sign-out. Django's views do the work; django-axes (the first
authentication backend) throttles, and audit.receivers records every attempt."""

from django.contrib.auth import views as auth_views
from django.urls import path

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    # LogoutView accepts POST only, so a link or an image tag cannot sign anyone out.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
