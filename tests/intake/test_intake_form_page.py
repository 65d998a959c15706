"""The public form's page: labels say once and truly whether a field is optional, the investor
field is marked required while the funding kind needs it (and refused with the same words), the
country is a select, and an invalid form comes back with an error summary that links to each field."""
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

import json

from intake.models import FUNDING_KINDS_NAMING_INVESTOR, FundingKind

from .test_intake_form import form_data

pytestmark = pytest.mark.django_db


class _Page(HTMLParser):
    """Labels (for= → text), element ids, the error summary's links and the page's scripts."""

    def __init__(self):
        super().__init__()
        self.labels: dict[str, str] = {}
        self.ids: set[str] = set()
        self.summary: dict | None = None
        self.summary_links: list[str] = []
        self.scripts: list[dict] = []
        self.selects: dict[str, dict] = {}
        self.inputs: dict[str, dict] = {}
        self.described_by: set[str] = set()
        self._label_for = None
        self._depth_in_summary = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        self.described_by.update((a.get("aria-describedby") or "").split())
        if tag == "label":
            self._label_for = a.get("for")
            self.labels[self._label_for] = ""
        if a.get("id") == "error-summary":
            self.summary = a
        if tag == "a" and "data-focus" in a:
            self.summary_links.append(a["href"])
        if tag == "script":
            self.scripts.append(a)
        if tag == "select":
            self.selects[a.get("name")] = a
        if tag in ("input", "textarea"):
            self.inputs[a.get("name")] = a

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_for = None

    def handle_data(self, data):
        if self._label_for is not None:
            self.labels[self._label_for] += data


def _parse(response) -> _Page:
    page = _Page()
    page.feed(response.content.decode())
    return page


def _label(page, name) -> str:
    return " ".join(page.labels[f"id_{name}"].split())


def test_no_label_says_optional_twice_and_the_aws_account_id_says_it_once(client):
    page = _parse(client.get(reverse("intake:home")))
    assert _label(page, "aws_account_id") == "AWS account id (optional)"
    for field, text in page.labels.items():
        assert text.count("(optional)") <= 1, (field, text)
        assert not ("(optional)" in text and "(required)" in text), (field, text)


def test_no_form_drawn_by_the_shared_field_template_writes_its_own_marker_into_a_label():
    """intake/_field.html adds "(optional)" or "(required)"; a label that says it too reads twice."""
    from bakeoff_jobs.forms import EvalSetUploadForm, LaunchForm
    from intake.forms import IntakeForm

    for form in (IntakeForm, EvalSetUploadForm, LaunchForm):
        for name, field in form.base_fields.items():
            label = str(field.label or "").lower()
            assert "optional" not in label and "required" not in label, (form.__name__, name, field.label)


def test_the_blank_form_marks_the_investor_optional_and_names_what_makes_it_required(client):
    response = client.get(reverse("intake:home"))
    page = _parse(response)
    assert _label(page, "investor_name") == "Lead investor or accelerator (optional)"
    investor = page.inputs["investor_name"]
    assert json.loads(investor["data-required-if"]) == [
        {"field": "id_funding_kind", "values": [str(k) for k in FUNDING_KINDS_NAMING_INVESTOR]},
        {"field": "id_investor_is_activate_provider", "checked": True},
    ]
    assert "aria-required" not in investor
    assert "Required for Institutional VC or Accelerator funding, and when it is an AWS Activate Provider." in (
        response.content.decode())


@pytest.mark.parametrize("kind", [FundingKind.INSTITUTIONAL_VC, FundingKind.ACCELERATOR])
def test_vc_or_accelerator_funding_without_an_investor_comes_back_marked_required(client, kind):
    response = client.post(reverse("intake:home"), form_data(funding_kind=kind, investor_name=""))
    assert response.status_code == 400
    page = _parse(response)
    assert _label(page, "investor_name") == "Lead investor or accelerator (required)"
    assert page.inputs["investor_name"]["aria-required"] == "true"
    assert response.context["form"].errors["investor_name"] == [
        "Required for Institutional VC or Accelerator funding: name the lead investor or accelerator."
    ]


