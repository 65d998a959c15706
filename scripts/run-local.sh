#!/usr/bin/env bash
# Starts the local Bedrock sandbox, a Celery worker (with beat) and the web server; stops them all on
# exit. Once the web server and the sandbox answer, prints the demo logins (var/demo-logins.txt,
# written by `manage.py load_demo`) last, below the worker's and the sandbox's banners.
#
# Ports come from the environment:
#   PORT          the web server (default 8000)
#   SANDBOX_PORT  the local Bedrock sandbox (default 8765); BEDROCK_ENDPOINT_URL follows it unless set
#                 (set it empty for real Bedrock)
# --dry-run prints the settings and commands it would run, and starts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

dry_run=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=1 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-local.sh: unknown argument '$arg' (only --dry-run)" >&2; exit 2 ;;
  esac
done

port_check() {  # name value
  if ! [[ "$2" =~ ^[0-9]{1,5}$ ]] || (( 10#$2 < 1 || 10#$2 > 65535 )); then
    echo "run-local.sh: $1 must be a port number from 1 to 65535, got '$2'" >&2
    exit 2
  fi
}

PORT="${PORT:-8000}"
SANDBOX_PORT="${SANDBOX_PORT:-8765}"
port_check PORT "$PORT"
port_check SANDBOX_PORT "$SANDBOX_PORT"
PORT=$((10#$PORT)); SANDBOX_PORT=$((10#$SANDBOX_PORT))
if [[ "$PORT" == "$SANDBOX_PORT" ]]; then
  echo "run-local.sh: PORT and SANDBOX_PORT are both $PORT; give them different ports" >&2
  exit 2
fi
# Unset follows the sandbox; set (also to empty, meaning real Bedrock) is kept as it is.
BEDROCK_ENDPOINT_URL="${BEDROCK_ENDPOINT_URL-http://127.0.0.1:$SANDBOX_PORT}"
# The sandbox's local S3 store for batch bake-offs: the port after the sandbox's unless set.
SANDBOX_S3_PORT="${SANDBOX_S3_PORT:-$((SANDBOX_PORT + 1))}"
port_check SANDBOX_S3_PORT "$SANDBOX_S3_PORT"
BAKEOFF_BATCH_S3_ENDPOINT_URL="${BAKEOFF_BATCH_S3_ENDPOINT_URL-http://127.0.0.1:$SANDBOX_S3_PORT}"
export PORT SANDBOX_PORT BEDROCK_ENDPOINT_URL SANDBOX_S3_PORT BAKEOFF_BATCH_S3_ENDPOINT_URL
VAR_DIR="${CLOUDROUTE_VAR_DIR:-var}"
LOGINS="$VAR_DIR/demo-logins.txt"

sandbox_cmd=(python manage.py bedrock_sandbox --port "$SANDBOX_PORT" --s3-port "$SANDBOX_S3_PORT" --script demo/sandbox-script.jsonl
             --model-behaviour "$(cat demo/sandbox-models.json)")
# -B embeds beat: the periodic sweeps (intakes left waiting, stuck bake-off runs) run locally too.
worker_cmd=(celery -A cloudroute worker -B --schedule "$VAR_DIR/celerybeat-schedule" --loglevel=INFO --concurrency=2)
web_cmd=(python manage.py runserver "127.0.0.1:$PORT")

if (( dry_run )); then
  echo "PORT=$PORT"
  echo "SANDBOX_PORT=$SANDBOX_PORT"
  echo "BEDROCK_ENDPOINT_URL=$BEDROCK_ENDPOINT_URL"
  echo "SANDBOX_S3_PORT=$SANDBOX_S3_PORT"
  echo "sandbox: ${sandbox_cmd[*]:0:5}"
  echo "worker: ${worker_cmd[*]}"
  echo "web: ${web_cmd[*]}"
  echo "then: the demo logins from $LOGINS"
  exit 0
fi

pids=()
# Stops what it started: SIGTERM to each, up to 30 s for the worker's warm shutdown, then SIGKILL.
cleanup() {
  trap - EXIT INT TERM
  kill "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "${pids[@]}" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# The sandbox answers the demo eval set (demo/support-eval-set.jsonl) with per-model accuracy,
# so a first bake-off shows a real spread between the models.
"${sandbox_cmd[@]}" &
pids+=($!)
mkdir -p "$VAR_DIR"
# The worker in a process group of its own: a signal sent to this script's whole group (Ctrl-C,
# kill -- -PGID) reaches only its main process, through cleanup. Signalled directly, its pool
# processes die under it and billiard's pool waits forever for a lock one of them held.
setsid "${worker_cmd[@]}" &
pids+=($!)
"${web_cmd[@]}" &
pids+=($!)

answers() {  # port: true once something listens on 127.0.0.1:port
  python -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null
}
for _ in $(seq 1 "${RUN_LOCAL_WAIT_SECONDS:-60}"); do
  if answers "$PORT" && answers "$SANDBOX_PORT"; then break; fi
  sleep 1
done
sleep "${RUN_LOCAL_SETTLE_SECONDS:-3}"  # let the worker finish its start-up lines first

echo
echo "================================================================================"
echo "CloudRoute: http://127.0.0.1:$PORT  (admin: http://127.0.0.1:$PORT/admin/)"
echo "Bedrock sandbox: $BEDROCK_ENDPOINT_URL"
if [[ -r "$LOGINS" ]]; then
  cat "$LOGINS"
  echo "(kept in $LOGINS, readable only by you; \`make demo\` makes new passwords)"
else
  echo "No demo logins in $LOGINS: run \`make demo\` for a fresh set."
fi
echo "================================================================================"
wait -n
