"""A NUL character in any query string (a list filter, an admin lookup, a search) is a 400 that
names the parameter, before the database sees it; in the API, in the API's error shape."""
import pytest

from tests.factories import IntakeFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", [
    "/admin/intake/intake/?stage__exact=a%00b",
    "/admin/intake/intake/?country__exact=%00",
    "/admin/intake/intake/?q=a%00b",
    "/admin/matching/engagement/?q=%00",
    "/staff/pipeline/?from=%00",
    "/staff/pipeline.csv?partner=1%00",
])
def test_a_nul_in_a_page_query_string_is_a_400(client, staff_user, url):
    IntakeFactory()
    client.force_login(staff_user)
    response = client.get(url)
    assert response.status_code == 400
    assert "query parameter" in response.content.decode() and "NUL" in response.content.decode()


@pytest.mark.parametrize("url", ["/api/engagements/?status=%00", "/api/eval-sets/?engagement=1%00",
                                 "/api/catalog-models/?family=claude%00", "/api/bakeoffs/?page=%00"])
def test_a_nul_in_an_api_query_string_is_a_400_naming_the_parameter(world, url):
    response = world.client("alice").get(url)
    assert response.status_code == 400
    name = url.split("?")[1].split("=")[0]
    assert list(response.json()["fields"]) == [name] and "NUL" in response.json()["detail"]
