from django.urls import path

from shifts import views

app_name = "shifts"

urlpatterns = [
    path("", views.shift_list, name="list"),
    path("<int:pk>/", views.shift_detail, name="detail"),
    path("<int:pk>/status", views.shift_status, name="status"),
    path("<int:pk>/edit", views.shift_edit, name="edit"),
    path("<int:pk>/approve", views.shift_approve, name="approve"),
    path("<int:pk>/reject", views.shift_reject, name="reject"),
    path("<int:pk>/cancel", views.shift_cancel, name="cancel"),
    path("<int:pk>/acknowledge", views.shift_acknowledge, name="acknowledge"),
    path("endpoint/<int:pk>/", views.endpoint_traffic, name="endpoint"),
    path("endpoint/<int:pk>/propose", views.shift_propose, name="propose"),
    path("endpoint/<int:pk>/emergency", views.shift_emergency, name="emergency"),
]
