"""The partner's engagement workspace: who may open it, Accept / Decline through the services with
their history row, and what it shows (founder, workload, pools, money as people read it)."""
import re

import pytest
from django.urls import reverse

from matching.admin_scoping import admin_groups_ensure
from matching.models import EngagementStatusChange
from tests.factories import roleless_logins

pytestmark = pytest.mark.django_db


def test_the_partner_home_lists_the_firms_engagements_and_links_each_workspace(client, firms):
    client.force_login(firms["alice"])
    page = client.get(reverse("workspace:home"))
    assert page.status_code == 200
    assert reverse("workspace:detail", args=[firms["engagement"].pk]) in page.content.decode()
    assert "Waiting for you to accept (1)" in page.content.decode()


def test_another_firms_login_sees_nothing_of_it(client, firms):
    engagement = firms["engagement"]
    client.force_login(firms["charlie"])
    assert "Parsewell" not in client.get(reverse("workspace:home")).content.decode()
    for name in ("detail", "ace"):
        assert client.get(reverse(f"workspace:{name}", args=[engagement.pk])).status_code == 404
    for name in ("accept", "decline", "ace_submit"):
        assert client.post(reverse(f"workspace:{name}", args=[engagement.pk]), {"reason": "x"}).status_code == 404
    engagement.refresh_from_db()
    assert engagement.status == "matched" and not engagement.history.filter(changed_by=firms["charlie"]).exists()


@pytest.mark.parametrize("who", ["is_staff_only", "removed_member_reactivated", "deactivated_firm_member",
                                 "unvetted_firm_member"])
def test_logins_without_a_role_get_403_and_change_nothing(client, firms, who):
    login = roleless_logins(admin_groups_ensure()[0])[who]
    client.force_login(login)
    engagement = firms["engagement"]
    assert client.get(reverse("workspace:home")).status_code == 403
    assert client.get(reverse("workspace:detail", args=[engagement.pk])).status_code == 403
    assert client.post(reverse("workspace:accept", args=[engagement.pk])).status_code == 403
    engagement.refresh_from_db()
    assert engagement.status == "matched"


