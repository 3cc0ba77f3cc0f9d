"""The local stack as a person uses it: up, train, trigger over REST, check MLflow, down."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest

from {{ cookiecutter.package_name }} import stack
from {{ cookiecutter.package_name }}.airflow_api import trigger
from {{ cookiecutter.package_name }}.orchestration import BATCH_INFERENCE_DAG_ID
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, load_settings

pytestmark = pytest.mark.stack


def mlflow_api(path: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.MLFLOW_PORT}/api/2.0/mlflow/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_stack_up_trigger_and_down(tmp_path, monkeypatch):
    monkeypatch.setenv(f"{ENV_PREFIX}STACK_DIR", str(tmp_path / "stack"))
    monkeypatch.setenv(f"{ENV_PREFIX}BATCH_SIZE", "200")
    settings = load_settings()
    # Train straight into the store the tracking server will serve.
    subprocess.run([sys.executable, "-m", "{{ cookiecutter.package_name }}", "train"], check=True)

    try:
        started = stack.up(settings)
        assert set(started["started"]) == {
            "mlflow",
            "api-server",
            "scheduler",
            "dag-processor",
            "triggerer",
        }
        again = stack.up(settings)
        assert again["started"] == []

        run = trigger(settings, BATCH_INFERENCE_DAG_ID, {"batch_size": 200}, wait=True, timeout=600)
        assert run["state"] == "success", run
        assert run["tasks"]["batch_predict"] == "success"

        experiments = mlflow_api("experiments/search", {"max_results": 100})["experiments"]
        [inference] = [e for e in experiments if e["name"] == settings.inference_experiment]
        runs = mlflow_api("runs/search", {"experiment_ids": [inference["experiment_id"]]})["runs"]
        metrics = {m["key"]: m["value"] for m in runs[0]["data"]["metrics"]}
        assert metrics["prediction_count"] == 200
        assert "average_confidence" in metrics
    finally:
        groups = [int(p.read_text()) for p in (tmp_path / "stack" / "pids").glob("*.pid")]
        stack.down(settings)
    assert groups
    assert not [pgid for pgid in groups if stack.group_alive(pgid)]
