from django.urls import path

from monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("<int:pk>/metrics", views.endpoint_metrics, name="endpoint_metrics"),
    path("<int:pk>/metrics/panel", views.endpoint_metrics_panel, name="endpoint_metrics_panel"),
]