def test_anonymous_visitors_are_sent_to_log_in(client, firms):
    response = client.get(reverse("workspace:detail", args=[firms["engagement"].pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_staff_see_every_firms_workspace(client, firms):
    client.force_login(firms["staff"])
    page = client.get(reverse("workspace:detail", args=[firms["engagement"].pk]))
    assert page.status_code == 200 and "Alpha Partners" in page.content.decode()


def test_the_workspace_shows_founder_workload_pools_and_money_with_separators(client, firms):
    engagement = firms["engagement"]
    client.force_login(firms["alice"])
    body = client.get(reverse("workspace:detail", args=[engagement.pk])).content.decode()
    assert "ada@parsewell.example" in body and "Ada Founder" in body
    assert "400,000 requests a month" in body
    expected = engagement.estimated_credits_usd
    assert expected > 0 and f"${expected:,.0f}" in body and f"{expected}" not in body  # "$100,000", never "100000.00"
    for verdict in engagement.intake.verdicts.filter(is_eligible=True):
        assert verdict.pool.name in body
    assert "Claude Haiku 4.5, Llama 3.1 8B Instruct in the catalog" in body
    assert "Accept this engagement" in body and 'name="reason"' in body


def test_accept_from_the_workspace_calls_the_service_and_writes_the_history_row(client, firms):
    engagement = firms["engagement"]
    client.force_login(firms["alice"])
    response = client.post(reverse("workspace:accept", args=[engagement.pk]))
    assert response["Location"] == reverse("workspace:detail", args=[engagement.pk])
    engagement.refresh_from_db()
    assert engagement.status == "accepted"
    row = EngagementStatusChange.objects.filter(engagement=engagement).last()
    assert (row.from_status, row.to_status, row.changed_by) == ("matched", "accepted", firms["alice"])
    assert engagement.ace_opportunity and engagement.credit_applications.exists()
    body = client.get(response["Location"]).content.decode()
    assert "Accept this engagement" not in body and "Open the ACE draft" in body
    assert f"{reverse('bakeoffs:launch')}?engagement={engagement.pk}" in body


def test_accept_is_post_only_and_needs_the_csrf_token(firms):
    from django.test import Client

    engagement = firms["engagement"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(firms["alice"])
    assert client.get(reverse("workspace:accept", args=[engagement.pk])).status_code == 405
    assert client.post(reverse("workspace:accept", args=[engagement.pk])).status_code == 403
    engagement.refresh_from_db()
    assert engagement.status == "matched"


def test_accepting_twice_says_why_instead_of_failing(client, firms, accepted):
    client.force_login(firms["alice"])
    response = client.post(reverse("workspace:accept", args=[accepted.pk]), follow=True)
    assert response.status_code == 200
    assert any("accepted" in str(m).lower() for m in response.context["messages"])


def test_decline_needs_a_reason_and_stores_nothing_without_one(client, firms):
    engagement = firms["engagement"]
    client.force_login(firms["alice"])
    response = client.post(reverse("workspace:decline", args=[engagement.pk]), {"reason": "   "})
    assert response.status_code == 400 and "Say why" in response.content.decode() or "required" in response.content.decode()
    engagement.refresh_from_db()
    assert engagement.status == "matched" and not engagement.history.filter(to_status="declined").exists()


def test_decline_with_a_reason_rematches_and_the_partner_goes_home(client, firms):
    engagement = firms["engagement"]
    client.force_login(firms["alice"])
    response = client.post(reverse("workspace:decline", args=[engagement.pk]), {"reason": "No GenAI capacity"})
    row = engagement.history.get(to_status="declined")
    assert (row.reason, row.changed_by, row.partner) == ("No GenAI capacity", firms["alice"], firms["alpha"])
    engagement.refresh_from_db()
    assert engagement.partner != firms["alpha"]  # re-matched (Bravo) or queued for staff
    assert response["Location"] == reverse("workspace:home")


def test_the_admin_list_links_each_engagement_to_its_workspace(client, firms):
    client.force_login(firms["alice"])
    body = client.get(reverse("admin:matching_engagement_changelist")).content.decode()
    assert reverse("workspace:detail", args=[firms["engagement"].pk]) in body


def test_the_admins_money_columns_read_with_separators_and_currency(client, firms, accepted):
    from matching.templatetags.money import money_text

    client.force_login(firms["alice"])
    pages = {
        "matching_engagement": [accepted.estimated_credits_usd],
        "matching_poolverdict": [v.estimated_amount_usd for v in accepted.intake.verdicts.filter(is_eligible=True, estimated_amount_usd__gt=0)],
        "filing_creditapplication": [a.amount_requested for a in accepted.credit_applications.all()],
    }
    for admin_page, amounts in pages.items():
        body = client.get(reverse(f"admin:{admin_page}_changelist")).content.decode()
        for amount in amounts:
            assert amount >= 1000 and money_text(amount) in body and f">{amount}<" not in body, (admin_page, amount)


def test_the_partners_read_only_admin_change_form_has_no_save_buttons(client, firms, accepted):
    client.force_login(firms["alice"])
    body = client.get(reverse("admin:matching_engagement_change", args=[accepted.pk])).content.decode()
    assert 'name="_save"' not in body and 'name="_continue"' not in body
    assert reverse("workspace:detail", args=[accepted.pk]) in body
    # A form with something to change keeps them.
    application = accepted.credit_applications.first()
    editable = client.get(reverse("admin:filing_creditapplication_change", args=[application.pk])).content.decode()
    assert 'name="_save"' in editable


def test_the_new_match_email_sends_the_partner_to_the_workspace(firms, mailoutbox, settings, celery_eager,
                                                                 django_capture_on_commit_callbacks):
    from matching.notifications import notification_queue

    settings.SITE_URL = "https://cloudroute.example"
    firms["alice"].email = "alice@alpha.example"
    firms["alice"].save()
    engagement = firms["engagement"]
    with django_capture_on_commit_callbacks(execute=True):
        notification_queue(key="new-match", composer="partner_new_match", engagement_id=engagement.pk,
                           partner_id=firms["alpha"].pk)
    (mail,) = mailoutbox
    url = f"https://cloudroute.example{reverse('workspace:detail', args=[engagement.pk])}"
    assert url in mail.body and url in mail.alternatives[0][0]
    assert f"${engagement.estimated_credits_usd:,.0f}" in mail.body


def test_the_partners_admin_home_leads_to_the_workspace_with_what_waits(client, firms):
    client.force_login(firms["alice"])
    body = client.get(reverse("admin:index")).content.decode()
    assert 'id="workspace-callout"' in body and "1 match waiting for you to accept" in body
    assert reverse("workspace:home") in body
    client.force_login(firms["staff"])
    assert 'id="workspace-callout"' not in client.get(reverse("admin:index")).content.decode()


def test_the_home_counts_every_engagement_and_pages_each_section(client, firms, django_assert_max_num_queries):
    """A firm with 200 newer closed engagements still sees the match waiting for it, and the closed
    ones come 50 to a page with links to the others, not all on one page and not cut off."""
    from tests.bakeoff_jobs.factories import EngagementFactory

    EngagementFactory.create_batch(201, partner=firms["alpha"], status="closed")
    client.force_login(firms["alice"])
    with django_assert_max_num_queries(20):
        page = client.get(reverse("workspace:home")).content.decode()
    assert "Waiting for you to accept (1)" in page
    assert reverse("workspace:detail", args=[firms["engagement"].pk]) in page
    assert "Closed and others (201)" in page
    assert len(re.findall(r'href="/engagements/\d+/"', page)) == 1 + 50
    assert "Page 1 of 5" in page and 'href="?other_page=2"' in page
    last = client.get(reverse("workspace:home"), {"other_page": 5}).content.decode()
    assert "Page 5 of 5" in last and "(201–201 of 201)" in last


def test_the_workspace_history_shows_the_filings_moves_beside_the_engagements(client, firms, accepted):
    """A credit application moving to review and the ACE review status moving appear in the
    engagement's history with their reasons, in time order, not only in each filing's admin page."""
    from filing.ace import ace_opportunity_record
    from filing.credit_applications import credit_application_record
    from filing.models import BenefitStatus

    application = accepted.credit_applications.select_related("pool").first()
    credit_application_record(application=application, status=BenefitStatus.IN_REVIEW, by=firms["alice"],
                              reason="Filed with AWS on the phone")
    ace_opportunity_record(opportunity=accepted.ace_opportunity, by=firms["alice"], review_status="Submitted")
    client.force_login(firms["alice"])
    page = client.get(reverse("workspace:detail", args=[accepted.pk])).content.decode()
    history = re.sub(r"<[^>]+>", "", page[page.index('id="history-heading"'):])
    accepted_at = history.index("Accepted")
    in_review = history.index(f"{application.pool.name} credit application: In review — Filed with AWS on the phone")
    ace = history.index("ACE review status: Submitted")
    assert accepted_at < in_review < ace
