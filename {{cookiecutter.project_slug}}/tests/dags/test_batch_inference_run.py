"""Train, then run the batch-inference DAG with dag.test() on real stores."""

from __future__ import annotations

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.orchestration import BATCH_INFERENCE_DAG_ID
from {{ cookiecutter.package_name }}.tracking.client import connect
from tests.conftest import run_dag

DAY = "2026-06-15"


@pytest.fixture
def dag(dags):
    return dags[BATCH_INFERENCE_DAG_ID]


def run_once(dag):
    dag_run = run_dag(dag, DAY)
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    # Stable batches request no retraining: that task is skipped, not failed.
    assert states.pop("request_retraining") == "skipped"
    assert set(states.values()) == {"success"}, states
    assert len(states) == 5
    return dag_run


def test_dag_run_end_to_end(dag, champion, session_settings):
    data_dir = session_settings.data.data_dir
    expired = (
        storage.partition_dir(data_dir, storage.PREDICTIONS, "2026-01-01") / "predictions.parquet"
    )
    kept = (
        storage.partition_dir(data_dir, storage.PREDICTIONS, "2026-06-01") / "predictions.parquet"
    )
    for path in (expired, kept):
        storage.write_text("placeholder", path)

    dag_run = run_once(dag)

    predictions = pd.read_parquet(
        storage.partition_dir(data_dir, storage.PREDICTIONS, DAY) / "predictions.parquet"
    )
    assert len(predictions) == session_settings.data.batch_size
    assert (predictions["model_version"] == champion["model_version"]).all()
    assert not expired.exists()
    assert kept.exists()

    client = connect(session_settings)
    inference = client.get_experiment_by_name(session_settings.inference_experiment)
    [run] = client.search_runs([inference.experiment_id], f"tags.logical_date = '{DAY}'")
    assert run.data.tags["dag_run_id"] == dag_run.run_id
    assert run.data.tags["model_version"] == champion["model_version"]
    for metric in (
        "average_confidence",
        "low_confidence_predictions",
        "high_confidence_predictions",
        "low_confidence_percentage",
        "predictions_positive",
        "predictions_negative_percentage",
    ):
        assert metric in run.data.metrics
    assert run.data.metrics["prediction_count"] == session_settings.data.batch_size

    monitoring = client.get_experiment_by_name(session_settings.monitoring_experiment)
    [monitor_run] = client.search_runs([monitoring.experiment_id], f"tags.logical_date = '{DAY}'")
    assert "alert_count" in monitor_run.data.metrics
    summary = storage.read_json(
        storage.partition_dir(data_dir, storage.REPORTS, DAY) / "summary.json"
    )
    assert summary["predictions"] == session_settings.data.batch_size

    # A rerun of the same logical date replaces its outputs and runs.
    run_once(dag)
    runs = client.search_runs([inference.experiment_id], f"tags.logical_date = '{DAY}'")
    assert len(runs) == 1 and runs[0].info.run_id != run.info.run_id
    rerun = pd.read_parquet(
        storage.partition_dir(data_dir, storage.PREDICTIONS, DAY) / "predictions.parquet"
    )
    assert len(rerun) == session_settings.data.batch_size
