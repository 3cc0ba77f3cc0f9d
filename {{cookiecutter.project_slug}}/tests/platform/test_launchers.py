"""The MLflow launcher and the Airflow REST client answer without a running stack."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.platform.airflow_api import task_states, trigger
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, load_settings


def test_the_mlflow_launcher_runs_mlflow_s_own_server_command(capsys, monkeypatch):
    # In this process, which has MLflow loaded already: a new interpreter cost 8 s of imports.
    import mlflow.server

    from {{ cookiecutter.package_name }}.platform import mlflow_server

    # main() swaps MLflow's spawn for an exec: MLflow's own is put back after the test.
    original = getattr(mlflow.server, "_exec_cmd", None)
    monkeypatch.setattr(mlflow.server, "_exec_cmd", original, raising=False)
    monkeypatch.setenv("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")  # as the stack sets it
    with pytest.raises(SystemExit) as exited:
        mlflow_server.main(["--help"])
    assert exited.value.code == 0
    assert "--backend-store-uri" in capsys.readouterr().out
    assert mlflow.server._exec_cmd is mlflow_server._exec_server


def test_the_mlflow_launcher_keeps_mlflow_s_spawn_when_its_job_runner_is_on(monkeypatch):
    # MLflow starts the job runner after spawning the server: an exec would skip it.
    import mlflow.server

    from {{ cookiecutter.package_name }}.platform import mlflow_server

    original = mlflow.server._exec_cmd
    monkeypatch.setattr(mlflow.server, "_exec_cmd", original)
    monkeypatch.setenv("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "true")
    with pytest.raises(SystemExit):
        mlflow_server.main(["--help"])
    assert mlflow.server._exec_cmd is original


def test_trigger_before_stack_up_says_to_start_it(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv(f"{ENV_PREFIX}STACK_DIR", str(tmp_path / "stack"))
    with pytest.raises(PipelineError, match="run `stack up` first"):
        trigger(load_settings(), "any_dag", {}, wait=False, timeout=1)


def test_trigger_refuses_a_conf_that_is_not_json(capsys):
    assert cli.main(["trigger", "any_dag", "--conf", "{shard_rows: 1}"]) == 2
    assert "--conf is not JSON" in capsys.readouterr().err


def test_a_mapped_task_reports_the_states_of_its_shards():
    instances = [
        {"task_id": "merge_shards", "state": "success"},
        *({"task_id": "batch_predict", "state": state} for state in ["success"] * 3),
    ]
    assert task_states(instances) == {"merge_shards": "success", "batch_predict": "success"}
    instances.append({"task_id": "batch_predict", "state": "failed"})
    assert task_states(instances)["batch_predict"] == "failed: 1, success: 3"
