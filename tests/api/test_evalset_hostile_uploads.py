"""Hostile eval set files through the upload API: a 400 in the API's error shape whose "file"
messages name the line, and nothing stored."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bakeoff_jobs.models import EvalSet
from tests.bakeoff_jobs.hostile_evalsets import HOSTILE

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("filename", "content", "line"), HOSTILE)
def test_a_hostile_file_is_a_400_naming_its_line(world, filename, content, line):
    before = EvalSet.objects.count()
    response = world.client("alice").post(
        "/api/eval-sets/", {"name": "hostile", "file": SimpleUploadedFile(filename, content)}, format="multipart")
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"detail", "fields"}
    assert any(message.startswith(f"line {line}:") for message in body["fields"]["file"]), body
    assert EvalSet.objects.count() == before


def test_a_nul_in_the_name_is_a_400_naming_the_field(world):
    before = EvalSet.objects.count()
    response = world.client("alice").post(
        "/api/eval-sets/", {"name": "bad\x00name", "file": SimpleUploadedFile("c.jsonl", b'{"prompt": "p", '
                                                                              b'"expected": "x", "scorer": "exact"}')},
        format="multipart")
    assert response.status_code == 400 and "name" in response.json()["fields"]
    assert EvalSet.objects.count() == before


@pytest.mark.parametrize("body", ["[" * 100_000, '{"eval_set": ' + "9" * 5000 + "}", '{"models": ["\\ud800", "x"]}',
                                  '{"eval_set": 1, "models": ["a", "b"], "judge": "a\\u0000"}'],
                         ids=["nested", "5000-digits", "surrogate", "nul"])
def test_every_json_endpoint_refuses_json_beyond_the_limits(world, body):
    response = world.client("alice").post("/api/bakeoffs/", data=body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"detail", "fields"}
