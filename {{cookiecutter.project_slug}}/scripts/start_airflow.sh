#!/usr/bin/env bash
# Airflow 3 on http://127.0.0.1:8080 in this terminal: api-server, scheduler,
# dag-processor and triggerer, with the same settings as `{{ cookiecutter.project_slug }} stack up`
# (project dags folder, small LocalExecutor, per-project JWT secret in .stack/).
# Ctrl-C stops every process it started.
set -euo pipefail
cd "$(dirname "$0")/.."

exec uv run --quiet {{ cookiecutter.project_slug }} stack run api-server scheduler dag-processor triggerer
