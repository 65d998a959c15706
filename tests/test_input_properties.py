"""Property: whatever arrives — any Unicode (NUL and unpaired surrogates included), nested JSON,
huge or odd numbers — the intake serializer, the intake form and the eval set parsers (JSONL and
CSV) answer with a clear error or a stored record, never an exception.

Each example runs in its own savepoint, rolled back, so examples do not see each other's records."""
import csv
import functools
import io
import json
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from bakeoff_jobs.evalsets import ALL_FIELDS, REQUIRED_FIELDS
from bakeoff_jobs.models import EvalCase, EvalSet
from bakeoff_jobs.scorers import SCORER_NAMES
from bakeoff_jobs.services import BakeoffError, evalset_upload
from intake import limits
from intake.forms import IntakeForm
from intake.models import Intake
from intake.serializers import IntakeInputSerializer
from intake.services import intake_receive
from tests.factories import intake_data

pytestmark = pytest.mark.django_db

dumps = functools.partial(json.dumps, default=str)  # Decimals as their text

FAST = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Every code point, plus the ones that break storage or spreadsheets, often.
CHARS = st.one_of(
    st.characters(exclude_categories=()),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.sampled_from(["\x00", "=", "-", "+", "@", "\t", "\r", "\n", "٣", "３", "İ", ",", '"', "{", "["]),
)
TEXT = st.lists(CHARS, max_size=40).map("".join)  # st.text() would drop the surrogates
# A UTF-8 file cannot hold a surrogate: CSV text is every other code point, NUL included.
FILE_TEXT = st.text(st.one_of(st.characters(), st.sampled_from(["\x00", "=", "-", "\t", "\r", "\n", ",", '"'])),
                    max_size=40)
HUGE_INTS = st.one_of(st.integers(), st.integers(min_value=-(10**60), max_value=10**60),
                      st.sampled_from([2**31 - 1, 2**31, 2**63, 10**4000]))
NUMBERS = st.one_of(
    HUGE_INTS,
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.sampled_from([limits.MAX_MONTHLY_REQUESTS, limits.MAX_MONTHLY_REQUESTS + 1, limits.MAX_AVG_INPUT_TOKENS,
                     limits.MAX_AVG_OUTPUT_TOKENS + 1, str(limits.MAX_TOTAL_RAISED_USD), "1e999", "-0", "١٢"]),
)
JSON = st.recursive(
    st.none() | st.booleans() | HUGE_INTS | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)


def _any_value(valid):
    return st.one_of(st.just(valid), TEXT, NUMBERS, JSON)


@st.composite
def intake_payloads(draw) -> dict:
    """A valid intake with some fields replaced by anything, some dropped, some extra keys."""
    valid = json.loads(json.dumps(intake_data(), default=str))
    names = sorted(valid)
    changed = draw(st.lists(st.sampled_from(names), unique=True, max_size=5))
    data = {name: (draw(_any_value(valid[name])) if name in changed else valid[name]) for name in names}
    for name in draw(st.lists(st.sampled_from(names), unique=True, max_size=2)):
        data.pop(name)
    data.update(draw(st.dictionaries(TEXT, JSON, max_size=2)))
    return data


def _sendable(errors) -> None:
    """An error body can be rendered as the API sends it (UTF-8 JSON)."""
    assert errors
    JSONRenderer().render(errors).decode("utf-8")


def _in_savepoint(check):
    with transaction.atomic():
        check()
        transaction.set_rollback(True)


def _stored(intake) -> None:
    assert Intake.objects.filter(pk=intake.pk).exists()
    for name in ("company_name", "contact_name", "contact_email", "investor_name", "models_of_interest"):
        assert "\x00" not in getattr(intake, name)
    assert intake.monthly_requests <= limits.MAX_MONTHLY_REQUESTS
    assert intake.total_raised_usd <= limits.MAX_TOTAL_RAISED_USD


# --- intake ---------------------------------------------------------------------------------------


@FAST
@given(data=intake_payloads())
def test_intake_serializer_gives_a_clear_error_or_a_stored_intake(data):
    def check():
        serializer = IntakeInputSerializer(data=data)
        if serializer.is_valid():
            intake, _ = intake_receive(data=serializer.validated_data)
            _stored(intake)
        else:
            _sendable(serializer.errors)

    _in_savepoint(check)


@FAST
@given(data=intake_payloads())
def test_intake_api_answers_202_400_or_409_never_a_server_error(settings, data):  # noqa: F811 - pytest-django settings
    settings.INTAKE_RATE_LIMIT = "100000/min"

    def check():
        body = json.dumps(data, default=str)  # a surrogate travels as its \ud800 escape
        response = APIClient().post("/api/intakes/", data=body, content_type="application/json")
        assert response.status_code in (202, 400, 409), response.content
        assert set(response.json()) >= {"detail"} if response.status_code != 202 else True

    _in_savepoint(check)


