from django.urls import path

from apihistory import views

app_name = "apihistory"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("<int:pk>/", views.event_detail, name="detail"),
]
