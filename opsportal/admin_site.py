"""The user-management admin. It opens to the Admin role (the role that "manages users"),
not to Django's is_staff flag, so the role groups stay the only source of access; every
change made through it is also written to the portal audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from audit.services import audit_record
from core.roles import Role, role_of


def _is_admin(request: HttpRequest) -> bool:
    return request.user.is_active and role_of(request.user) >= Role.ADMIN


class PortalAdminSite(admin.AdminSite):
    site_header = "Ops Portal administration"
    site_title = "Ops Portal admin"
    index_title = "Users and role groups"

    def has_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    @method_decorator(never_cache)
    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """One sign-in page for the whole portal: the admin's own form would ask for
        is_staff, and signed-in users without the Admin role get a 403, not a form."""
        if request.user.is_authenticated:
            if _is_admin(request):
                return super().login(request, extra_context)
            raise PermissionDenied(f"Managing users needs the {Role.ADMIN.label} role.")
        return redirect_to_login(request.GET.get("next") or request.get_full_path())


class AdminRoleMixin:
    """Object permissions follow the portal role instead of per-model auth permissions."""

    audit_name = "object"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _is_admin(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return _is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _is_admin(request)

    def _target(self, obj: Model) -> str:
        return f"{self.audit_name}:{obj}"

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        audit_record(
            actor=request.user,
            action=f"admin.{self.audit_name}.add",
            target=self._target(obj),
            after={"change": message},
            request=request,
        )
        return super().log_addition(request, obj, message)  # type: ignore[misc]

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        audit_record(
            actor=request.user,
            action=f"admin.{self.audit_name}.change",
            target=self._target(obj),
            after={"change": message},
            request=request,
        )
        return super().log_change(request, obj, message)  # type: ignore[misc]

    def log_deletions(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        for obj in queryset:
            audit_record(
                actor=request.user,
                action=f"admin.{self.audit_name}.delete",
                target=self._target(obj),
                request=request,
            )
        return super().log_deletions(request, queryset)  # type: ignore[misc]


class PortalUserAdmin(AdminRoleMixin, UserAdmin):
    audit_name = "user"


class PortalGroupAdmin(AdminRoleMixin, GroupAdmin):
    audit_name = "group"


admin_site = PortalAdminSite(name="admin")
admin_site.register(User, PortalUserAdmin)
admin_site.register(Group, PortalGroupAdmin)