@pytest.mark.parametrize("kind", [FundingKind.BOOTSTRAPPED, FundingKind.ANGELS])
def test_other_funding_leaves_the_investor_optional(client, kind):
    data = form_data(funding_kind=kind, investor_name="", stage="")
    del data["investor_is_activate_provider"]
    response = client.post(reverse("intake:home"), data)
    assert response.status_code == 400  # the blank stage, not the investor
    page = _parse(response)
    assert _label(page, "investor_name") == "Lead investor or accelerator (optional)"
    assert "investor_name" not in response.context["form"].errors


def test_an_activate_provider_without_a_name_comes_back_marked_required(client):
    response = client.post(reverse("intake:home"), form_data(funding_kind="angels", investor_name=""))
    assert response.status_code == 400
    page = _parse(response)
    assert _label(page, "investor_name") == "Lead investor or accelerator (required)"
    assert response.context["form"].errors["investor_name"] == [
        "Required when the investor is an AWS Activate Provider: name the investor or accelerator."
    ]


@pytest.mark.parametrize("kind", list(FundingKind))
@pytest.mark.parametrize("provider", [True, False])
def test_the_marker_says_required_exactly_when_the_model_refuses_a_blank_investor(kind, provider):
    from django.core.exceptions import ValidationError

    from intake.forms import IntakeForm
    from intake.models import Intake

    data = form_data(funding_kind=kind, investor_name="")
    if not provider:
        del data["investor_is_activate_provider"]
    marked = IntakeForm(data=data).fields["investor_name"].required_now
    try:
        Intake(funding_kind=kind, investor_is_activate_provider=provider, investor_name="").clean()
        refused = False
    except ValidationError:
        refused = True
    assert marked is refused


def test_the_country_is_a_select_of_named_countries_not_a_two_letter_box(client):
    response = client.get(reverse("intake:home"))
    page = _parse(response)
    html = response.content.decode()
    assert "country" in page.selects and "country" not in page.inputs
    assert _label(page, "country") == "Country"
    assert page.selects["country"].get("autocomplete") == "country"
    assert '<option value="" selected>Choose a country</option>' in html
    assert '<option value="US">United States</option>' in html
    assert '<option value="DE">Germany</option>' in html
    # By name, accents aside: Åland Islands among the A's.
    names = re.findall(r'<option value="[A-Z]{2}">([^<]+)</option>', html)
    assert names.index("Åland Islands") < names.index("Albania")


def test_an_invalid_form_leads_with_a_focusable_summary_linking_every_field_in_error(client):
    response = client.post(reverse("intake:home"), {"funding_kind": "institutional_vc", "country": "USA",
                                                    "monthly_requests": "-5"})
    assert response.status_code == 400
    form = response.context["form"]
    page = _parse(response)
    summary = page.summary
    assert summary is not None
    assert summary["tabindex"] == "-1" and "autofocus" in summary and summary["role"] == "alert"
    in_error = [f"#{form[name].id_for_label}" for name in form.fields if form[name].errors]
    assert len(in_error) >= 10
    assert page.summary_links == in_error  # one link per error, in the page's order
    for href in page.summary_links:
        assert href[1:] in page.ids
    html = response.content.decode()
    assert html.index('id="error-summary"') < html.index("<form")
    assert "Country: " in html and '&quot;USA&quot; is a three-letter code' in html


def test_the_summary_lists_the_forms_own_errors_without_a_link(client):
    from intake.forms import IntakeForm

    form = IntakeForm(data={})
    form.is_valid()
    form.add_error(None, "Something about the whole form.")
    rows = form.error_summary()
    assert rows[0] == {"anchor": None, "label": None, "message": "Something about the whole form."}
    assert all(row["anchor"] for row in rows[1:])


@pytest.mark.parametrize("data", [None, {}, {"funding_kind": "accelerator", "country": "USA"}])
def test_every_field_is_described_by_its_help_and_its_errors_that_are_on_the_page(client, data):
    url = reverse("intake:home")
    page = _parse(client.get(url) if data is None else client.post(url, data))
    assert page.described_by and page.described_by <= page.ids, page.described_by - page.ids


def test_the_form_page_loads_its_script_from_a_file_and_has_no_inline_script(client):
    page = _parse(client.post(reverse("intake:home"), {}))
    # Its own script and the site-wide one (base.html's submit-once forms), each from a static file.
    sources = [s.get("src") or "" for s in page.scripts]
    assert any(src.endswith("intake-form.js") for src in sources)
    assert all(src.startswith("/static/") for src in sources), sources
