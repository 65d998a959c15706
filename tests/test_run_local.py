"""`make run` (scripts/run-local.sh) takes its ports from the environment, points the Bedrock endpoint
at the sandbox's port unless told otherwise, refuses a bad port by name, and prints the demo logins
last, once the sandbox, the worker and the web server have printed their start-up lines. The settings
follow the same variables."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "run-local.sh"
_CLEARED = ("PORT", "SANDBOX_PORT", "SANDBOX_S3_PORT", "BAKEOFF_BATCH_S3_ENDPOINT_URL", "BEDROCK_ENDPOINT_URL",
            "CLOUDROUTE_VAR_DIR")


def run(*args, **env):
    base = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    return subprocess.run([str(SCRIPT), *args], env={**base, **env}, capture_output=True, text=True, timeout=30)


def dry(**env) -> dict[str, str]:
    result = run("--dry-run", **env)
    assert result.returncode == 0, result.stderr
    return dict(line.split("=", 1) if "=" in line.split(":")[0] else line.split(": ", 1)
                for line in result.stdout.splitlines())


def test_defaults_are_8000_and_8765():
    plan = dry()
    assert (plan["PORT"], plan["SANDBOX_PORT"]) == ("8000", "8765")
    assert plan["BEDROCK_ENDPOINT_URL"] == "http://127.0.0.1:8765"
    assert plan["web"].endswith("runserver 127.0.0.1:8000")
    assert "--port 8765" in plan["sandbox"]


def test_ports_come_from_the_environment_and_the_endpoint_follows_the_sandbox():
    plan = dry(PORT="9123", SANDBOX_PORT="9456")
    assert plan["web"].endswith("runserver 127.0.0.1:9123")
    assert "--port 9456" in plan["sandbox"]
    assert plan["BEDROCK_ENDPOINT_URL"] == "http://127.0.0.1:9456"


def test_the_sandboxs_s3_store_takes_the_next_port_so_two_runs_do_not_collide():
    assert dry()["SANDBOX_S3_PORT"] == "8766"
    assert dry(SANDBOX_PORT="9456")["SANDBOX_S3_PORT"] == "9457"
    assert dry(SANDBOX_PORT="9456", SANDBOX_S3_PORT="9999")["SANDBOX_S3_PORT"] == "9999"


def test_an_endpoint_that_is_set_is_kept_even_empty_for_real_bedrock():
    assert dry(SANDBOX_PORT="9456", BEDROCK_ENDPOINT_URL="http://sandbox.internal:1")["BEDROCK_ENDPOINT_URL"] == (
        "http://sandbox.internal:1")
    assert dry(BEDROCK_ENDPOINT_URL="")["BEDROCK_ENDPOINT_URL"] == ""


@pytest.mark.parametrize("env, named", [
    ({"PORT": "abc"}, "PORT"), ({"PORT": "0"}, "PORT"), ({"SANDBOX_PORT": "70000"}, "SANDBOX_PORT"),
    ({"PORT": "8000; rm -rf /"}, "PORT"), ({"PORT": "9000", "SANDBOX_PORT": "9000"}, "SANDBOX_PORT"),
])
def test_a_bad_port_is_refused_by_name(env, named):
    result = run("--dry-run", **env)
    assert result.returncode == 2
    assert named in result.stderr and result.stdout == ""


def test_an_unknown_argument_is_refused():
    result = run("--port=1")
    assert result.returncode == 2 and "--dry-run" in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FAKE_PYTHON = """#!/usr/bin/env bash
# manage.py bedrock_sandbox / runserver: a banner, then listen on the port; anything else: real python.
if [[ "$1" == manage.py && "$2" == bedrock_sandbox ]]; then
  echo "SANDBOX BANNER on $4"; exec {python} -m http.server "$4" --bind 127.0.0.1 >/dev/null 2>&1
elif [[ "$1" == manage.py && "$2" == runserver ]]; then
  sleep 1; echo "WEB BANNER on $3"; exec {python} -m http.server "${{3##*:}}" --bind 127.0.0.1 >/dev/null 2>&1
fi
exec {python} "$@"
"""
FAKE_CELERY = """#!/usr/bin/env bash
echo "WORKER BANNER"; sleep 2; echo "celery@local ready."; exec sleep 600
"""


def test_the_demo_logins_are_printed_last_after_every_banner(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("python", FAKE_PYTHON.format(python=sys.executable)), ("celery", FAKE_CELERY)):
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    var = tmp_path / "var"
    var.mkdir()
    (var / "demo-logins.txt").write_text("CloudRoute demo logins:\n  staff  staff  s3cret-password\n")
    port, sandbox_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env.update(PATH=f"{bin_dir}:{env['PATH']}", PORT=str(port), SANDBOX_PORT=str(sandbox_port),
               CLOUDROUTE_VAR_DIR=str(var), RUN_LOCAL_SETTLE_SECONDS="3")
    process = subprocess.Popen([str(SCRIPT)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    lines = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line.rstrip("\n"))
            if line.startswith("(kept in"):
                break
        time.sleep(1)
    finally:
        process.terminate()  # its trap stops the children, which closes the pipe
        rest = process.stdout.read()  # what was printed after the logins (through the same buffer)
        process.wait(timeout=15)
    output = "\n".join(lines) + "\n" + rest

    logins_at = output.index("s3cret-password")
    for banner in (f"SANDBOX BANNER on {sandbox_port}", f"WEB BANNER on 127.0.0.1:{port}", "WORKER BANNER",
                   "celery@local ready."):
        assert output.index(banner) < logins_at, output
    assert f"CloudRoute: http://127.0.0.1:{port}" in output
    assert f"Bedrock sandbox: http://127.0.0.1:{sandbox_port}" in output
    assert output.rstrip().endswith("=" * 80), output  # nothing after the logins block
    assert process.returncode is not None



FAKE_CELERY_RECORDING = """#!/usr/bin/env bash
echo "$$ $(ps -o pgid= -p $$ | tr -d ' ')" > "{record}"
echo "WORKER BANNER"; echo "celery@local ready."; exec sleep 600
"""


def test_a_signal_to_the_whole_group_reaches_the_worker_only_through_the_script(tmp_path):
    """Signalled directly (kill -- -PGID), a real worker's pool processes die under it and billiard's
    pool hangs on a lock one of them held: the worker has a process group of its own, and the script
    stops it (and everything else) when it is stopped."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "worker"
    for name, body in (("python", FAKE_PYTHON.format(python=sys.executable)),
                       ("celery", FAKE_CELERY_RECORDING.format(record=record))):
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env.update(PATH=f"{bin_dir}:{env['PATH']}", PORT=str(_free_port()), SANDBOX_PORT=str(_free_port()),
               CLOUDROUTE_VAR_DIR=str(tmp_path / "var"), RUN_LOCAL_SETTLE_SECONDS="0")
    process = subprocess.Popen([str(SCRIPT)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # up: the banner block is printed once everything answers
            if process.stdout.readline().startswith("CloudRoute: http://"):
                break
        worker_pid, worker_pgid = map(int, record.read_text().split())
        assert worker_pgid != os.getpgid(process.pid)
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=40)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(worker_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(worker_pid, signal.SIGKILL)
        raise AssertionError("the worker outlived the script")
