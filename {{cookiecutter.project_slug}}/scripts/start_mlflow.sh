#!/usr/bin/env bash
# MLflow tracking server and UI on http://127.0.0.1:5000, backed by the
# project's own store (SQLite and ./mlartifacts unless configured otherwise).
# Clients reach it with MLFLOW_TRACKING_URI=http://127.0.0.1:5000.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(uv run --quiet {{ cookiecutter.project_slug }} env)"
port="${MLFLOW_PORT:-5000}"

echo "MLflow UI: http://127.0.0.1:${port}  (store: ${MLFLOW_BACKEND_STORE_URI})"
exec uv run --quiet mlflow server \
    --backend-store-uri "${MLFLOW_BACKEND_STORE_URI}" \
    --artifacts-destination "${MLFLOW_ARTIFACTS_DESTINATION}" \
    --host 127.0.0.1 --port "${port}" --workers 1
