#!/usr/bin/env bash
# Starts the local Bedrock sandbox, a Celery worker (with beat) and the web server; stops them all on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# The sandbox answers the demo eval set (demo/support-eval-set.jsonl) with per-model accuracy,
# so a first bake-off shows a real spread between the models.
python manage.py bedrock_sandbox --port 8765 --script demo/sandbox-script.jsonl \
  --model-behaviour "$(cat demo/sandbox-models.json)" &
pids+=($!)
# -B embeds beat: the periodic sweeps (intakes left waiting, stuck bake-off runs) run locally too.
mkdir -p var
celery -A cloudroute worker -B --schedule var/celerybeat-schedule --loglevel=INFO --concurrency=2 &
pids+=($!)
python manage.py runserver 127.0.0.1:8000 &
pids+=($!)

echo "CloudRoute: http://127.0.0.1:8000  (admin: http://127.0.0.1:8000/admin/)"
wait -n
