"""The admin site: open to a login with a role (CloudRoute staff or a partner firm's login, see
matching.roles) that also has the admin flag. `is_staff` alone opens nothing."""
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class CloudRouteAdminSite(admin.AdminSite):
    def has_permission(self, request) -> bool:
        from matching.roles import access_of

        access = access_of(request)
        return super().has_permission(request) and (access.is_staff or access.is_partner)


class CloudRouteAdminConfig(AdminConfig):
    default_site = "cloudroute.admin_site.CloudRouteAdminSite"
