"""deploy/compose.yaml, checked by a real Compose parser for each executor.

There is no container engine in CI, so this is as far as Compose goes here;
the production profile itself runs as native processes in the generated
project's `production` tests.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import CONTEXT

COMMON = {
    "postgres",
    "mlflow",
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
}


def compose(deploy, *args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is missing: apt-get install docker-compose (.ci/run does)"
    return subprocess.run(
        [binary, "--env-file", ".env", "-f", "compose.yaml", *args],
        cwd=deploy,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("executor", CONTEXT["executor"])
def test_compose_file_is_valid_and_has_no_default_secrets(bake, executor):
    deploy = bake(executor=executor) / "deploy"
    example = (deploy / ".env.example").read_text()

    # As shipped, every secret is empty and Compose refuses to go on.
    (deploy / ".env").write_text(example)
    refused = compose(deploy, "config", "-q")
    assert refused.returncode != 0
    assert "set it in deploy/.env" in refused.stderr

    filled = re.sub(r"^(\w+)=$", r"\1=test-\1", example, flags=re.MULTILINE)
    (deploy / ".env").write_text(filled)
    rendered = compose(deploy, "config")
    assert rendered.returncode == 0, rendered.stderr
    config = yaml.safe_load(rendered.stdout)
    celery = {"redis", "airflow-worker"} if executor == "celery" else set()
    assert set(config["services"]) == COMMON | celery
    for name, service in config["services"].items():
        # Published only on loopback: an authenticating proxy goes in front.
        for port in service.get("ports", []):
            assert "127.0.0.1" in str(port), (name, port)
    scheduler = config["services"]["airflow-scheduler"]["environment"]
    # Airflow's own setting: the containers start Airflow, not the project's `stack`.
    airflow_executor = {"local": "LocalExecutor", "celery": "CeleryExecutor"}[executor]
    assert scheduler["AIRFLOW__CORE__EXECUTOR"] == airflow_executor
    assert scheduler.get("SENTIMENT_PIPELINE_EXECUTOR") == ("celery" if executor == "celery" else None)
    assert scheduler["SENTIMENT_PIPELINE_PROFILE"] == "production"
    # Separate databases: both tools keep an Alembic version table.
    airflow_db = scheduler["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    mlflow_db = config["services"]["mlflow"]["environment"]["MLFLOW_BACKEND_STORE_URI"]
    assert airflow_db.rsplit("/", 1)[1] != mlflow_db.rsplit("/", 1)[1]
    assert scheduler["MLFLOW_TRACKING_URI"].startswith("http://")
    # Each service gets the secrets it needs, none on a command line.
    secrets = {
        name: f"test-{name}" for name in ("POSTGRES_PASSWORD", "AIRFLOW_DB_PASSWORD", "MLFLOW_DB_PASSWORD")
    }
    needs = {
        "POSTGRES_PASSWORD": {"postgres"},
        "AIRFLOW_DB_PASSWORD": {"postgres"} | {n for n in config["services"] if "airflow" in n},
        "MLFLOW_DB_PASSWORD": {"postgres", "mlflow"},
    }
    for name, service in config["services"].items():
        assert "env_file" not in service, name
        environment = " ".join(str(v) for v in (service.get("environment") or {}).values())
        for secret, value in secrets.items():
            assert (value in environment) == (name in needs[secret]), (name, secret)
            assert value not in " ".join(map(str, service.get("command") or [])), (name, secret)
    for name, service in config["services"].items():
        if "build" in service:  # the project's image: MLflow or Airflow
            # No MLflow loader may unpickle, even where tasks load the champion.
            assert service["environment"]["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] == "false", name
