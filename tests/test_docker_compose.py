"""`docker compose up` is safe and complete: no debug or published secret by default, hosts from the
environment, the schema migrated before anything serves, the sandbox the demo needs, beat's
schedule on a volume, and one Redis database per use."""
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _env(service: dict) -> dict:
    return service.get("environment", {})


APP_SERVICES = ("web", "worker", "beat")


def test_debug_is_off_unless_asked(compose):
    for name in (*APP_SERVICES, "migrate"):
        assert _env(compose["services"][name])["DJANGO_DEBUG"] == "${DJANGO_DEBUG:-0}"


def test_a_secret_key_is_required_not_defaulted(compose):
    for name in (*APP_SERVICES, "migrate"):
        key = _env(compose["services"][name])["DJANGO_SECRET_KEY"]
        assert re.fullmatch(r"\$\{DJANGO_SECRET_KEY:\?.+\}", key), key


def test_hosts_come_from_the_environment_without_a_wildcard(compose):
    for name in APP_SERVICES:
        hosts = _env(compose["services"][name])["DJANGO_ALLOWED_HOSTS"]
        assert hosts.startswith("${DJANGO_ALLOWED_HOSTS")
        assert "*" not in hosts


def test_web_is_published_on_loopback_only(compose):
    assert all(port.startswith("127.0.0.1:") for port in compose["services"]["web"]["ports"])


def test_migrations_finish_before_web_worker_and_beat_start(compose):
    services = compose["services"]
    assert "migrate" in services["migrate"]["command"]
    for name in APP_SERVICES:
        assert "migrate" not in str(services[name]["command"])
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_a_sandbox_serves_bedrock_to_the_other_containers(compose):
    services = compose["services"]
    command = services["sandbox"]["command"]
    assert "bedrock_sandbox" in command and "--host 0.0.0.0" in command and "--port 8765" in command
    assert "demo/sandbox-script.jsonl" in command  # the demo eval set gets its scripted answers
    assert "ports" not in services["sandbox"]  # not published on the host
    for name in APP_SERVICES:
        assert _env(services[name])["BEDROCK_ENDPOINT_URL"] == "${BEDROCK_ENDPOINT_URL-http://sandbox:8765}"
    assert "sandbox" in services["worker"]["depends_on"]


def test_beats_schedule_is_on_a_named_volume(compose):
    beat = compose["services"]["beat"]
    schedule = re.search(r"--schedule (\S+)", beat["command"]).group(1)
    volume, _, mount = beat["volumes"][0].partition(":")
    assert volume in compose["volumes"]
    assert schedule.startswith(mount.rstrip("/") + "/")
    # The image creates the mount point as the unprivileged user, so the volume is writable.
    assert f"mkdir -p {mount}" in (ROOT / "Dockerfile").read_text()


def test_redis_is_one_server_laid_out_by_the_settings(compose):
    for name in (*APP_SERVICES, "migrate"):
        env = _env(compose["services"][name])
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert "CELERY_BROKER_URL" not in env and "CACHE_REDIS_URL" not in env


def test_a_worker_that_exits_is_started_again(compose):
    """kombu's consumer can end the worker on a Redis restart (README, Faults)."""
    assert compose["services"]["worker"]["restart"] == "unless-stopped"
