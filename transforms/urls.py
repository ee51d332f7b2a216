from django.urls import path

from transforms import views

app_name = "transforms"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("launch", views.job_launch, name="launch"),
    path("models", views.model_options, name="models"),
    path("<uuid:pk>/", views.job_detail, name="detail"),
    path("<uuid:pk>/status", views.job_status, name="status"),
    path("<uuid:pk>/preview", views.job_preview, name="preview"),
    path("<uuid:pk>/stop", views.job_stop, name="stop"),
]
