"""The public intake is rate-limited per client address (INTAKE_RATE_LIMIT), on the API and the
web form alike, with 429 and Retry-After past the limit."""
import pytest
from rest_framework.test import APIClient

from intake.models import Intake

from .conftest import api_intake_body

pytestmark = pytest.mark.django_db


def _submit(address: str, **overrides):
    return APIClient().post("/api/intakes/", api_intake_body(**overrides), format="json", REMOTE_ADDR=address)


def test_past_the_limit_the_api_answers_429_with_retry_after(pools, settings):
    settings.INTAKE_RATE_LIMIT = "2/min"
    assert [_submit("203.0.113.7").status_code for _ in range(2)] == [202, 202]
    refused = _submit("203.0.113.7")
    assert refused.status_code == 429
    # The two count fully until this minute ends, then fade: one more fits half way through the next.
    assert 30 <= int(refused["Retry-After"]) <= 90
    assert refused.json()["detail"].startswith("Request was throttled.")
    assert Intake.objects.count() == 2


def test_each_client_address_has_its_own_allowance(pools, settings):
    settings.INTAKE_RATE_LIMIT = "1/min"
    assert _submit("203.0.113.7").status_code == 202
    assert _submit("203.0.113.7").status_code == 429
    assert _submit("198.51.100.20").status_code == 202


def test_the_limit_is_configurable(pools, settings):
    settings.INTAKE_RATE_LIMIT = "5/hour"
    assert [_submit("203.0.113.9").status_code for _ in range(6)] == [202] * 5 + [429]


def test_the_web_form_is_limited_by_the_same_setting(client, pools, settings):
    settings.INTAKE_RATE_LIMIT = "2/min"
    posted = [client.post("/", {}, REMOTE_ADDR="203.0.113.8") for _ in range(3)]
    assert [r.status_code for r in posted] == [400, 400, 429]  # invalid forms count too
    assert int(posted[-1]["Retry-After"]) > 0
    assert b"Too many submissions" in posted[-1].content
    assert client.get("/", REMOTE_ADDR="203.0.113.8").status_code == 200  # reading the form is not limited


def _throttle_at(monkeypatch, moment: float):
    from core import ratelimit
    from intake import throttles

    monkeypatch.setattr(ratelimit.time, "time", lambda: moment)
    return throttles.IntakeRateThrottle()


def _allowed(monkeypatch, moment: float, address: str = "192.0.2.1") -> bool:
    from django.test import RequestFactory

    request = RequestFactory().post("/api/intakes/", REMOTE_ADDR=address)
    return _throttle_at(monkeypatch, moment).allow_request(request, view=None)


def test_the_window_slides_so_a_burst_at_a_minute_boundary_is_not_doubled(settings, monkeypatch):
    settings.INTAKE_RATE_LIMIT = "4/min"
    start = 60 * 1_000_000  # the start of a window
    assert [_allowed(monkeypatch, start + 50) for _ in range(5)] == [True] * 4 + [False]
    # 15 s into the next window, 45 s of the previous one still count: 4 × 0.75 = 3, one more fits.
    assert [_allowed(monkeypatch, start + 75) for _ in range(2)] == [True, False]
    # Half way through, 4 × 0.5 + 1 = 3: one more fits again.
    assert [_allowed(monkeypatch, start + 90) for _ in range(2)] == [True, False]
    # Two windows later nothing of the burst is left.
    assert [_allowed(monkeypatch, start + 180) for _ in range(5)] == [True] * 4 + [False]


def test_a_refused_request_says_how_long_until_one_fits_and_uses_up_nothing(settings, monkeypatch):
    settings.INTAKE_RATE_LIMIT = "2/min"
    start = 60 * 2_000_000
    assert [_allowed(monkeypatch, start + 10) for _ in range(2)] == [True, True]
    from django.test import RequestFactory

    throttle = _throttle_at(monkeypatch, start + 20)
    assert throttle.allow_request(RequestFactory().post("/", REMOTE_ADDR="192.0.2.1"), view=None) is False
    # The burst was in this window: 40 s to its end, then 30 s more until its two weigh 2 × 0.5 = 1.
    assert throttle.wait() == pytest.approx(70)
    assert not _allowed(monkeypatch, start + 89)
    for _ in range(10):
        assert not _allowed(monkeypatch, start + 30)
    # In the next window, only the previous window's two, weighted, count: refusals did not add any.
    assert _allowed(monkeypatch, start + 90)


@pytest.mark.skipif(not __import__("django.conf").conf.settings.CACHES["default"]["BACKEND"].endswith("RedisCache"),
                    reason="atomic counting across processes needs the Redis cache (CI sets CELERY_BROKER_URL)")
def test_concurrent_requests_from_one_address_never_exceed_the_limit(settings):
    import threading

    from django.test import RequestFactory

    from intake.throttles import IntakeRateThrottle

    settings.INTAKE_RATE_LIMIT = "25/min"
    allowed, barrier = [], threading.Barrier(8)

    def client():
        barrier.wait()
        for _ in range(10):
            request = RequestFactory().post("/api/intakes/", REMOTE_ADDR="192.0.2.77")
            allowed.append(IntakeRateThrottle().allow_request(request, view=None))

    import time

    threads = [threading.Thread(target=client) for _ in range(8)]
    window = int(time.time() // 60)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 80
    if int(time.time() // 60) == window:
        assert sum(allowed) == 25  # no count lost between processes, none over
    else:  # straddled a minute: the previous window's weight can only lower what is allowed
        assert 0 < sum(allowed) <= 25
