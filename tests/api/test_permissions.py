"""The permission matrix: every endpoint called as anonymous, a founder holding a status link,
partner A (alice), partner B (bob) and CloudRoute staff, with the status each must get.
Each role's call runs in a savepoint that is rolled back, so every call sees the same data."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from tests.factories import DEACTIVATED_ROLELESS, ROLELESS

from .conftest import World, api_intake_body

ROLES = ("anonymous", "founder", "alice", "bob", "staff")
OK, CREATED, ACCEPTED, NO_CONTENT = 200, 201, 202, 204


@dataclass
class Case:
    name: str
    method: str
    url: Callable[[World], str]
    expect: tuple[int, int, int, int, int]  # anonymous, founder, alice, bob, staff
    body: Callable[[World], dict] | None = None
    multipart: bool = False


def _eng(w):
    return f"/api/engagements/{w.engagement_a.pk}/"


def _ace(w):
    return f"/api/ace-opportunities/{w.engagement_a.ace_opportunity.pk}/"


def _app(w):
    return f"/api/credit-applications/{w.engagement_a.credit_applications.get().pk}/"


def _upload(w):
    rows = b'{"prompt": "Capital of France?", "expected": "Paris", "scorer": "contains"}\n'
    return {"name": "smoke", "file": SimpleUploadedFile("cases.jsonl", rows, "application/jsonl"),
            "engagement": w.engagement_a.pk}


DENY_ANON = (401, 401)
CASES = [
    # Public intake: a founder's own business; tokens are ignored.
    Case("intake submit", "post", lambda w: "/api/intakes/", (ACCEPTED,) * 5,
         body=lambda w: api_intake_body()),
    Case("intake status, the founder's link", "get", lambda w: f"/api/intakes/status/{w.founder_token}/", (OK,) * 5),
    Case("intake status, a tampered link", "get", lambda w: f"/api/intakes/status/{w.founder_token[:-2]}xx/",
         (404,) * 5),
    Case("schema", "get", lambda w: "/api/schema/", (OK,) * 5),
    Case("API root", "get", lambda w: "/api/", (OK,) * 5),
    Case("Swagger UI", "get", lambda w: "/api/docs/", (OK,) * 5),
    Case("ReDoc", "get", lambda w: "/api/redoc/", (OK,) * 5),
    # Partners: only their own firm's records (another firm's are not found); staff see all.
    Case("engagement list", "get", lambda w: "/api/engagements/", (*DENY_ANON, OK, OK, OK)),
    Case("engagement detail", "get", _eng, (*DENY_ANON, OK, 404, OK)),
    Case("engagement accept", "post", lambda w: f"/api/engagements/{w.matched_a.pk}/accept/",
         (*DENY_ANON, OK, 404, OK)),
    Case("engagement decline", "post", lambda w: f"/api/engagements/{w.matched_a.pk}/decline/",
         (*DENY_ANON, NO_CONTENT, 404, OK), body=lambda w: {"reason": "No capacity this quarter."}),
    Case("ACE list", "get", lambda w: "/api/ace-opportunities/", (*DENY_ANON, OK, OK, OK)),
    Case("ACE detail", "get", _ace, (*DENY_ANON, OK, 404, OK)),
    Case("ACE edit draft", "patch", _ace, (*DENY_ANON, OK, 404, OK), body=lambda w: {"postal_code": "10115"}),
    Case("ACE submit", "post", lambda w: _ace(w) + "submit/", (*DENY_ANON, OK, 404, OK),
         body=lambda w: {"partner_central_id": "O1234567"}),
    Case("ACE record move", "post", lambda w: _ace(w) + "record/", (*DENY_ANON, OK, 404, OK),
         body=lambda w: {"stage": "Qualified"}),
    Case("credit application list", "get", lambda w: "/api/credit-applications/", (*DENY_ANON, OK, OK, OK)),
    Case("credit application detail", "get", _app, (*DENY_ANON, OK, 404, OK)),
    Case("credit application amount", "patch", _app, (*DENY_ANON, OK, 404, OK),
         body=lambda w: {"amount_requested": "30000.00"}),
    Case("credit application submit", "post", lambda w: _app(w) + "submit/", (*DENY_ANON, OK, 404, OK)),
    Case("credit application record", "post", lambda w: _app(w) + "record/", (*DENY_ANON, OK, 404, OK),
         body=lambda w: {"status": "CANCELED", "reason": "Founder withdrew."}),
    Case("catalog models", "get", lambda w: "/api/catalog-models/", (*DENY_ANON, OK, OK, OK)),
    Case("catalog model detail", "get", lambda w: f"/api/catalog-models/{w.models[0].pk}/", (*DENY_ANON, OK, OK, OK)),
    Case("eval set list", "get", lambda w: "/api/eval-sets/", (*DENY_ANON, OK, OK, OK)),
    Case("eval set detail", "get", lambda w: f"/api/eval-sets/{w.eval_set_a.pk}/", (*DENY_ANON, OK, 404, OK)),
    Case("eval set upload for A's engagement", "post", lambda w: "/api/eval-sets/", (*DENY_ANON, CREATED, 400, CREATED),
         body=_upload, multipart=True),
    Case("bake-off list", "get", lambda w: "/api/bakeoffs/", (*DENY_ANON, OK, OK, OK)),
    Case("bake-off launch on A's eval set", "post", lambda w: "/api/bakeoffs/", (*DENY_ANON, CREATED, 400, CREATED),
         body=lambda w: {"eval_set": w.eval_set_a.pk, "models": [m.model_id for m in w.models]}),
    Case("bake-off detail", "get", lambda w: f"/api/bakeoffs/{w.run_a.pk}/", (*DENY_ANON, OK, 404, OK)),
    Case("bake-off progress", "get", lambda w: f"/api/bakeoffs/{w.run_a.pk}/progress/", (*DENY_ANON, OK, 404, OK)),
    Case("bake-off report", "get", lambda w: f"/api/bakeoffs/{w.finished_a.pk}/report/", (*DENY_ANON, OK, 404, OK)),
    Case("bake-off cancel", "post", lambda w: f"/api/bakeoffs/{w.run_a.pk}/cancel/", (*DENY_ANON, OK, 404, OK)),
    # Staff only.
    Case("staff pools", "get", lambda w: "/api/staff/pools/", (*DENY_ANON, 403, 403, OK)),
    Case("staff pool detail", "get", lambda w: f"/api/staff/pools/{w.engagement_a.matched_pools.get().pk}/",
         (*DENY_ANON, 403, 403, OK)),
    Case("staff partners", "get", lambda w: "/api/staff/partners/", (*DENY_ANON, 403, 403, OK)),
    Case("staff partner detail", "get", lambda w: f"/api/staff/partners/{w.partner_a.pk}/", (*DENY_ANON, 403, 403, OK)),
    Case("staff pipeline", "get", lambda w: "/api/staff/pipeline/", (*DENY_ANON, 403, 403, OK)),
    Case("staff replace a status link", "post",
         lambda w: f"/api/staff/intakes/{w.engagement_a.intake.pk}/status-link/rotate/", (*DENY_ANON, 403, 403, OK)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_role_gets_exactly_what_it_may(world, case):
    got = {}
    for role in ROLES:
        with transaction.atomic():
            client = world.client(role)
            body = case.body(world) if case.body else None
            kwargs = {"format": "multipart" if case.multipart else "json"} if body is not None else {}
            response = getattr(client, case.method)(case.url(world), body, **kwargs)
            got[role] = response.status_code
            if response.status_code >= 400 and response.get("Content-Type", "").startswith("application/json"):
                assert set(response.json()) == {"detail", "fields"}, response.json()
            transaction.set_rollback(True)
    assert got == dict(zip(ROLES, case.expect))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_logins_without_a_role_get_nothing_anywhere(world_roleless, case):
    """is_staff alone, a removed member (also one turned back on), members of a deleted, a
    deactivated and an unvetted firm: refused wherever an anonymous caller is; a public route
    answers them as it answers anyone. Deactivated logins no longer authenticate at all."""
    world = world_roleless
    anonymous = case.expect[0]
    for role in ROLELESS:
        with transaction.atomic():
            body = case.body(world) if case.body else None
            kwargs = {"format": "multipart" if case.multipart else "json"} if body is not None else {}
            response = getattr(world.client(role), case.method)(case.url(world), body, **kwargs)
            if anonymous == 401:
                expected = 401 if role in DEACTIVATED_ROLELESS else 403
            else:
                expected = anonymous
            assert response.status_code == expected, (role, response.content[:300])
            transaction.set_rollback(True)


def test_a_partner_session_gets_nothing_once_staff_delete_its_firm(world):
    """The reported scenario end to end: alice's open browser session and API token, staff delete
    her firm through the admin, and the same session and token then read and change nothing."""
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
    from rest_framework.test import APIClient

    from filing.models import CreditApplication
    from matching.models import Engagement, Partner

    idle = Partner.objects.create(name="Idle Partners", is_vetted=True)
    from tests.factories import PartnerMemberFactory

    dora = PartnerMemberFactory(partner=idle, user__username="dora").user
    session = APIClient()
    session.force_login(dora)
    token = world.client("alice")  # a token client, for a firm that is deleted below
    assert session.get("/api/engagements/").status_code == 200

    admin = APIClient()
    admin.force_login(world.staff)
    deleted = admin.post("/admin/matching/partner/", {"action": "delete_selected", ACTION_CHECKBOX_NAME: [idle.pk],
                                                      "post": "yes"})
    assert deleted.status_code == 302 and not Partner.objects.filter(pk=idle.pk).exists()
    application = world.engagement_b.credit_applications.get()
    before = application.amount_requested
    for url in ("/api/engagements/", f"/api/engagements/{world.engagement_b.pk}/", "/api/staff/pipeline/",
                "/api/staff/partners/", "/api/bakeoffs/", f"/api/intakes/status/{world.founder_token}x/"):
        assert session.get(url).status_code in (401, 403, 404), url
    assert session.patch(f"/api/credit-applications/{application.pk}/", {"amount_requested": "1.00"},
                         format="json").status_code in (401, 403)
    for url in ("/staff/pipeline/", "/staff/pipeline.csv", f"/bakeoffs/{world.run_a.pk}/results.csv",
                "/admin/", "/admin/matching/engagement/", "/admin/intake/intake/"):
        response = session.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    application.refresh_from_db()
    assert application.amount_requested == before
    assert Engagement.objects.count() == 3

    # The member row removed instead: the same for an API token.
    world.alice.partner_member.delete()
    assert token.get("/api/engagements/").status_code == 401
    assert token.patch(f"/api/credit-applications/{application.pk}/", {"amount_requested": "1.00"},
                       format="json").status_code == 401
    assert CreditApplication.objects.get(pk=application.pk).amount_requested == before


def test_every_api_route_is_in_the_matrix(world):
    """A new endpoint cannot slip in without its row above."""
    from django.urls import resolve

    from cloudroute import api_urls

    routes = {p.name for p in api_urls.urlpatterns} - {"schema", "docs", "redoc"}
    covered = {resolve(case.url(world).split("?")[0]).url_name for case in CASES}
    assert routes <= covered, routes - covered


def test_lists_hold_only_the_callers_firm(world):
    def ids(role, url):
        return {row["id"] for row in world.client(role).get(url).json()["results"]}

    assert ids("alice", "/api/engagements/") == {world.engagement_a.pk, world.matched_a.pk}
    assert ids("bob", "/api/engagements/") == {world.engagement_b.pk}
    assert ids("staff", "/api/engagements/") == {world.engagement_a.pk, world.matched_a.pk, world.engagement_b.pk}
    assert ids("bob", "/api/eval-sets/") == {world.eval_set_b.pk}
    assert ids("bob", "/api/bakeoffs/") == set()
    assert ids("alice", "/api/bakeoffs/") == {world.run_a.pk, world.finished_a.pk}
    assert ids("bob", "/api/credit-applications/") == {world.engagement_b.credit_applications.get().pk}


def test_partner_cannot_upload_into_or_launch_on_another_firms_records(world):
    bob = world.client("bob")
    response = bob.post("/api/bakeoffs/", {"eval_set": world.eval_set_a.pk,
                                           "models": [m.model_id for m in world.models]}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"eval_set": ["No eval set of yours has this id."]}


def test_staff_may_use_the_browser_session_but_must_send_the_csrf_token(world):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.staff)
    assert client.get("/api/staff/pipeline/").status_code == 200
    refused = client.post(f"/api/engagements/{world.matched_a.pk}/accept/")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
