"""The outgoing emails' admin: CloudRoute staff (superuser or the staff group) read what was queued,
sent and given up, with attempts and errors; nobody changes a row there; a partner firm's login
does not see the page at all (the recipients are founders' and other firms' addresses), and the
body, which carries a founder's working status link, is shown to nobody."""
from django.urls import reverse
from django.utils import timezone

from core.models import EmailStatus, OutboundEmail
from tests.factories import CloudRouteStaffFactory

FOUNDER = "ceo@zebracorn.example"


def emails():
    now = timezone.now()
    sent = OutboundEmail.objects.create(key="status:1", to=[FOUNDER], subject="Your CloudRoute status",
                                        body="Your link: https://x.example/status/SECRET-TOKEN/",
                                        status=EmailStatus.SENT, attempts=1, last_attempt_at=now, sent_at=now)
    failed = OutboundEmail.objects.create(key="match:2", to=["ops@alpha.example"], subject="New match",
                                          status=EmailStatus.FAILED, attempts=10, last_attempt_at=now,
                                          last_error="SMTPServerDisconnected: Connection unexpectedly closed")
    waiting = OutboundEmail.objects.create(key="milestone:3", composer="founder_milestone", params={"x": 1})
    return sent, failed, waiting


def test_staff_see_every_email_with_its_status_attempts_and_error_but_not_its_body(firms, client):
    sent, failed, waiting = emails()
    client.force_login(CloudRouteStaffFactory())  # the staff group, not a superuser
    page = client.get(reverse("admin:core_outboundemail_changelist"))
    assert page.status_code == 200
    text = page.content.decode()
    for expected in (FOUNDER, "Your CloudRoute status", "given up", "SMTPServerDisconnected", "waiting to be sent",
                     "founder_milestone"):
        assert expected in text, expected
    assert "SECRET-TOKEN" not in text
    failed_only = client.get(reverse("admin:core_outboundemail_changelist"), {"status__exact": "failed"})
    assert "New match" in failed_only.content.decode() and FOUNDER not in failed_only.content.decode()
    retried = client.get(reverse("admin:core_outboundemail_changelist"), {"retried": "yes"})
    assert "New match" in retried.content.decode() and "Your CloudRoute status" not in retried.content.decode()

    detail = client.get(reverse("admin:core_outboundemail_change", args=[sent.pk]))
    assert detail.status_code == 200
    assert FOUNDER in detail.content.decode() and "SECRET-TOKEN" not in detail.content.decode()
    assert 'name="_save"' not in detail.content.decode()
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:core_outboundemail_changelist") in index


def test_nobody_adds_changes_or_deletes_an_email_in_the_admin(firms, admin_client):
    sent, _failed, _waiting = emails()
    assert admin_client.get(reverse("admin:core_outboundemail_add")).status_code == 403
    admin_client.post(reverse("admin:core_outboundemail_change", args=[sent.pk]), {"status": "pending"})
    assert admin_client.post(reverse("admin:core_outboundemail_delete", args=[sent.pk]), {"post": "yes"}).status_code == 403
    sent.refresh_from_db()
    assert sent.status == EmailStatus.SENT


def test_a_partner_firm_login_never_sees_the_emails(firms, client):
    sent, _failed, _waiting = emails()
    client.force_login(firms["alice"])
    index = client.get(reverse("admin:index")).content.decode()
    assert "outboundemail" not in index and FOUNDER not in index
    for url in (reverse("admin:core_outboundemail_changelist"),
                reverse("admin:core_outboundemail_change", args=[sent.pk])):
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert FOUNDER not in response.content.decode()


def test_the_staff_admin_home_leads_with_what_waits_for_staff(firms, client):
    """Staff land on the admin index after logging in: it says how many engagements wait for a
    partner and how many emails were given up, each a click from its list; a partner's home does not."""
    from tests.bakeoff_jobs.factories import EngagementFactory

    EngagementFactory(status="unmatched", partner=None)
    emails()
    client.force_login(CloudRouteStaffFactory())
    index = client.get(reverse("admin:index")).content.decode()
    assert 'id="staff-callout"' in index
    assert "1 engagement without a partner." in index
    assert f'{reverse("admin:matching_engagement_changelist")}?queue=unmatched' in index
    assert "1 email given up." in index
    assert f'{reverse("admin:core_outboundemail_changelist")}?status__exact=failed' in index

    client.force_login(firms["alice"])
    assert 'id="staff-callout"' not in client.get(reverse("admin:index")).content.decode()
