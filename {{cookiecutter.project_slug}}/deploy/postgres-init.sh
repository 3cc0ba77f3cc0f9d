#!/usr/bin/env bash
# Runs once, when the PostgreSQL volume is new: one database and one owner for
# Airflow, another for MLflow (both use Alembic; one schema would collide).
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username postgres <<SQL
CREATE USER airflow WITH PASSWORD '${AIRFLOW_DB_PASSWORD}';
CREATE DATABASE airflow OWNER airflow;
CREATE USER mlflow WITH PASSWORD '${MLFLOW_DB_PASSWORD}';
CREATE DATABASE mlflow OWNER mlflow;
SQL
