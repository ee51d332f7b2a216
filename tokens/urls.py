from django.urls import path

from tokens import views

app_name = "tokens"

urlpatterns = [
    path("settings/api-tokens/", views.token_list, name="list"),
    path("settings/api-tokens/<int:pk>/revoke", views.token_revoke, name="revoke"),
]
