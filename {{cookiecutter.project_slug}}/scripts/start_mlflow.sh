#!/usr/bin/env bash
# MLflow tracking server and UI on http://127.0.0.1:5000, in this terminal, with
# the same settings as `{{ cookiecutter.project_slug }} stack up` (the project's SQLite store and
# ./mlartifacts unless configured otherwise). Ctrl-C stops it.
# Clients reach it with MLFLOW_TRACKING_URI=http://127.0.0.1:5000.
set -euo pipefail
cd "$(dirname "$0")/.."

exec uv run --quiet {{ cookiecutter.project_slug }} stack run mlflow
