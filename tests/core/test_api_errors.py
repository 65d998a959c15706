"""The API's error handler answers any core.errors.DomainError by its status and fields, knowing no app."""
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from core.api import exception_handler
from core.errors import DomainError


class Refused(DomainError):
    pass


class Locked(DomainError):
    status_code = 423
    code = "locked"


class BadRows(DomainError):
    status_code = 400
    code = "invalid"

    def field_errors(self):
        return {"file": ["line 2: no prompt", "line 5: no prompt"]}


def answer(exc):
    request = APIView().initialize_request(APIRequestFactory().post("/api/anything/"))
    response = exception_handler(exc, {"request": request, "view": APIView()})
    return response.status_code, response.data


def test_a_refusal_is_a_409_with_its_sentence():
    assert answer(Refused("The engagement is closed.")) == (409, {"detail": "The engagement is closed.", "fields": {}})


def test_a_refusal_keeps_its_own_status():
    assert answer(Locked("The run is being finalized.")) == (423, {"detail": "The run is being finalized.", "fields": {}})


def test_a_refusal_about_the_input_lists_its_messages_per_field():
    status, body = answer(BadRows("The eval set has 2 bad row(s)"))
    assert status == 400
    assert body == {"detail": "file: line 2: no prompt", "fields": {"file": ["line 2: no prompt", "line 5: no prompt"]}}
