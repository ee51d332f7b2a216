from django.urls import path

from apihistory import views as apihistory_views
from endpoints import views
from triage import views as triage_views

app_name = "endpoints"

urlpatterns = [
    path("", views.endpoint_list, name="list"),
    path("<int:pk>/", views.endpoint_detail, name="detail"),
    path("<int:pk>/refresh", views.endpoint_refresh, name="refresh"),
    path("<int:pk>/invoke", views.endpoint_invoke, name="invoke"),
    path("<int:pk>/what-changed", views.endpoint_what_changed, name="what_changed"),
    path("<int:pk>/changes", apihistory_views.endpoint_changes, name="changes"),
    path("<int:pk>/timeline", triage_views.endpoint_timeline_page, name="timeline"),
]
