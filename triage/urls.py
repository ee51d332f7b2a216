from django.urls import path

from triage import views

app_name = "triage"

urlpatterns = [
    path("", views.incident_board, name="board"),
    path("endpoint/<int:pk>/take", views.incident_take, name="take"),
    path("endpoint/<int:pk>/release", views.incident_release, name="release"),
    path("endpoint/<int:pk>/summary", views.incident_summary_page, name="summary"),
]