@FAST
@given(data=intake_payloads())
def test_intake_form_gives_a_clear_error_or_a_stored_intake(data):
    def check():
        form = IntakeForm(data={name: value if isinstance(value, str) else json.dumps(value, default=str)
                                for name, value in data.items()})
        if form.is_valid():
            cleaned = dict(form.cleaned_data)
            cleaned.pop("submission_key", None)
            intake, _ = intake_receive(data=cleaned)
            _stored(intake)
        else:
            _sendable(form.errors.get_json_data())

    _in_savepoint(check)


# --- eval sets ------------------------------------------------------------------------------------

ROW_KEYS = st.one_of(st.sampled_from(ALL_FIELDS), st.sampled_from(["scorer_option", "\x00", "\ud800"]), TEXT)
GOOD_ROWS = st.fixed_dictionaries(
    {"prompt": TEXT.filter(str.strip), "expected": TEXT.filter(str.strip), "scorer": st.sampled_from(SCORER_NAMES)},
    optional={"category": TEXT, "id": st.one_of(TEXT, HUGE_INTS), "system_prompt": TEXT,
              "scorer_options": st.one_of(JSON, st.fixed_dictionaries({}, optional={
                  "case_insensitive": st.booleans(), "flags": TEXT, "labels": st.lists(TEXT, max_size=3),
                  "tolerance": NUMBERS, "schema": JSON, "rubric": TEXT, "pass_threshold": NUMBERS}))},
)
CSV_ROWS = st.fixed_dictionaries(
    {"prompt": FILE_TEXT.filter(str.strip), "expected": FILE_TEXT.filter(str.strip),
     "scorer": st.sampled_from(SCORER_NAMES)},
    optional={"category": FILE_TEXT, "id": st.one_of(FILE_TEXT, HUGE_INTS), "system_prompt": FILE_TEXT},
)
ROWS = st.one_of(GOOD_ROWS, st.dictionaries(ROW_KEYS, JSON, max_size=6), JSON)


def _upload_once(content: bytes, filename: str) -> None:
    def check():
        try:
            eval_set = evalset_upload(name="property", data=content, filename=filename)
        except BakeoffError as exc:  # EvalSetInvalid is one: every bad row, by line
            for error in getattr(exc, "errors", []):
                assert error.line >= 0 and str(error).encode("utf-8")
        else:
            assert EvalSet.objects.filter(pk=eval_set.pk).exists()
            assert EvalCase.objects.filter(eval_set=eval_set).count() == eval_set.case_count > 0

    _in_savepoint(check)


@FAST
@given(rows=st.lists(st.one_of(ROWS.map(dumps), TEXT), max_size=6))
def test_jsonl_upload_gives_errors_by_line_or_a_stored_eval_set(rows):
    _upload_once("\n".join(rows).encode("utf-8", "surrogatepass"), "cases.jsonl")


@FAST
@given(rows=st.lists(ROWS, max_size=6))
def test_json_array_upload_gives_errors_by_line_or_a_stored_eval_set(rows):
    _upload_once(dumps(rows, indent=1).encode(), "cases.json")


@FAST
@given(rows=st.lists(st.one_of(CSV_ROWS, st.dictionaries(st.sampled_from(ALL_FIELDS), st.one_of(FILE_TEXT, JSON))),
                     min_size=1, max_size=6),
       extra_columns=st.lists(FILE_TEXT, max_size=1))
def test_csv_upload_gives_errors_by_line_or_a_stored_eval_set(rows, extra_columns):
    columns = list(dict.fromkeys([*REQUIRED_FIELDS, *(name for row in rows for name in row), *extra_columns]))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, restval="")
    writer.writeheader()
    for row in rows:  # a cell holds text; anything else as its JSON text
        writer.writerow({name: value if isinstance(value, str) else dumps(value) for name, value in row.items()})
    _upload_once(text.getvalue().encode("utf-8", "surrogatepass"), "cases.csv")


def test_the_property_strategies_reach_stored_records():
    """The properties are not vacuous: a plain valid intake and eval set do get stored."""
    serializer = IntakeInputSerializer(data=json.loads(json.dumps(intake_data(), default=str)))
    assert serializer.is_valid(), serializer.errors
    content = json.dumps({"prompt": "p", "expected": "x", "scorer": "exact", "id": -3,
                          "scorer_options": {"case_insensitive": True}}).encode()
    assert evalset_upload(name="p", data=content, filename="c.jsonl").case_count == 1
    assert Decimal(serializer.validated_data["total_raised_usd"]) <= limits.MAX_TOTAL_RAISED_USD
