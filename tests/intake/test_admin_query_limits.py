"""The admin under hostile input: every change list with a date hierarchy answers absurd
year/month/day parameters as the admin answers any bad lookup (a redirect to ?e=1), and every
JSON form field refuses JSON too deep or text PostgreSQL cannot store with a form error; never a
server error."""
import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.test import RequestFactory

from core.admin_inputs import AdminInputLimitsMixin

from tests.factories import IntakeFactory

pytestmark = pytest.mark.django_db

DATE_HIERARCHY_ADMINS = [model_admin for model_admin in admin.site._registry.values() if model_admin.date_hierarchy]

BAD_PARAMS = [
    {"__year": "9" * 20}, {"__year": "9" * 5000}, {"__year": "9999"}, {"__year": "0"}, {"__year": "-1"},
    {"__year": "2026", "__month": "9" * 20}, {"__year": "2026", "__month": "13"},
    {"__year": "2026", "__month": "1", "__day": "9" * 20}, {"__year": "9999", "__month": "12", "__day": "31"},
    {"__year": "٢٠٢٦"},
]


def test_there_is_a_date_hierarchy_to_check():
    assert DATE_HIERARCHY_ADMINS


@pytest.mark.parametrize("model_admin", DATE_HIERARCHY_ADMINS, ids=lambda a: type(a).__name__)
@pytest.mark.parametrize("params", BAD_PARAMS, ids=lambda p: "-".join(f"{k}={v[:8]}" for k, v in p.items()))
def test_absurd_dates_are_a_bad_lookup_not_a_server_error(client, staff_user, model_admin, params):
    IntakeFactory()
    opts = model_admin.model._meta
    url = f"/admin/{opts.app_label}/{opts.model_name}/"
    client.force_login(staff_user)
    response = client.get(url, {f"{model_admin.date_hierarchy}{key}": value for key, value in params.items()})
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response["Location"].endswith("?e=1")


@pytest.mark.parametrize("model_admin", DATE_HIERARCHY_ADMINS, ids=lambda a: type(a).__name__)
def test_a_real_year_still_filters(client, staff_user, model_admin):
    IntakeFactory()
    opts = model_admin.model._meta
    client.force_login(staff_user)
    response = client.get(f"/admin/{opts.app_label}/{opts.model_name}/", {f"{model_admin.date_hierarchy}__year": "2026"})
    assert response.status_code == 200


def _admins_and_inlines():
    for model_admin in admin.site._registry.values():
        yield model_admin
        yield from (inline(model_admin.model, admin.site) for inline in model_admin.inlines)


def _read_only(model_admin) -> set[str]:
    try:
        return set(model_admin.get_readonly_fields(RequestFactory().get("/admin/")))
    except Exception:  # a rule that needs the login: the declared ones
        return set(model_admin.readonly_fields)


JSON_FORM_ADMINS = [
    (model_admin, field.name) for model_admin in _admins_and_inlines() for field in model_admin.model._meta.fields
    if isinstance(field, models.JSONField) and field.editable and field.name not in _read_only(model_admin)
    and field.name not in (model_admin.exclude or ())
    and field.name in (model_admin.fields or [f.name for f in model_admin.model._meta.fields])
]


def test_every_admin_with_a_date_hierarchy_or_a_json_field_keeps_to_the_input_limits():
    assert JSON_FORM_ADMINS
    for model_admin in [*DATE_HIERARCHY_ADMINS, *(a for a, _ in JSON_FORM_ADMINS)]:
        assert isinstance(model_admin, AdminInputLimitsMixin), type(model_admin).__name__


@pytest.mark.parametrize(("model_admin", "name"), JSON_FORM_ADMINS,
                         ids=lambda v: v if isinstance(v, str) else type(v).__name__)
@pytest.mark.parametrize("typed", ["[" * 100_000, '["a\\u0000b"]', '{"\\ud800": 1}', '["' + "9" * 5000 + '"]',
                                   "[" + "9" * 5000 + "]", "[NaN]"],
                         ids=["nested", "nul", "surrogate", "long-text", "5000-digits", "nan"])
def test_json_typed_into_an_admin_form_is_a_form_error(staff_user, model_admin, name, typed):
    request = RequestFactory().get("/admin/")
    request.user = staff_user
    field = model_admin.formfield_for_dbfield(model_admin.model._meta.get_field(name), request)
    if typed.startswith('["9'):  # long text is fine JSON: it is read, not refused
        assert field.clean(typed) == ["9" * 5000]
        return
    with pytest.raises(ValidationError):
        field.clean(typed)
    assert field.bound_data(typed, None) is not None  # the form can show the typed text again
