#!/usr/bin/env bash
# Airflow 3 on http://127.0.0.1:8080: api-server, scheduler, dag-processor and
# triggerer, with the project's dags folder, no examples and a LocalExecutor
# sized for a laptop. Ctrl-C stops every process this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(uv run --quiet {{ cookiecutter.project_slug }} env)"
port="${AIRFLOW_PORT:-8080}"
mkdir -p "${AIRFLOW_HOME}/logs"

# The components sign each other's tokens with one secret; keep it per
# project, out of git (.airflow/ is ignored), and stable across restarts.
secret_file="${AIRFLOW_HOME}/jwt_secret"
if [[ ! -s "${secret_file}" ]]; then
    (umask 077 && uv run --quiet python -c 'import secrets; print(secrets.token_urlsafe(32))' >"${secret_file}")
fi
export AIRFLOW__API_AUTH__JWT_SECRET="${AIRFLOW__API_AUTH__JWT_SECRET:-$(cat "${secret_file}")}"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="${AIRFLOW__CORE__EXECUTION_API_SERVER_URL:-http://127.0.0.1:${port}/execution/}"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:-admin:admin}"

uv run --quiet airflow db migrate >"${AIRFLOW_HOME}/logs/db-migrate.log"

# Each component runs in its own process group (set -m), so stopping a
# group also stops the workers that component forked.
set -m
pids=()
start() {
    local name="$1"
    shift
    uv run --quiet airflow "$@" >"${AIRFLOW_HOME}/logs/${name}.log" 2>&1 &
    pids+=("$!")
    echo "started ${name} (pid $!, log ${AIRFLOW_HOME}/logs/${name}.log)"
}

stop() {
    trap - INT TERM EXIT
    echo "stopping Airflow..."
    for pid in "${pids[@]}"; do
        kill -TERM -- "-${pid}" 2>/dev/null || true
    done
    wait || true
    exit "$1"
}
trap 'stop 0' INT TERM
trap 'stop 1' EXIT

start api-server api-server --host 127.0.0.1 --port "${port}"
start scheduler scheduler
start dag-processor dag-processor
start triggerer triggerer

echo "Airflow UI: http://127.0.0.1:${port}  user: admin"
echo "Password: ${AIRFLOW_HOME}/simple_auth_manager_passwords.json.generated (written once the api-server is up)"
echo "Press Ctrl-C to stop."
wait -n "${pids[@]}" || true
echo "an Airflow component exited; stopping the others (logs: ${AIRFLOW_HOME}/logs)" >&2
exit 1
