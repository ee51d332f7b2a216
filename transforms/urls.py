from django.urls import path

from transforms import views

app_name = "transforms"

urlpatterns = [
    path("transforms/", views.job_list, name="list"),
    path("transforms/launch", views.job_launch, name="launch"),
    path("transforms/models", views.model_options, name="models"),
    path("transforms/<uuid:pk>/", views.job_detail, name="detail"),
    path("transforms/<uuid:pk>/status", views.job_status, name="status"),
    path("transforms/<uuid:pk>/preview", views.job_preview, name="preview"),
    path("transforms/<uuid:pk>/stop", views.job_stop, name="stop"),
]
