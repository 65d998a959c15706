"""Every free-text intake field carries a script payload through the form page, the status page,
the admin changelist and change page, and the founder's email: it is always shown escaped where it
is rendered as HTML, and as typed in the plain-text email part."""
import pytest
from django.core import mail

from intake.links import status_path
from intake.models import Intake
from matching.intake_flow import intake_submit
from tests.factories import intake_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

FREE_TEXT_FIELDS = ["company_name", "contact_name", "investor_name", "models_of_interest", "website"]


def payload(field: str) -> str:
    if field == "website":  # still a valid URL: the script rides in the query string
        return 'https://evil.example/?q="><script>alert("xss-website")</script>'
    return f'"><script>alert("xss-{field}")</script><img src=x onerror=alert(1)>'


def assert_escaped(html: str, field: str, *, shown: bool = True) -> None:
    assert f'<script>alert("xss-{field}")' not in html
    assert "<img src=x onerror" not in html
    if shown:
        assert f"&lt;script&gt;alert(&quot;xss-{field}&quot;)" in html


@pytest.fixture
def hostile_intake(pools, django_capture_on_commit_callbacks) -> Intake:
    data = intake_data(funding_kind="institutional_vc", **{f: payload(f) for f in FREE_TEXT_FIELDS})
    with django_capture_on_commit_callbacks(execute=True):
        intake, _ = intake_submit(data=data)
    return intake


@pytest.mark.parametrize("field", FREE_TEXT_FIELDS)
def test_the_form_page_shows_typed_text_escaped(client, pools, field):
    data = intake_data(**{field: payload(field)})
    data["contact_email"] = "not an email"  # re-render the form with what was typed
    response = client.post("/", {k: v for k, v in data.items() if v is not None})
    assert response.status_code == 400
    assert_escaped(response.content.decode(), field)


@pytest.mark.parametrize("field", FREE_TEXT_FIELDS)
def test_status_page_admin_and_email_show_typed_text_escaped(client, hostile_intake, staff_user, field):
    status_page = client.get(status_path(hostile_intake)).content.decode()
    assert_escaped(status_page, field, shown=field == "company_name")

    client.force_login(staff_user)
    changelist = client.get("/admin/intake/intake/", {"q": ""}).content.decode()
    assert_escaped(changelist, field, shown=field == "company_name")
    change = client.get(f"/admin/intake/intake/{hostile_intake.pk}/change/").content.decode()
    assert_escaped(change, field)
    engagements = client.get("/admin/matching/engagement/").content.decode()
    assert_escaped(engagements, field, shown=False)

    message = mail.outbox[0]
    html_body = message.alternatives[0][0]
    assert_escaped(html_body, field, shown=field == "company_name")
    if field in ("company_name", "contact_name"):
        # The text/plain part is never rendered as markup: it shows what was typed, not entities.
        assert payload(field) in message.body
        assert "&lt;" not in message.body and "&quot;" not in message.body


def test_plain_text_email_shows_an_ampersand_as_typed(pools, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        intake_submit(data=intake_data(company_name="Bits & Bytes", contact_name="Ana O'Neil"))
    message = mail.outbox[0]
    assert "Bits & Bytes" in message.body and "Ana O'Neil" in message.body
    assert "Bits &amp; Bytes" in message.alternatives[0][0]
