"""Suite-wide fixtures: the three standing users and the factories live in tests/factories.py."""
import pytest


@pytest.fixture
def pools(db):
    """The reference credit pools and their first published rule versions."""
    from matching.services import pools_seed

    return {pool.slug: pool for pool in pools_seed()}


@pytest.fixture
def staff_user(db):
    from tests.factories import StaffUserFactory

    return StaffUserFactory(username="staff")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.2 s a password; the suite only needs passwords to round-trip.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters live in the cache (Redis in CI): every test starts with none.
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def celery_eager():
    """Celery tasks queued in the test run in-process (e.g. the founder's status email)."""
    from cloudroute.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous
