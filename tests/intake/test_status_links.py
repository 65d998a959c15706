"""Status links expire after STATUS_LINK_MAX_AGE_DAYS, can be replaced by staff (old links stop
working), and an expired link's page (HTML and API) says how to get a new one."""
from unittest import mock

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail, signing

from intake.links import LinkState, status_link_check, status_link_token, status_path
from matching import intake_flow
from tests.factories import CloudRouteStaffFactory, IntakeFactory, PartnerMemberFactory, open_engagement

pytestmark = pytest.mark.django_db


def _aged(token_maker, days: float):
    """A token made `days` ago."""
    import time

    with mock.patch("django.core.signing.time.time", return_value=time.time() - days * 86400):
        return token_maker()


@pytest.fixture
def intake(pools):
    return open_engagement().intake


def test_a_fresh_link_works_and_one_older_than_the_setting_has_expired(client, intake, settings):
    settings.STATUS_LINK_MAX_AGE_DAYS = 30
    fresh = _aged(lambda: status_link_token(intake), 29)
    old = _aged(lambda: status_link_token(intake), 31)
    assert status_link_check(fresh).state is LinkState.VALID
    assert client.get(f"/status/{fresh}/").status_code == 200

    page = client.get(f"/status/{old}/")
    assert page.status_code == 410
    html = page.content.decode()
    assert "This status link has expired" in html and "Email me a new link" in html
    assert intake.company_name not in html and intake.contact_email not in html
    api = client.get(f"/api/intakes/status/{old}/")
    assert api.status_code == 410
    assert "expired" in api.json()["detail"] and "new link" in api.json()["detail"]
    assert api.json()["fields"] == {}


def test_links_from_before_links_were_timed_have_expired(client, intake):
    legacy = signing.Signer(salt="intake.status-link").sign(str(intake.status_token))
    assert client.get(f"/status/{legacy}/").status_code == 410
    assert client.get(f"/api/intakes/status/{legacy}/").status_code == 410


def test_an_expired_link_mails_a_fresh_one_to_the_intakes_address_once_in_a_while(
        client, intake, celery_eager, django_capture_on_commit_callbacks):
    old = _aged(lambda: status_link_token(intake), 400)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"/status/{old}/")
    assert sent.status_code == 410 and "We have sent a new link" in sent.content.decode()
    assert [m.to for m in mail.outbox] == [[intake.contact_email]]
    fresh_url = next(line for line in mail.outbox[0].body.splitlines() if "/status/" in line).strip()
    assert client.get(fresh_url[fresh_url.index("/status/"):]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"/status/{old}/")
    assert "sent a few minutes ago" in again.content.decode() and len(mail.outbox) == 1


def test_staff_replace_a_link_the_old_one_stops_working_and_the_founder_gets_the_new_one(
        client, intake, celery_eager, django_capture_on_commit_callbacks):
    old = status_path(intake)
    client.force_login(CloudRouteStaffFactory())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/intake/intake/", {"action": "rotate_status_link", ACTION_CHECKBOX_NAME: [intake.pk]})
    intake.refresh_from_db()
    assert client.get(old).status_code == 410
    assert "no longer works" in client.get(old).content.decode()
    assert client.get(status_path(intake)).status_code == 200
    assert [m.to for m in mail.outbox] == [[intake.contact_email]]
    assert client.post(old).status_code == 405 and len(mail.outbox) == 1  # a replaced link asks for nothing


def test_partners_cannot_replace_links(client, intake):
    member = PartnerMemberFactory()
    type(intake.engagement).objects.filter(pk=intake.engagement.pk).update(partner=member.partner, status="accepted")
    from matching.admin_scoping import admin_groups_ensure

    member.user.groups.add(admin_groups_ensure()[0])
    client.force_login(member.user)
    before = intake.status_token
    page = client.get("/admin/intake/intake/")
    assert page.status_code == 200
    form = page.context["action_form"]
    assert form is None or "rotate_status_link" not in dict(form.fields["action"].choices)
    client.post("/admin/intake/intake/", {"action": "rotate_status_link", ACTION_CHECKBOX_NAME: [intake.pk]})
    intake.refresh_from_db()
    assert intake.status_token == before


def test_rotation_service_changes_the_token(intake):
    before = intake.status_token
    intake_flow.status_link_rotate(intake=intake)
    assert intake.status_token != before
    assert IntakeFactory._meta.model.objects.get(pk=intake.pk).status_token == intake.status_token


def test_staff_replace_a_link_through_the_api(intake, celery_eager, django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    old = status_link_token(intake)
    api = APIClient()
    api.force_authenticate(CloudRouteStaffFactory())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/staff/intakes/{intake.pk}/status-link/rotate/")
    assert response.status_code == 200
    assert response.json() == {"id": intake.pk, "emailed_to": intake.contact_email}
    anonymous = APIClient()
    gone = anonymous.get(f"/api/intakes/status/{old}/")
    assert gone.status_code == 410 and "replaced" in gone.json()["detail"]
    assert len(mail.outbox) == 1
    assert api.post(f"/api/staff/intakes/{10**12}/status-link/rotate/").status_code == 404
