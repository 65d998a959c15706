"""The admin site: open to a login with a role (CloudRoute staff or a partner firm's login, see
matching.roles) that also has the admin flag. `is_staff` alone opens nothing. Every ModelAdmin
registered on it, the project's and third parties' (django-axes' lockout log), reads hostile URL
and form input within the input limits (core.admin_inputs)."""
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class CloudRouteAdminSite(admin.AdminSite):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .admin_forms import CloudRouteLoginForm  # forms need the app registry, ready by now

        self.login_form = CloudRouteLoginForm
    def has_permission(self, request) -> bool:
        from matching.roles import access_of

        access = access_of(request)
        return super().has_permission(request) and (access.is_staff or access.is_partner)

    def register(self, model_or_iterable, admin_class=None, **options):
        from core.admin_inputs import AdminInputLimitsMixin

        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AdminInputLimitsMixin):
            admin_class = type(admin_class.__name__, (AdminInputLimitsMixin, admin_class), {})
        return super().register(model_or_iterable, admin_class, **options)

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
