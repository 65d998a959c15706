"""The settings pick the real services when the environment names them."""
import os

from django.conf import settings


def test_database_follows_database_url():
    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite3"
    assert settings.DATABASES["default"]["ENGINE"].endswith(expected)


def test_broker_follows_celery_broker_url():
    assert settings.CELERY_BROKER_URL == os.environ.get("CELERY_BROKER_URL", "filesystem://")
