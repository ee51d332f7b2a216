"""The endpoint list and the endpoint pages this app renders; other apps add their tabs
under endpoints/<pk>/ from their own URL modules (see endpoints.registry)."""

from django.urls import path

from endpoints import views

app_name = "endpoints"

urlpatterns = [
    path("endpoints/", views.endpoint_list, name="list"),
    path("endpoints/<int:pk>/", views.endpoint_detail, name="detail"),
    path("endpoints/<int:pk>/refresh", views.endpoint_refresh, name="refresh"),
    path("endpoints/<int:pk>/status", views.endpoint_header_status, name="header_status"),
    path("endpoints/<int:pk>/invoke", views.endpoint_invoke, name="invoke"),
]
