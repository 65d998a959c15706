"""The admin under hostile input: what a staff or partner login types or puts in a URL is a form
error or the admin's usual bad-lookup redirect (?e=1), never a server error.

- Change lists: Django reads the date hierarchy's year/month/day with int() and builds datetimes
  from them, so a 20-digit year overflows, and year 9999 overflows when the next year is computed.
- JSON form fields (partners' regions, ACE delivery models, pool rule params): Django's JSONField
  form reads with plain json.loads, so deeply nested JSON is a RecursionError and a "\\u0000" in a
  string reaches PostgreSQL, which refuses it. They read within core.inputs' limits instead.

Every ModelAdmin and inline that has a date_hierarchy or a JSONField uses AdminInputLimitsMixin
(tests/intake/test_admin_query_limits.py checks the registry)."""
import json

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.db import models

from .inputs import JSONLimitError, LimitedJSONDecoder, find_bad_text


class BoundedChangeList(ChangeList):
    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class FormJSONDecoder(LimitedJSONDecoder):
    """For forms.JSONField(decoder=...): every refusal is the json.JSONDecodeError the form turns
    into its "Enter a valid JSON." error."""

    def __init__(self, **kwargs):
        super().__init__()

    def decode(self, s, *args, **kwargs):
        try:
            value = super().decode(s)
        except JSONLimitError as exc:
            raise json.JSONDecodeError(exc.msg, s, 0) from None
        bad = find_bad_text(value)
        if bad is not None:
            raise json.JSONDecodeError(f"{bad[0] or 'a value'} {bad[1]}", s, 0)
        return value


class AdminInputLimitsMixin:
    def get_changelist(self, request, **kwargs):
        return BoundedChangeList

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.JSONField):
            kwargs.setdefault("decoder", FormJSONDecoder)
        return super().formfield_for_dbfield(db_field, request, **kwargs)
