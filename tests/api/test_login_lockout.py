"""Repeated failed logins lock one username from one address (django-axes on the admin's login and
every password login), and repeated wrong API tokens lock the address out of token requests."""
import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.99"


def _login(username: str, password: str, address: str = ATTACKER, client: Client | None = None):
    client = client or Client()
    return client, client.post("/admin/login/?next=/admin/", {"username": username, "password": password},
                               REMOTE_ADDR=address)


def _logged_in(client: Client) -> bool:
    return client.get("/admin/", REMOTE_ADDR=ATTACKER).status_code == 200


@pytest.fixture
def lockout(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return settings


def test_after_the_failure_limit_even_the_right_password_is_refused_with_a_clear_message(lockout):
    StaffUserFactory(username="ops")
    for _ in range(3):
        _login("ops", "wrong")
    client, response = _login("ops", "pw-for-tests")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Sign-in temporarily locked" in page and "ops" in page and "15 minutes" in page
    assert int(response["Retry-After"]) == 15 * 60
    assert not _logged_in(client)


def test_below_the_limit_the_right_password_works_and_clears_the_count(lockout):
    StaffUserFactory(username="ops")
    for _ in range(2):
        _login("ops", "wrong")
    client, response = _login("ops", "pw-for-tests")
    assert response.status_code == 302 and _logged_in(client)
    for _ in range(2):  # the success reset the count: two more failures do not lock
        _login("ops", "wrong")
    assert _login("ops", "pw-for-tests")[1].status_code == 302


def test_the_lock_is_per_user_and_address(lockout):
    StaffUserFactory(username="ops")
    StaffUserFactory(username="colleague")
    for _ in range(3):
        _login("ops", "wrong")
    assert _login("ops", "pw-for-tests")[1].status_code == 429
    # Another user at the same address (an office behind one NAT) still signs in...
    assert _login("colleague", "pw-for-tests")[1].status_code == 302
    # ...and so does the locked user from another address: an attacker cannot lock a victim out.
    assert _login("ops", "pw-for-tests", address="198.51.100.4")[1].status_code == 302


def test_rotating_x_forwarded_for_does_not_reset_the_lockout(lockout):
    StaffUserFactory(username="ops")
    for n in range(3):
        Client().post("/admin/login/", {"username": "ops", "password": "wrong"}, REMOTE_ADDR=ATTACKER,
                      HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    response = Client().post("/admin/login/", {"username": "ops", "password": "pw-for-tests"},
                             REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="10.0.0.200")
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_lockout_follows_the_forwarded_client(lockout):
    lockout.TRUSTED_PROXY_COUNT = 1
    StaffUserFactory(username="ops")
    balancer = "10.0.0.2"

    def via_balancer(client_ip: str, password: str):
        return Client().post("/admin/login/", {"username": "ops", "password": password},
                             REMOTE_ADDR=balancer, HTTP_X_FORWARDED_FOR=client_ip)

    for _ in range(3):
        via_balancer("203.0.113.99", "wrong")
    assert via_balancer("203.0.113.99", "pw-for-tests").status_code == 429
    assert via_balancer("198.51.100.4", "pw-for-tests").status_code == 302  # not everyone behind the balancer
    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.99"}


def test_the_lockout_expires_after_the_cool_off(lockout):
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    StaffUserFactory(username="ops")
    for _ in range(3):
        _login("ops", "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _login("ops", "pw-for-tests")[1].status_code == 302


# --- API tokens ---------------------------------------------------------------------------------------


def _api(token: str, address: str = ATTACKER):
    return APIClient().get("/api/engagements/", HTTP_AUTHORIZATION=f"Token {token}", REMOTE_ADDR=address)


@pytest.fixture
def token(lockout):
    return Token.objects.create(user=StaffUserFactory(username="robot")).key


def test_guessing_api_tokens_locks_the_address_out(token, lockout):
    lockout.API_TOKEN_FAILURE_LIMIT = 3
    assert [_api(f"{n:040x}").status_code for n in range(3)] == [401, 401, 401]
    refused = _api(f"{99:040x}")
    assert refused.status_code == 429
    assert "Too many wrong API tokens" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0
    # Locked means locked: the right token from that address is refused too, until the cool-off ends.
    assert _api(token).status_code == 429
    # Another address is not affected.
    assert _api(token, address="198.51.100.4").status_code == 200


def test_a_valid_token_does_not_reset_the_failure_count(token, lockout):
    lockout.API_TOKEN_FAILURE_LIMIT = 3
    for n in range(3):
        _api(f"{n:040x}")
        if n < 2:
            assert _api(token).status_code == 200
    assert _api(f"{7:040x}").status_code == 429


def test_token_guesses_from_rotated_forwarded_addresses_are_counted_together(token, lockout):
    lockout.API_TOKEN_FAILURE_LIMIT = 2
    for n in range(2):
        APIClient().get("/api/engagements/", HTTP_AUTHORIZATION=f"Token {n:040x}", REMOTE_ADDR=ATTACKER,
                        HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert _api(token).status_code == 429


def test_requests_without_a_token_are_not_counted(token, lockout):
    lockout.API_TOKEN_FAILURE_LIMIT = 1
    for _ in range(3):
        assert APIClient().get("/api/engagements/", REMOTE_ADDR=ATTACKER).status_code in (401, 403)
    assert _api(token).status_code == 200


def test_no_endpoint_trades_a_password_for_a_token():
    from django.urls import get_resolver
    from rest_framework.authtoken.views import ObtainAuthToken

    def views(resolver):
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                yield from views(pattern)
            else:
                yield getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)

    assert not any(isinstance(view, type) and issubclass(view, ObtainAuthToken) for view in views(get_resolver()))
