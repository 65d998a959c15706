"""Eval set uploads through the API: byte and row limits are enforced before the file is parsed,
bad rows come back per line, and a good file is stored for the caller's firm."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bakeoff_jobs.models import EvalSet

pytestmark = pytest.mark.django_db

GOOD_ROW = b'{"prompt": "Capital of France?", "expected": "Paris", "scorer": "contains"}\n'


def _upload(world, content: bytes, name="cases.jsonl", **extra):
    return world.client("alice").post(
        "/api/eval-sets/", {"name": "limits", "file": SimpleUploadedFile(name, content)}, format="multipart", **extra
    )


def test_a_good_file_is_stored_for_the_callers_firm(world):
    response = _upload(world, GOOD_ROW * 3)
    assert response.status_code == 201 and response.json()["case_count"] == 3
    assert EvalSet.objects.get(pk=response.json()["id"]).partner == world.partner_a


def test_a_file_over_the_byte_limit_is_refused_before_parsing(world, settings):
    settings.EVALSET_UPLOAD_MAX_BYTES = 1000
    # Not even valid JSON: a parse would report bad rows, but the size is checked first.
    response = _upload(world, b"not json at all\n" * 100)
    assert response.status_code == 413
    assert response.json()["detail"] == "The file is 1,600 bytes; eval sets are limited to 1,000 bytes."
    assert EvalSet.objects.filter(name="limits").count() == 0


def test_a_request_body_over_the_limit_is_refused_from_its_length(world, settings):
    settings.EVALSET_UPLOAD_MAX_BYTES = 10
    response = _upload(world, GOOD_ROW * 2000)  # ~150 KB, past the limit plus form overhead
    assert response.status_code == 413 and response.json()["detail"].startswith("The upload is ")


def test_a_file_over_the_row_limit_is_refused_before_parsing(world, settings):
    settings.EVALSET_UPLOAD_MAX_ROWS = 5
    response = _upload(world, b"garbage\n" * 7)
    assert response.status_code == 413
    assert response.json()["detail"] == "The file has 7 lines; eval sets are limited to 5 rows."


def test_bad_rows_are_reported_per_line_and_nothing_is_stored(world):
    response = _upload(world, GOOD_ROW + b'{"prompt": "no scorer"}\n')
    assert response.status_code == 400
    messages = response.json()["fields"]["file"]
    assert messages and all(m.startswith("line 2:") for m in messages)
    assert EvalSet.objects.filter(name="limits").count() == 0


def test_the_whole_request_body_is_capped(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    url = f"/api/engagements/{world.matched_a.pk}/decline/"
    response = world.client("alice").post(url, {"reason": "x" * 5000}, format="json")
    assert response.status_code == 413
    assert response.json()["detail"] == "The request body is larger than this server accepts."
