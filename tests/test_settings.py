"""The settings pick the real services when the environment names them."""
import os

from django.conf import settings


def test_database_follows_database_url():
    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite3"
    assert settings.DATABASES["default"]["ENGINE"].endswith(expected)


def test_broker_follows_celery_broker_url():
    assert settings.CELERY_BROKER_URL == os.environ.get("CELERY_BROKER_URL", "filesystem://")


# --- settings as another environment would load them ------------------------------------------------
import runpy  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

SETTINGS_FILE = Path(__file__).resolve().parents[1] / "cloudroute" / "settings.py"
_CLEARED = ("REDIS_URL", "CELERY_BROKER_URL", "CACHE_REDIS_URL", "RATE_LIMIT_REDIS_URL", "REDIS_KEY_PREFIX")


@pytest.fixture
def load_settings(monkeypatch, tmp_path):
    """The settings module run afresh under `env` (nothing else of this process's DJANGO_*/Redis vars)."""

    def load(**env):
        for name in list(os.environ):
            if name in _CLEARED or name.startswith("DJANGO_"):
                monkeypatch.delenv(name)
        monkeypatch.setenv("CLOUDROUTE_VAR_DIR", str(tmp_path))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return load


def test_one_broker_url_gives_each_redis_use_its_own_database(load_settings):
    loaded = load_settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/0")  # what CI sets
    assert loaded["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/0"
    assert loaded["CACHES"]["default"]["LOCATION"] == "redis://127.0.0.1:6379/1"
    assert loaded["CACHES"]["default"]["KEY_PREFIX"] == "cloudroute:cache"
    assert loaded["RATE_LIMIT_REDIS_URL"] == "redis://127.0.0.1:6379/2"


def test_redis_url_alone_lays_out_broker_cache_and_limits(load_settings):
    loaded = load_settings(REDIS_URL="redis://:secret@redis.internal:6380/7")
    assert loaded["CELERY_BROKER_URL"] == "redis://:secret@redis.internal:6380/0"
    assert loaded["CACHES"]["default"]["LOCATION"] == "redis://:secret@redis.internal:6380/1"
    assert loaded["RATE_LIMIT_REDIS_URL"] == "redis://:secret@redis.internal:6380/2"


def test_each_redis_use_can_be_given_its_own_url(load_settings):
    loaded = load_settings(CELERY_BROKER_URL="redis://broker:6379/0", CACHE_REDIS_URL="redis://cache:6379/0",
                           RATE_LIMIT_REDIS_URL="rediss://limits:6379/4", REDIS_KEY_PREFIX="acme")
    assert loaded["CACHES"]["default"]["LOCATION"] == "redis://cache:6379/0"
    assert loaded["CACHES"]["default"]["KEY_PREFIX"] == "acme:cache"
    assert loaded["RATE_LIMIT_REDIS_URL"] == "rediss://limits:6379/4"


def test_without_redis_everything_runs_on_files(load_settings):
    loaded = load_settings()
    assert loaded["CELERY_BROKER_URL"] == "filesystem://"
    assert loaded["CACHES"]["default"]["BACKEND"].endswith("FileBasedCache")
    assert loaded["RATE_LIMIT_REDIS_URL"] == ""


def test_a_unix_socket_redis_is_laid_out_by_its_db_parameter(load_settings):
    loaded = load_settings(REDIS_URL="unix:///run/redis.sock?db=0")
    assert loaded["CACHES"]["default"]["LOCATION"] == "unix:///run/redis.sock?db=1"
    assert loaded["RATE_LIMIT_REDIS_URL"] == "unix:///run/redis.sock?db=2"


def test_production_trusts_no_proxy_unless_told(load_settings):
    production = dict(DJANGO_PRODUCTION="1", DJANGO_SECRET_KEY="p" * 50, DJANGO_ALLOWED_HOSTS="example.com")
    loaded = load_settings(**production)
    assert loaded["TRUSTED_PROXY_COUNT"] == 0 and loaded["REST_FRAMEWORK"]["NUM_PROXIES"] == 0
    assert load_settings(**production, DJANGO_TRUSTED_PROXY_COUNT="2")["TRUSTED_PROXY_COUNT"] == 2
    assert load_settings(**production, DJANGO_NUM_PROXIES="1")["TRUSTED_PROXY_COUNT"] == 1  # the former name


@pytest.mark.parametrize("key", [None, "local-development-only-not-secret", "compose-local-only-change-me", "short"])
def test_with_debug_off_the_published_or_a_weak_secret_key_is_refused(load_settings, key):
    env = {"DJANGO_DEBUG": "0"} | ({"DJANGO_SECRET_KEY": key} if key else {})
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
        load_settings(**env)


def test_with_debug_off_a_private_key_and_named_hosts_are_used(load_settings):
    loaded = load_settings(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="k" * 50)
    assert loaded["DEBUG"] is False
    assert "*" not in loaded["ALLOWED_HOSTS"]
    assert load_settings(DJANGO_DEBUG="1")["ALLOWED_HOSTS"] == ["*"]  # a local DEBUG run only


def test_login_lockout_settings_come_from_the_environment(load_settings):
    loaded = load_settings(AXES_FAILURE_LIMIT="8", AXES_COOLOFF_MINUTES="30")
    assert loaded["AXES_FAILURE_LIMIT"] == 8 and loaded["AXES_COOLOFF_TIME"].total_seconds() == 1800
    assert loaded["API_TOKEN_FAILURE_LIMIT"] == 8
    assert loaded["AXES_LOCKOUT_PARAMETERS"] == [["username", "ip_address"]]
    assert loaded["AXES_CLIENT_IP_CALLABLE"] == "core.ratelimit.client_address"
    assert loaded["AUTHENTICATION_BACKENDS"][0] == "axes.backends.AxesStandaloneBackend"


def test_site_url_and_the_bedrock_endpoint_follow_the_local_ports(load_settings, monkeypatch):
    for name in ("PORT", "SANDBOX_PORT", "BEDROCK_ENDPOINT_URL", "BEDROCK_CONTROL_ENDPOINT_URL", "CLOUDROUTE_SITE_URL"):
        monkeypatch.delenv(name, raising=False)
    defaults = load_settings()
    assert defaults["SITE_URL"] == "http://127.0.0.1:8000"
    assert defaults["BEDROCK_ENDPOINT_URL"] == defaults["BEDROCK_CONTROL_ENDPOINT_URL"] == "http://127.0.0.1:8765"

    moved = load_settings(PORT="9123", SANDBOX_PORT="9456")
    assert moved["SITE_URL"] == "http://127.0.0.1:9123"
    assert moved["BEDROCK_ENDPOINT_URL"] == moved["BEDROCK_CONTROL_ENDPOINT_URL"] == "http://127.0.0.1:9456"
    assert load_settings(SANDBOX_PORT="9456", BEDROCK_ENDPOINT_URL="")["BEDROCK_ENDPOINT_URL"] == ""


def test_emails_are_logged_locally_unless_a_backend_is_named(load_settings, monkeypatch):
    monkeypatch.delenv("EMAIL_BACKEND", raising=False)
    assert load_settings()["EMAIL_BACKEND"] == "core.mail.LoggingEmailBackend"
    assert load_settings(EMAIL_BACKEND="django_ses.SESBackend")["EMAIL_BACKEND"] == "django_ses.SESBackend"
