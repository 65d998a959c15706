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
        """The admin home leads with the login's work: for a partner, the firm's workspace and how
        many matches wait for them; for CloudRoute staff, the engagements waiting for a partner and
        the emails given up, each one click from its list."""
        from core.models import EmailStatus, OutboundEmail
        from matching.roles import access_of
        from matching.selectors import engagements_unmatched, engagements_visible_to

        access = access_of(request)
        if access.is_partner:
            waiting = engagements_visible_to(request).filter(status="matched").count()
            extra_context = {**(extra_context or {}), "workspace_waiting": waiting, "workspace_callout": True}
        elif access.is_staff:
            extra_context = {**(extra_context or {}), "staff_callout": True,
                             "staff_unmatched": engagements_unmatched().count(),
                             "staff_emails_failed": OutboundEmail.objects.filter(status=EmailStatus.FAILED).count()}
        return super().index(request, extra_context)


class CloudRouteAdminConfig(AdminConfig):
    default_site = "cloudroute.admin_site.CloudRouteAdminSite"
