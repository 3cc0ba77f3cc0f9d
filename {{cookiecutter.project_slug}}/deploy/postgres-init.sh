#!/usr/bin/env bash
# Runs once, when the PostgreSQL volume is new: one database and one owner for
# Airflow, another for MLflow (both use Alembic; one schema would collide).
# The passwords come from deploy/.env through compose.yaml. psql quotes them
# as literals (:'name'), so a quote in a password cannot break the SQL.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username postgres \
    -v airflow_password="${AIRFLOW_DB_PASSWORD:?set it in deploy/.env}" \
    -v mlflow_password="${MLFLOW_DB_PASSWORD:?set it in deploy/.env}" <<'SQL'
CREATE USER airflow WITH PASSWORD :'airflow_password';
CREATE DATABASE airflow OWNER airflow;
CREATE USER mlflow WITH PASSWORD :'mlflow_password';
CREATE DATABASE mlflow OWNER mlflow;
SQL
