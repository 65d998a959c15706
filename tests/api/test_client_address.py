"""Every limit counts per client address, and that address is REMOTE_ADDR unless the deployment says
how many proxies append to X-Forwarded-For (TRUSTED_PROXY_COUNT): a client cannot pick its own."""
import logging
import socket

import pytest
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from core.ratelimit import SlidingWindow, client_address
from intake.models import Intake

from .conftest import api_intake_body


def _address(remote="198.51.100.1", forwarded=None, proxies=0, settings=None):
    settings.TRUSTED_PROXY_COUNT = proxies
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings):
    assert _address(forwarded="203.0.113.5", settings=settings) == "198.51.100.1"
    assert _address(forwarded="203.0.113.5, 203.0.113.6", settings=settings) == "198.51.100.1"


def test_the_default_trusts_no_proxy():
    from django.conf import settings

    assert settings.TRUSTED_PROXY_COUNT == 0
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0


def test_behind_proxies_the_nth_address_from_the_right_is_the_client(settings):
    # One load balancer: it appends the address it saw; whatever the client wrote is to its left.
    assert _address(forwarded="1.1.1.1, 203.0.113.5", proxies=1, settings=settings) == "203.0.113.5"
    # Two: the outer one's view is second from the right.
    assert _address(forwarded="1.1.1.1, 203.0.113.5, 10.0.0.2", proxies=2, settings=settings) == "203.0.113.5"


def test_a_short_or_unreadable_forwarded_header_falls_back_to_the_peer(settings):
    assert _address(forwarded="203.0.113.5", proxies=2, settings=settings) == "198.51.100.1"
    assert _address(forwarded="", proxies=1, settings=settings) == "198.51.100.1"
    assert _address(forwarded="not-an-address", proxies=1, settings=settings) == "198.51.100.1"
    assert _address(forwarded="<script>, ;DROP", proxies=1, settings=settings) == "198.51.100.1"


def test_addresses_are_normalised(settings):
    assert _address(forwarded="203.0.113.5:4431", proxies=1, settings=settings) == "203.0.113.5"
    assert _address(remote="::ffff:203.0.113.9", settings=settings) == "203.0.113.9"
    # One IPv6 subscriber (/64) is one client: rotating the interface id gains nothing.
    assert _address(remote="2001:db8:1:2::1", settings=settings) == "2001:db8:1:2::"
    assert _address(remote="2001:db8:1:2:ffff:1:2:3", settings=settings) == "2001:db8:1:2::"
    assert _address(forwarded="[2001:db8:1:3::9]:443", proxies=1, settings=settings) == "2001:db8:1:3::"
    assert _address(remote="", settings=settings) == "0.0.0.0"


def _api(address: str, forwarded: str):
    return APIClient().post("/api/intakes/", api_intake_body(), format="json",
                            REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=forwarded)


@pytest.mark.django_db
def test_rotating_x_forwarded_for_does_not_lift_the_api_limit(pools, settings):
    settings.INTAKE_RATE_LIMIT = "2/min"
    codes = [_api("203.0.113.7", f"10.9.8.{n}").status_code for n in range(6)]
    assert codes == [202, 202, 429, 429, 429, 429]
    assert Intake.objects.count() == 2


@pytest.mark.django_db
def test_rotating_x_forwarded_for_does_not_lift_the_form_limit(client, pools, settings):
    settings.INTAKE_RATE_LIMIT = "2/min"
    codes = [client.post("/", {}, REMOTE_ADDR="203.0.113.8", HTTP_X_FORWARDED_FOR=f"10.9.8.{n}").status_code
             for n in range(4)]
    assert codes == [400, 400, 429, 429]


@pytest.mark.django_db
def test_a_forged_header_cannot_spend_a_victims_allowance(pools, settings):
    settings.INTAKE_RATE_LIMIT = "2/min"
    for _ in range(5):
        _api("203.0.113.66", "192.0.2.200")  # the attacker names the victim's address
    victim = APIClient().post("/api/intakes/", api_intake_body(), format="json", REMOTE_ADDR="192.0.2.200")
    assert victim.status_code == 202


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_has_its_own_allowance(pools, settings):
    settings.INTAKE_RATE_LIMIT = "1/min"
    settings.TRUSTED_PROXY_COUNT = 1
    balancer = "10.0.0.2"
    assert _api(balancer, "203.0.113.7").status_code == 202
    assert _api(balancer, "1.2.3.4, 203.0.113.7").status_code == 429  # spoofed left part changes nothing
    assert _api(balancer, "198.51.100.20").status_code == 202


# --- a store that cannot be reached -------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the socket is


@pytest.fixture
def unreachable_store(settings):
    settings.RATE_LIMIT_REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    return settings


def test_without_its_store_a_limit_still_holds_in_process_and_logs_an_error(unreachable_store, caplog):
    window = SlidingWindow("store-down", 3, 60)
    with caplog.at_level(logging.ERROR, logger="core.ratelimit"):
        results = [window.hit("192.0.2.50") for _ in range(5)]
    assert results[:3] == [None, None, None]
    assert all(wait is not None and wait > 0 for wait in results[3:])
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1  # once, not once a request: rate-limited so an alert fires, not a flood
    assert "rate limit store unreachable" in errors[0].getMessage()


def test_the_store_error_is_logged_again_after_the_quiet_period(unreachable_store, caplog, monkeypatch):
    from core import ratelimit

    unreachable_store.RATE_LIMIT_STORE_ERROR_LOG_SECONDS = 60
    now = [1000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: now[0])
    window = SlidingWindow("store-down", 100, 60)
    with caplog.at_level(logging.ERROR, logger="core.ratelimit"):
        for step in range(0, 130, 6):  # a request every 6 s for two minutes
            now[0] = 1000.0 + step
            window.hit("192.0.2.51")
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 3  # at 0, 60 and 120 s


@pytest.mark.django_db
def test_the_intake_limit_holds_when_redis_is_unreachable(unreachable_store, pools, caplog):
    unreachable_store.INTAKE_RATE_LIMIT = "2/min"
    with caplog.at_level(logging.ERROR, logger="core.ratelimit"):
        codes = [APIClient().post("/api/intakes/", api_intake_body(), format="json",
                                  REMOTE_ADDR="203.0.113.70").status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    assert any(r.levelno == logging.ERROR for r in caplog.records)


def test_a_flood_of_addresses_does_not_grow_the_fallback_without_bound(monkeypatch):
    from core.ratelimit import MemoryCounters

    monkeypatch.setattr(MemoryCounters, "MAX_KEYS", 100)
    counters = MemoryCounters()
    for n in range(1000):
        counters.add(f"k{n}", f"p{n}", 60)
    assert len(counters._counts) <= 100
