"""The sandbox tests use the same sandbox fixtures as the bake-off tests."""
from tests.bakeoff_jobs.conftest import _sandbox_server, bedrock_sandbox  # noqa: F401 - fixtures
