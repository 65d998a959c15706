"""The admin site: open to a login with a role (CloudRoute staff or a partner firm's login, see
matching.roles) that also has the admin flag. `is_staff` alone opens nothing."""
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class CloudRouteAdminSite(admin.AdminSite):
    def has_permission(self, request) -> bool:
        from matching.roles import access_of

        access = access_of(request)
        return super().has_permission(request) and (access.is_staff or access.is_partner)

    def index(self, request, extra_context=None):
        """A partner's admin home leads with the firm's workspace: how many matches wait for them."""
        from matching.roles import access_of
        from matching.selectors import engagements_visible_to

        if access_of(request).is_partner:
            waiting = engagements_visible_to(request).filter(status="matched").count()
            extra_context = {**(extra_context or {}), "workspace_waiting": waiting, "workspace_callout": True}
        return super().index(request, extra_context)


class CloudRouteAdminConfig(AdminConfig):
    default_site = "cloudroute.admin_site.CloudRouteAdminSite"
