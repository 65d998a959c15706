"""Admin change lists that refuse out-of-range query parameters the way the admin refuses any bad
lookup (a redirect to ?e=1), instead of a server error: Django reads the date hierarchy's
year/month/day with int() and builds datetimes from them, so a 20-digit year overflows and year
9999 overflows when the next year is computed."""
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList


class BoundedChangeList(ChangeList):
    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class BoundedChangeListMixin:
    """For every ModelAdmin with a date_hierarchy (tests check that each one answers below 500)."""

    def get_changelist(self, request, **kwargs):
        return BoundedChangeList
