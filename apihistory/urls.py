"""The API history pages and an endpoint's API calls tab."""

from django.urls import path

from apihistory import views

app_name = "apihistory"

urlpatterns = [
    path("api-history/", views.event_list, name="list"),
    path("api-history/<int:pk>/", views.event_detail, name="detail"),
    path("endpoints/<int:pk>/changes", views.endpoint_changes, name="endpoint_changes"),
]
