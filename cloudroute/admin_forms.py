"""Forms of the admin site (cloudroute.admin_site)."""
from django.contrib.admin.forms import AdminAuthenticationForm


class CloudRouteLoginForm(AdminAuthenticationForm):
    """The admin's login, in words for everyone who uses it: partner firms' logins and staff."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": "Please enter the correct %(username)s and password of your CloudRoute login. "
                         "Both fields may be case-sensitive.",
    }
