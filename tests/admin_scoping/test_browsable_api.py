"""The browsable API (every API route asked for text/html, as a browser asks) shows a partner of
another firm nothing of the first firm: its forms offer as choices only the caller's own engagements,
eval sets and partner, the way the filters and the admin do. New routes are walked without editing
this file."""
import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from bakeoff_jobs import services as bakeoff
from bakeoff_jobs.catalog_models import CatalogModel
from tests.factories import StaffUserFactory

from .conftest import MARKERS

EVAL_ROW = b'{"prompt": "say Paris", "expected": "Paris", "scorer": "contains"}\n'


def api_routes():
    """(url name, whether it takes a pk) of every API route but the founder's token route."""
    def walk(patterns, namespace=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and namespace == "api" and entry.name:
                converters = set(entry.pattern.regex.groupindex)
                if converters <= {"pk"}:
                    yield entry.name, "pk" in converters

    return sorted(set(walk(get_resolver().url_patterns)))


@pytest.fixture
def charlie_records(firms, django_capture_on_commit_callbacks):
    """Charlie's firm's own eval set and run, so detail pages with their forms render for him too."""
    eval_set = bakeoff.evalset_upload(name="bravo evals", filename="bravo.jsonl", engagement=None,
                                      owner=firms["charlie"], partner=firms["bravo"], data=EVAL_ROW)
    models = list(CatalogModel.objects.offered().order_by("pk")[:2])
    with django_capture_on_commit_callbacks(execute=False):
        run = bakeoff.bakeoff_launch(eval_set=eval_set, models=models, created_by=firms["charlie"])
    return [eval_set.pk, run.pk]


def record_ids(firms, charlie_records):
    engagement = firms["engagement"]
    first = [engagement.pk, engagement.ace_opportunity.pk, firms["eval_set"].pk, firms["run"].pk,
             *engagement.credit_applications.values_list("pk", flat=True)]
    return sorted(set(first + charlie_records))


def html_of(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode(errors="replace").lower()


def test_browsable_api_shows_nothing_of_another_firm(client, firms, charlie_records):
    client.force_login(firms["charlie"])
    routes = api_routes()
    assert ("eval-set-list", False) in routes and ("bakeoff-detail", True) in routes
    walked = 0
    for name, takes_pk in routes:
        pks = record_ids(firms, charlie_records) if takes_pk else [None]
        for pk in pks:
            url = reverse(f"api:{name}", kwargs={"pk": pk} if pk else None)
            response = client.get(url, HTTP_ACCEPT="text/html")
            body = html_of(response)
            for marker in MARKERS:
                assert marker not in body, f"{url} shows {marker!r} to another firm"
            walked += response.status_code == 200 and "<form" in body
    assert walked > 5  # the walk really rendered forms


def test_browsable_api_forms_offer_the_firms_own_records_and_staff_every_record(client, firms):
    client.force_login(firms["alice"])
    body = html_of(client.get(reverse("api:bakeoff-list"), HTTP_ACCEPT="text/html"))
    assert "zebracorn evals" in body and "zebracorn secret labs" in body  # alice's own records stay offered

    client.force_login(StaffUserFactory())
    body = html_of(client.get(reverse("api:eval-set-list"), HTTP_ACCEPT="text/html"))
    assert "zebracorn secret labs" in body and "bravo partners" in body
