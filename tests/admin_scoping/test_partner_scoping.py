"""Walks every registered admin model (changelist, add, change, history, delete), every
autocomplete endpoint and every bake-off page and export as a partner of another firm: nothing of
the first firm's data comes back. New models and admins are covered without editing this file."""
import pytest
from django.contrib import admin
from django.urls import reverse

from bakeoff_jobs.catalog_models import CatalogModel

from .conftest import MARKERS

# Reference data every partner reads by design (model ids and public prices).
SHARED_REFERENCE_MODELS = {CatalogModel}
NOTHING = {302, 403, 404}


def assert_nothing_leaks(response, url):
    body = response.content.decode(errors="replace").lower()
    for marker in MARKERS:
        assert marker not in body, f"{url} shows {marker!r} to another firm"


def registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def charlie_client(client, firms):
    client.force_login(firms["charlie"])
    return client


def test_changelists_and_add_forms_show_nothing_of_another_firm(charlie_client):
    for model, model_admin in registered():
        for url in (admin_url(model, "changelist"), admin_url(model, "add")):
            response = charlie_client.get(url)
            assert response.status_code in {200} | NOTHING, url
            assert_nothing_leaks(response, url)
            if response.status_code == 200 and url.endswith("/") and "cl" in (response.context or {}):
                if model not in SHARED_REFERENCE_MODELS:
                    assert response.context["cl"].result_count == 0, f"{url} lists another firm's rows"


def test_every_object_of_another_firm_is_not_found(charlie_client, firms):
    checked = 0
    for model, model_admin in registered():
        if model in SHARED_REFERENCE_MODELS:
            continue
        for obj in model._default_manager.all():
            if getattr(obj, "pk", None) in {firms["bravo"].pk} and model is type(firms["bravo"]):
                continue  # charlie's own firm: staff-only admin, so still refused below
            for view in ("change", "history", "delete"):
                url = admin_url(model, view, obj.pk)
                response = charlie_client.get(url)
                assert response.status_code in NOTHING, f"{url} answered {response.status_code}"
                assert_nothing_leaks(response, url)
                checked += 1
            response = charlie_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"})
            assert response.status_code in NOTHING
            assert model._default_manager.filter(pk=obj.pk).exists()
    assert checked > 30  # the walk really visited the firm's records


def test_autocomplete_never_returns_another_firms_rows(charlie_client):
    for source_model, _ in registered():
        for field in source_model._meta.get_fields():
            remote = getattr(field, "related_model", None)
            if not (field.is_relation and (field.many_to_one or field.many_to_many) and remote in admin.site._registry):
                continue
            if field.auto_created or remote in SHARED_REFERENCE_MODELS:
                continue
            url = reverse("admin:autocomplete")
            params = {"app_label": source_model._meta.app_label, "model_name": source_model._meta.model_name,
                      "field_name": field.name, "term": ""}
            response = charlie_client.get(url, params)
            assert response.status_code in {200} | NOTHING, (source_model, field.name)
            assert_nothing_leaks(response, url)
            if response.status_code == 200:
                assert response.json()["results"] == [], (source_model, field.name)


def test_search_and_filters_find_nothing_of_another_firm(charlie_client):
    for model, model_admin in registered():
        url = admin_url(model, "changelist")
        response = charlie_client.get(url, {"q": "Secret Labs"})  # part of the company name, not a marker
        assert response.status_code in {200} | NOTHING
        assert_nothing_leaks(response, url)


def test_owner_and_colleague_see_their_firms_records(client, firms):
    for user in (firms["alice"], firms["bob"]):
        client.force_login(user)
        engagement = firms["engagement"]
        assert client.get(admin_url(type(engagement), "change", engagement.pk)).status_code == 200
        run = firms["run"]
        assert client.get(admin_url(type(run), "change", run.pk)).status_code == 200
        listing = client.get(admin_url(type(engagement), "changelist"))
        assert listing.context["cl"].result_count == 1


def test_partner_cannot_see_pool_rules_partner_roster_or_staff_actions(client, firms):
    from matching.models import CreditPool, Engagement, Partner, RuleSetVersion

    client.force_login(firms["alice"])
    for model in (CreditPool, RuleSetVersion, Partner):
        assert client.get(admin_url(model, "changelist")).status_code == 403
    page = client.get(admin_url(Engagement, "changelist"))
    actions = dict(page.context["action_form"].fields["action"].choices)
    assert "accept" in actions and "decline" in actions
    assert "assign_partner" not in actions and "rematch" not in actions
    detail = client.get(admin_url(Engagement, "change", firms["engagement"].pk)).content.decode()
    assert "Match decision" not in detail  # the candidate scores of other firms are staff-only


def site_urls(run_pk: int):
    """Every page outside the admin, with firm A's run id where a page takes an id."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                # The API has its own matrix over every route and role (tests/api/test_permissions.py,
                # which fails when a route has no row), so this walk covers the pages.
                if not route.startswith(("admin/", "api/")):
                    yield from walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern):
                converters = entry.pattern.converters
                if any(name != "pk" for name in converters):
                    continue  # the founder's status page takes a signed secret, tested in tests/intake
                yield "/" + route.replace("<int:pk>", str(run_pk))

    return list(walk(get_resolver().url_patterns))


def test_pages_and_exports_outside_the_admin_show_nothing_of_another_firm(charlie_client, firms):
    urls = site_urls(firms["run"].pk)
    assert any("results.csv" in url for url in urls) and any("pipeline" in url for url in urls)
    for url in urls:
        response = charlie_client.get(url)
        if response.status_code == 405:  # POST-only: try the POST
            response = charlie_client.post(url, {"shared": "1"})
        assert response.status_code in {200} | NOTHING, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        for marker in MARKERS:
            assert marker.encode() not in body.lower(), f"{url} shows {marker!r} to another firm"


def test_staff_pages_refuse_partner_logins(client, firms):
    client.force_login(firms["alice"])
    assert client.get(reverse("staff:pipeline")).status_code == 403
    assert client.get(reverse("staff:pipeline_csv")).status_code == 403


def test_partner_declines_with_a_reason_through_the_admin_and_an_outsider_cannot(client, firms):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    from matching.models import Engagement
    from tests.factories import IntakeFactory

    engagement = Engagement.objects.create(intake=IntakeFactory(company_name="Second Zebracorn"),
                                           partner=firms["alpha"], status="matched")
    url = admin_url(Engagement, "changelist")
    form = {"action": "decline", ACTION_CHECKBOX_NAME: [engagement.pk], "apply": "1", "reason": "No GPU capacity"}

    client.force_login(firms["charlie"])
    client.post(url, form)
    engagement.refresh_from_db()
    assert engagement.status == "matched"  # another firm's row is not in charlie's queryset

    client.force_login(firms["alice"])
    client.post(url, form)
    decline = engagement.history.get(to_status="declined")
    assert (decline.reason, decline.changed_by) == ("No GPU capacity", firms["alice"])
