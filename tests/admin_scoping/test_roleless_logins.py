"""Every route outside the API (the API has its own matrix in tests/api/test_permissions.py) and
every admin page, called by each login that holds no role: is_staff alone, a removed member (also
one turned back on), members of a deleted, a deactivated and an unvetted firm. Each keeps the
"Partner staff" group and so its Django model permissions; none reads or changes anything. A new
route without a row in PAGES fails test_every_page_route_has_a_row."""
import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from intake.links import status_path
from matching.admin_scoping import PartnerScopedAdminMixin, admin_groups_ensure
from tests.factories import DEACTIVATED_ROLELESS, ROLELESS, CloudRouteStaffFactory, roleless_logins

from .conftest import MARKERS

PUBLIC, PARTNER_OR_STAFF, STAFF_ONLY = "public", "partner or staff", "staff"
# url name -> who may open it.
PAGES = {
    "intake:home": PUBLIC,
    "intake:status": PUBLIC,  # the founder's signed link is the credential (tests/intake)
    ":favicon": PUBLIC,
    "staff:home": STAFF_ONLY,
    "staff:pipeline": STAFF_ONLY,
    "staff:pipeline_csv": STAFF_ONLY,
    "staff:engagements": STAFF_ONLY,
    "bakeoffs:launch": PARTNER_OR_STAFF,
    "bakeoffs:upload": PARTNER_OR_STAFF,
    "bakeoffs:report": PARTNER_OR_STAFF,
    "bakeoffs:progress": PARTNER_OR_STAFF,
    "bakeoffs:report_json": PARTNER_OR_STAFF,
    "bakeoffs:results_csv": PARTNER_OR_STAFF,
    "bakeoffs:cancel": PARTNER_OR_STAFF,
    "bakeoffs:share": PARTNER_OR_STAFF,
    "workspace:home": PARTNER_OR_STAFF,
    "workspace:detail": PARTNER_OR_STAFF,
    "workspace:accept": PARTNER_OR_STAFF,
    "workspace:decline": PARTNER_OR_STAFF,
    "workspace:ace": PARTNER_OR_STAFF,
    "workspace:ace_submit": PARTNER_OR_STAFF,
}


def page_routes():
    """(url name, pattern) of every route outside admin/ and api/."""

    def walk(patterns, prefix="", namespace=""):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                if not route.startswith(("admin/", "api/")):
                    yield from walk(entry.url_patterns, route, entry.namespace or namespace)
            elif isinstance(entry, URLPattern):
                yield f"{namespace}:{entry.name}", route

    return list(walk(get_resolver().url_patterns))


def page_url(name, firms):
    if name == "intake:status":
        return status_path(firms["engagement"].intake)
    route = dict(page_routes())[name]
    owner = firms["engagement"] if name.startswith("workspace:") else firms["run"]
    return reverse(name.removeprefix(":"), args=[owner.pk] if "<int:pk>" in route else [])


@pytest.fixture
def cast(firms):
    return {"staff": CloudRouteStaffFactory(username="staff"), "alice": firms["alice"],
            **roleless_logins(admin_groups_ensure()[0])}


def test_every_page_route_has_a_row():
    names = {name for name, _ in page_routes()}
    assert names == set(PAGES), names ^ set(PAGES)


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _expected(kind: str, who: str) -> set[int]:
    if kind == PUBLIC:
        return {200}
    if who == "anonymous" or who in DEACTIVATED_ROLELESS:
        return {302}  # to the login page: a deactivated login's session no longer authenticates
    if who == "staff" or (who == "alice" and kind == PARTNER_OR_STAFF):
        return {200, 405, 409}  # 405: a POST-only route asked with GET; 409: the report is not ready
    return {403}


@pytest.mark.parametrize("who", ["anonymous", "alice", "staff", *ROLELESS])
def test_each_page_answers_each_login_as_its_role_allows(client, firms, cast, who):
    if who != "anonymous":
        client.force_login(cast[who])
    for name, kind in PAGES.items():
        url = page_url(name, firms)
        response = client.get(url)
        assert response.status_code in _expected(kind, who), (who, url, response.status_code)
        if response.status_code == 302:
            assert "/login/" in response["Location"]
        if who not in ("alice", "staff") and kind != PUBLIC:
            body = _body(response).lower()
            assert not any(marker.encode() in body for marker in MARKERS), (who, url)


@pytest.mark.parametrize("who", ROLELESS)
def test_logins_without_a_role_cannot_cancel_or_share(client, firms, cast, who):
    run = firms["run"]
    client.force_login(cast[who])
    for name in ("bakeoffs:cancel", "bakeoffs:share"):
        assert client.post(reverse(name, args=[run.pk]), {"shared": "1"}).status_code in (302, 403)
    run.refresh_from_db()
    assert run.status == "queued" and not run.shared_with_founder and not run.history.filter(
        changed_by=cast[who]).exists()


def _admin_urls(model, objects):
    meta = model._meta
    yield reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    yield reverse(f"admin:{meta.app_label}_{meta.model_name}_add")
    for obj in objects:
        for view in ("change", "history", "delete"):
            yield reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[obj.pk])


@pytest.mark.parametrize("who", ROLELESS)
def test_the_admin_is_closed_to_logins_without_a_role(client, firms, cast, who):
    client.force_login(cast[who])
    index = client.get(reverse("admin:index"))
    assert index.status_code == 302 and "/login/" in index["Location"]
    for model in admin.site._registry:
        for url in _admin_urls(model, model._default_manager.all()[:3]):
            response = client.get(url)
            assert response.status_code == 302 and "/login/" in response["Location"], (who, url)
    engagement = firms["engagement"]
    client.post(reverse("admin:matching_engagement_changelist"),
                {"action": "close", ACTION_CHECKBOX_NAME: [engagement.pk]})
    engagement.refresh_from_db()
    assert engagement.status == "accepted"


@pytest.mark.parametrize("who", ROLELESS)
def test_every_model_admin_gives_a_login_without_a_role_nothing_even_past_the_site(firms, cast, who):
    """The mixin refuses by itself too (no module, no rows, no permission), whatever the login's
    Django permissions: the site's gate is not the only guard."""
    request = RequestFactory().get("/admin/")
    request.user = cast[who]
    for model, model_admin in admin.site._registry.items():
        assert not model_admin.has_module_permission(request), model
        assert not model_admin.has_view_permission(request), model
        assert not model_admin.has_change_permission(request), model
        assert not model_admin.has_delete_permission(request), model
        if isinstance(model_admin, PartnerScopedAdminMixin):
            assert not model_admin.get_queryset(request).exists(), model
        else:  # Django's own (users, groups, tokens) and the lockout log: superusers only, by model permission
            assert model._meta.app_label in ("auth", "authtoken", "axes"), model
