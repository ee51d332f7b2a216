"""The incident board and its actions, and the endpoint tabs triage composes (Timeline,
What changed)."""

from django.urls import path

from triage import incident_views, views

app_name = "triage"

urlpatterns = [
    path("incidents/", views.incident_board, name="board"),
    path("incidents/history/", incident_views.incident_list, name="incidents"),
    path("incidents/<int:pk>/", incident_views.incident_page, name="incident"),
    path(
        "incidents/<int:pk>/postmortem.md",
        incident_views.incident_postmortem,
        name="incident_postmortem",
    ),
    path("incidents/<int:pk>/<slug:to>", incident_views.incident_move, name="incident_move"),
    path("incidents/endpoint/<int:pk>/take", views.incident_take, name="take"),
    path("incidents/endpoint/<int:pk>/release", views.incident_release, name="release"),
    path("incidents/endpoint/<int:pk>/summary", views.incident_summary_page, name="summary"),
    path("endpoints/<int:pk>/timeline", views.endpoint_timeline_page, name="endpoint_timeline"),
    path("endpoints/<int:pk>/what-changed", views.what_changed, name="what_changed"),
]
