"""In the admin a partner cannot probe what it may not read: the founder's status token by prefix,
another firm's ids through filters, or share a report past the service that writes its history."""
import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from bakeoff_jobs.models import BakeoffRun
from intake.models import Intake
from tests.factories import CloudRouteStaffFactory


@pytest.fixture
def alice_client(client, firms):
    client.force_login(firms["alice"])
    return client


def test_a_partner_cannot_look_up_the_status_token_by_prefix(alice_client, firms):
    token = str(firms["engagement"].intake.status_token)
    url = reverse("admin:intake_intake_changelist")
    right = alice_client.get(url, {"status_token__startswith": token[:1]})
    wrong = alice_client.get(url, {"status_token__startswith": "g"})  # never a UUID's first character
    assert right.status_code == wrong.status_code == 400
    assert right.content == wrong.content
    for lookup in ("status_token", "status_token__exact", "engagement__intake__status_token__startswith",
                   "form_submission_key__startswith", "contact_email__startswith"):
        assert alice_client.get(url, {lookup: token[:1]}).status_code == 400, lookup
    assert token not in alice_client.get(url).content.decode()


def test_a_partner_may_still_use_the_filters_it_is_shown(alice_client):
    url = reverse("admin:intake_intake_changelist")
    assert alice_client.get(url, {"stage__exact": "seed"}).status_code == 200
    assert alice_client.get(url, {"submitted_at__year": "2026"}).status_code == 200
    page = reverse("admin:matching_engagement_changelist")
    assert alice_client.get(page, {"status__exact": "accepted"}).context["cl"].result_count == 1


def _without_ids(content: bytes, *ids) -> bytes:
    for value in ids:
        content = content.replace(str(value).encode(), b"ID")
    return content


def test_admin_filters_answer_another_firms_id_as_an_id_that_does_not_exist(client, firms):
    """Every changelist, every parameter that names a related row, as a partner of another firm."""
    client.force_login(firms["charlie"])
    engagement, run, eval_set = firms["engagement"], firms["run"], firms["eval_set"]
    foreign = {"engagement": engagement.pk, "intake": engagement.intake.pk, "run": run.pk,
               "eval_set": eval_set.pk, "partner": firms["alpha"].pk}
    checked = 0
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for field in model._meta.get_fields():
            if not (field.is_relation and field.many_to_one) or field.name not in foreign:
                continue
            for param in (f"{field.name}__id__exact", f"{field.name}__exact", field.name):
                named = client.get(url, {param: foreign[field.name]})
                missing = client.get(url, {param: 10**9})
                assert named.status_code == missing.status_code, (url, param)
                assert _without_ids(named.content, foreign[field.name], 10**9) == _without_ids(
                    missing.content, foreign[field.name], 10**9), (url, param)
                checked += 1
    assert checked > 10


def test_the_admin_form_cannot_share_a_run_with_the_founder(alice_client, firms):
    run = firms["run"]
    BakeoffRun.objects.filter(pk=run.pk).update(status="finished", report={"models": []})
    url = reverse("admin:bakeoff_jobs_bakeoffrun_change", args=[run.pk])
    form = alice_client.get(url)
    assert 'name="shared_with_founder"' not in form.content.decode()
    alice_client.post(url, {"shared_with_founder": "on", "cache_system_prompt": "on"})
    run.refresh_from_db()
    assert not run.shared_with_founder and not run.cache_system_prompt


@pytest.mark.parametrize("who", ["alice", "staff"])
def test_sharing_goes_through_the_service_and_its_history_row(client, firms, who):
    user = firms["alice"] if who == "alice" else CloudRouteStaffFactory(username="staff")
    client.force_login(user)
    run = firms["run"]
    BakeoffRun.objects.filter(pk=run.pk).update(status="finished", report={"models": []})
    url = reverse("admin:bakeoff_jobs_bakeoffrun_changelist")
    client.post(url, {"action": "share_with_founder", ACTION_CHECKBOX_NAME: [run.pk]})
    run.refresh_from_db()
    assert run.shared_with_founder
    assert run.history.filter(reason="shared with the founder", changed_by=user).exists()
    client.post(url, {"action": "stop_sharing_with_founder", ACTION_CHECKBOX_NAME: [run.pk]})
    run.refresh_from_db()
    assert not run.shared_with_founder


def test_another_firm_cannot_share_a_run(client, firms):
    client.force_login(firms["charlie"])
    run = firms["run"]
    BakeoffRun.objects.filter(pk=run.pk).update(status="finished", report={"models": []})
    client.post(reverse("admin:bakeoff_jobs_bakeoffrun_changelist"),
                {"action": "share_with_founder", ACTION_CHECKBOX_NAME: [run.pk]})
    run.refresh_from_db()
    assert not run.shared_with_founder


def test_staff_still_filter_by_anything(client, firms):
    client.force_login(CloudRouteStaffFactory(username="staff"))
    token = str(firms["engagement"].intake.status_token)
    page = client.get(reverse("admin:intake_intake_changelist"), {"status_token__startswith": token[:8]})
    assert page.status_code == 200 and page.context["cl"].result_count == Intake.objects.filter(
        status_token__startswith=token[:8]).count()
