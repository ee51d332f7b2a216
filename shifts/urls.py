from django.urls import path

from shifts import change_views, plan_views, views

app_name = "shifts"

urlpatterns = [
    path("shifts/", views.shift_list, name="list"),
    path("shifts/<int:pk>/", views.shift_detail, name="detail"),
    path("shifts/<int:pk>/status", views.shift_status, name="status"),
    path("shifts/<int:pk>/deployment", change_views.deployment_panel, name="deployment"),
    path("shifts/<int:pk>/plan", plan_views.plan_panel, name="plan_panel"),
    path("shifts/<int:pk>/plan/chart", plan_views.plan_chart, name="plan_chart"),
    path("shifts/<int:pk>/plan/<slug:action>", plan_views.plan_control, name="plan_control"),
    path("shifts/endpoint/<int:pk>/plan", plan_views.plan_propose, name="plan_propose"),
    path("shifts/<int:pk>/edit", views.shift_edit, name="edit"),
    path("shifts/<int:pk>/approve", views.shift_approve, name="approve"),
    path("shifts/<int:pk>/reject", views.shift_reject, name="reject"),
    path("shifts/<int:pk>/cancel", views.shift_cancel, name="cancel"),
    path("shifts/<int:pk>/acknowledge", views.shift_acknowledge, name="acknowledge"),
    path("shifts/endpoint/<int:pk>/", views.endpoint_traffic, name="endpoint"),
    path("shifts/endpoint/<int:pk>/propose", views.shift_propose, name="propose"),
    path("shifts/endpoint/<int:pk>/emergency", views.shift_emergency, name="emergency"),
    path("shifts/endpoint/<int:pk>/changes/", change_views.endpoint_changes, name="changes"),
    path(
        "shifts/endpoint/<int:pk>/changes/<slug:kind>",
        change_views.change_propose,
        name="change_propose",
    ),
    path(
        "shifts/endpoint/<int:pk>/changes/<slug:kind>/emergency",
        change_views.change_emergency,
        name="change_emergency",
    ),
]
