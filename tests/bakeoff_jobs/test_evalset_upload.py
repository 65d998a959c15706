"""Uploading an eval set stores every case, or nothing when any row is bad."""
import json

import pytest

from bakeoff_jobs.models import EvalCase, EvalSet
from bakeoff_jobs.services import EvalSetInvalid, evalset_upload

from .factories import EngagementFactory

pytestmark = pytest.mark.django_db


def _jsonl(*rows) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode()


def test_upload_stores_cases_for_the_engagements_partner():
    engagement = EngagementFactory()
    data = _jsonl(
        {"prompt": "Capital of France?", "expected": "Paris", "scorer": "contains", "category": "extraction"},
        {"id": "TRI-7", "prompt": "Label this", "expected": "bug", "scorer": "exact", "system_prompt": "You triage."},
    )
    eval_set = evalset_upload(name="triage", data=data, filename="cases.jsonl", engagement=engagement)
    assert eval_set.case_count == 2 and eval_set.partner == engagement.partner
    first, second = eval_set.cases.order_by("line")
    assert (first.line, first.expected, first.category, first.case_id) == (1, "Paris", "extraction", "")
    assert (second.system_prompt, second.case_id) == ("You triage.", "TRI-7")


def test_bad_rows_store_nothing_and_name_every_line():
    data = _jsonl(
        {"prompt": "ok", "expected": "x", "scorer": "exact"},
        {"prompt": "", "expected": "x", "scorer": "exact"},
        {"prompt": "p", "expected": "x", "scorer": "no-such-scorer"},
    )
    with pytest.raises(EvalSetInvalid) as caught:
        evalset_upload(name="bad", data=data, filename="cases.jsonl")
    assert sorted({e.line for e in caught.value.errors}) == [2, 3]
    assert EvalSet.objects.count() == 0 and EvalCase.objects.count() == 0


def test_a_thousand_cases_are_stored_in_a_few_statements(django_assert_max_num_queries):
    """A bulk insert in one transaction: 4 statements on PostgreSQL, 13 on SQLite (its limit on
    parameters splits the insert in batches of 99 rows); one per case would be over 1,000."""
    data = _jsonl(*({"prompt": f"Case {i}", "expected": "x", "scorer": "exact"} for i in range(1000)))
    with django_assert_max_num_queries(15):
        eval_set = evalset_upload(name="big", data=data, filename="cases.jsonl")
    assert eval_set.cases.count() == 1000
