"""A list filter on a relation, as Django builds it, offers every row of the related table as a
choice. For a partner the admin offers only the related rows its own (scoped) list holds: walked
over every registered admin model and every relation it has, as if each were a list filter, so a
filter added tomorrow is covered without editing this file."""
from django.contrib import admin
from django.test import RequestFactory

from bakeoff_jobs.catalog_models import CatalogModel

from .conftest import MARKERS


def relation_filters(model):
    for field in model._meta.get_fields():
        if field.is_relation and field.concrete and (field.many_to_one or field.many_to_many or field.one_to_one):
            yield field.name


def filter_choices(model_admin_class, model, field_name, user):
    """The choices each list filter of the admin's changelist offers `user`, with `field_name`
    added to its filters."""
    site = admin.AdminSite(name="relation_filters")
    with_filter = type(f"{model_admin_class.__name__}WithFilter", (model_admin_class,),
                       {"list_filter": [*model_admin_class.list_filter, field_name]})
    model_admin = with_filter(model, site)
    request = RequestFactory().get("/")
    request.user = user
    changelist = model_admin.get_changelist_instance(request)
    return [str(label) for spec in changelist.filter_specs for _value, label in getattr(spec, "lookup_choices", [])]


def test_no_relation_filter_offers_a_partner_another_firms_rows(firms):
    walked = 0
    for model, model_admin in admin.site._registry.items():
        if model is CatalogModel or not model_admin.has_view_permission(_request(firms["charlie"])):
            continue
        for name in relation_filters(model):
            labels = " ".join(filter_choices(type(model_admin), model, name, firms["charlie"])).lower()
            for marker in MARKERS:
                assert marker not in labels, f"{model.__name__} filter on {name} offers {marker!r} to another firm"
            walked += 1
    assert walked > 10


def test_a_relation_filter_still_offers_the_firm_its_own_rows(firms):
    from matching.admin import EngagementAdmin
    from matching.models import Engagement
    from tests.factories import IntakeFactory

    # A filter shows itself from two choices on.
    Engagement.objects.create(intake=IntakeFactory(company_name="Second Zebracorn"), partner=firms["alpha"],
                              status="matched")
    labels = " ".join(filter_choices(EngagementAdmin, Engagement, "intake", firms["alice"])).lower()
    assert "zebracorn secret labs" in labels and "second zebracorn" in labels


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request
