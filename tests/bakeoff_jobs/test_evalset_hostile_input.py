"""Hostile eval set files through the parser and the upload service: each is an error naming its
line, never an exception, and nothing is stored."""
from decimal import Decimal

import pytest

from bakeoff_jobs.evalsets import parse_eval_file
from bakeoff_jobs.models import EvalCase, EvalSet
from bakeoff_jobs.services import EvalSetInvalid, evalset_upload

from .hostile_evalsets import HOSTILE

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("filename", "content", "line"), HOSTILE)
def test_hostile_file_is_a_per_line_error_and_stores_nothing(filename, content, line):
    parsed = parse_eval_file(content, filename=filename)
    assert not parsed.ok and line in {error.line for error in parsed.errors}, parsed.errors
    for error in parsed.errors:  # every message can be shown as it is: no NUL, no surrogate
        assert "\x00" not in str(error) and str(error).encode("utf-8")
    with pytest.raises(EvalSetInvalid):
        evalset_upload(name="hostile", data=content, filename=filename)
    assert not EvalSet.objects.exists() and not EvalCase.objects.exists()


@pytest.mark.parametrize(("name", "filename", "field"), [
    ("bad\x00name", "cases.jsonl", "name"), ("bad\ud800name", "cases.jsonl", "name"),
    ("fine", "ca\x00ses.jsonl", "file"),
])
def test_a_name_or_filename_that_cannot_be_stored_is_refused_by_field(name, filename, field):
    from django.core.exceptions import ValidationError

    content = b'{"prompt": "p", "expected": "x", "scorer": "exact"}\n'
    with pytest.raises(ValidationError) as caught:
        evalset_upload(name=name, data=content, filename=filename)
    assert list(caught.value.message_dict) == [field]
    assert not EvalSet.objects.exists()


def test_a_category_at_its_column_limit_is_stored():
    content = b'{"prompt": "p", "expected": "x", "scorer": "exact", "category": "' + b"c" * 60 + b'"}\n'
    eval_set = evalset_upload(name="edge", data=content, filename="cases.jsonl")
    assert eval_set.cases.get().category == "c" * 60


def test_a_launch_whose_estimate_overflows_its_column_is_refused_and_stores_nothing():
    from bakeoff_jobs.models import BakeoffRun
    from bakeoff_jobs.services import BakeoffError, bakeoff_launch

    from .factories import EvalCaseFactory, EvalSetFactory, claude_haiku_45, llama_8b

    top = {"input_per_1m": Decimal("999999.999999"), "output_per_1m": Decimal("999999.999999")}
    models = [claude_haiku_45(profile_price_factor=Decimal("99.9999"), **top),
              llama_8b(requires_profile=True, profile_price_factor=Decimal("99.9999"), **top)]
    eval_set = EvalSetFactory(case_count=20)
    for line in range(1, 21):
        EvalCaseFactory(eval_set=eval_set, line=line, prompt="word " * 20_000, expected="x")
    with pytest.raises(BakeoffError, match="would cost about"):
        bakeoff_launch(eval_set=eval_set, models=models, max_tokens=8192)
    assert not BakeoffRun.objects.exists()
