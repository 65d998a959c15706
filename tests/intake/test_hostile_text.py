"""Names typed on the public form or API are stored as one plain line: a zero-width or bidi
control character cannot make a second intake of the same company, and no line break or reversed
reading travels into the emails, partners' pages or filings made from them."""
import pytest
from django.core import mail
from django.urls import reverse

from core.mail import email_queue
from core.models import OutboundEmail
from intake.models import Intake
from matching.intake_flow import intake_submit
from matching.models import Engagement
from tests.factories import intake_data
from tests.intake.test_intake_form import form_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

HIDDEN = ["\u200b", "\u200d", "\ufeff", "\u2060", "\u00ad", "\u202e", "\u2066"]


@pytest.mark.parametrize("hidden", HIDDEN)
def test_an_invisible_character_does_not_make_a_second_intake(pools, hidden):
    data = intake_data(company_name="Parsewell", contact_email="ada@parsewell.example")
    first, _ = intake_submit(data=data)

    again, created = intake_submit(data={**data, "company_name": f"Parse{hidden}well{hidden}"})

    assert not created and again == first
    assert Intake.objects.count() == 1 and Engagement.objects.count() == 1


def test_every_free_text_field_is_stored_as_one_plain_line(pools):
    hostile = "\u202eAda\r\nBcc: eve@evil.example\u200b\t Park\u2028"
    intake, _ = intake_submit(data=intake_data(funding_kind="institutional_vc",
                                               **{name: hostile for name in ("company_name", "contact_name",
                                                                             "investor_name", "models_of_interest")}))

    intake.refresh_from_db()
    for name in ("company_name", "contact_name", "investor_name", "models_of_interest"):
        assert getattr(intake, name) == "Ada Bcc: eve@evil.example Park", name
    # A joiner that spells a script (here Persian) stays; one between ASCII letters goes.
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 Labs"
    other, _ = intake_submit(data=intake_data(company_name=f"\u202e{persian}"))
    other.refresh_from_db()
    assert other.company_name == persian

    from intake.services import SINGLE_LINE_FIELDS  # a text field added later is made one line too

    assert {"company_name", "contact_name", "investor_name", "models_of_interest"} <= set(SINGLE_LINE_FIELDS)


def test_the_web_form_and_the_api_store_the_same_plain_line(client, pools):
    client.post(reverse("intake:home"), form_data(company_name="\u202eParse\u200bwell\r\n"))
    api = client.post(reverse("api:intake-submit"),
                      {**{k: v for k, v in form_data().items() if v != ""}, "company_name": "Parse\u200bwell",
                       "aws_account_id": "123456789012", "investor_is_activate_provider": True},
                      content_type="application/json")

    assert Intake.objects.get().company_name == "Parsewell"
    assert api.status_code == 409  # the same company and email: the intake the form made


def test_the_founders_email_subject_is_one_line_without_bidi_controls(pools, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        intake_submit(data=intake_data(company_name="\u202eParsewell\r\nBcc: eve@evil.example"))

    (email,) = mail.outbox
    assert email.subject == "CloudRoute: your AWS credit options for Parsewell Bcc: eve@evil.example"
    assert email.bcc == [] and email.recipients() == [email.to[0]]


def test_any_email_subject_with_a_line_break_is_sent_as_one_line(django_capture_on_commit_callbacks):
    """Every email's subject, whatever names went into it (a partner's, an eval set's)."""
    with django_capture_on_commit_callbacks(execute=True):
        email_queue(key="subject:1", to=["ada@parsewell.example"],
                    subject="CloudRoute: bake-off done \u2014 Evals\r\nBcc: eve@evil.example",
                    template="status_link", context={"intake": None, "status_url": "https://x.example/s/1/",
                                                     "max_age_days": 30})

    (email,) = mail.outbox
    assert email.subject == "CloudRoute: bake-off done \u2014 Evals Bcc: eve@evil.example"
    assert OutboundEmail.objects.get(key="subject:1").subject == email.subject


def test_an_email_domain_in_fullwidth_letters_is_the_address_it_delivers_to(client, pools):
    """Mail servers deliver "ａda@ｐarsewell.example"'s domain as parsewell.example: stored so, it
    is the same founder (no second intake) and partners read the address mail goes to."""
    data = intake_data(company_name="Parsewell", contact_email="ada@parsewell.example")
    first, _ = intake_submit(data=data)

    again, created = intake_submit(data={**data, "contact_email": "ada@\uff50arsewell.\uff45xample"})
    client.post(reverse("intake:home"), form_data(company_name="Other", contact_email="ADA@\uff50ARSEWELL.example"))
    api = client.post(reverse("api:intake-submit"),
                      {**{k: v for k, v in form_data().items() if v != ""}, "company_name": "Third",
                       "contact_email": "ada@parsewell.\uff45xample", "aws_account_id": "123456789012",
                       "investor_is_activate_provider": True},
                      content_type="application/json")

    assert not created and again == first
    assert api.status_code == 202
    assert set(Intake.objects.values_list("contact_email", flat=True)) == {"ada@parsewell.example"}


@pytest.mark.parametrize("website", ["https://aws.amazon.com@evil.example/", "https://user:pw@parsewell.example",
                                     "https://parsewell.example/\u202efdp.exe"])
def test_a_website_with_credentials_or_hidden_characters_is_refused_by_form_and_api(client, pools, website):
    """Shown to partners as a link: "https://aws.amazon.com@evil.example" reads as AWS, opens evil.example."""
    page = client.post(reverse("intake:home"), form_data(website=website))
    api = client.post(reverse("api:intake-submit"),
                      {**{k: v for k, v in form_data().items() if v != ""}, "website": website,
                       "aws_account_id": "123456789012", "investor_is_activate_provider": True},
                      content_type="application/json")

    assert page.status_code == 400 and "website" in page.context["form"].errors
    assert api.status_code == 400 and "website" in api.json()["fields"]
    assert not Intake.objects.exists()
