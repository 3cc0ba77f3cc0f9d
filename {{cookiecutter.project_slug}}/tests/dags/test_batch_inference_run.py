"""Train, then run the batch-inference DAG with dag.test() on real stores."""

from __future__ import annotations

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.orchestration import BATCH_INFERENCE_DAG_ID
from {{ cookiecutter.package_name }}.tracking.client import connect
{%- if cookiecutter.data_source == "demo" %}
from tests.conftest import run_dag
{%- else %}
from tests.conftest import invented_day, run_dag
{%- endif %}

DAY = "2026-06-15"
{%- if cookiecutter.data_source != "demo" %}
ROWS = 500
{%- endif %}


@pytest.fixture
def dag(dags):
    return dags[BATCH_INFERENCE_DAG_ID]


def batch_rows(settings) -> int:
{%- if cookiecutter.data_source == "demo" %}
    return settings.data.batch_size  # the demo invents them in the run
{%- else %}
    return ROWS
{%- endif %}


def run_once(dag, settings, shards: int):
    """One run, its batch cut into ``shards`` shards by the run's shard_rows."""
    rows = batch_rows(settings)
{%- if cookiecutter.data_source != "demo" %}
    invented_day(settings, DAY, rows)
{%- endif %}
    dag_run = run_dag(dag, DAY, conf={"shard_rows": -(-rows // shards)})
    instances = dag_run.get_task_instances()
    mapped = sorted(
        (ti.map_index, ti.rendered_map_index) for ti in instances if ti.task_id == "batch_predict"
    )
    assert [index for index, _ in mapped] == list(range(shards))
    # Airflow lists each shard under its name, not a bare index.
    assert mapped[-1][1].startswith(f"shard {shards} of {shards} (rows ")
    states = {ti.task_id: ti.state for ti in instances}
    # Stable batches request no retraining: that task is skipped, not failed;
    # shadow promotion is off by default.
    assert states.pop("request_retraining") == "skipped"
    assert states.pop("promote_challenger") == "skipped"
    assert set(states.values()) == {"success"}, states
    assert len(states) == {% if cookiecutter.data_source == "demo" %}7{% else %}8  # publish_predictions too{% endif %}
    return dag_run


def part_files(data_dir):
    return [
        part.name
        for part in storage.part_files(storage.partition_dir(data_dir, storage.PREDICTIONS, DAY))
    ]


def test_dag_run_end_to_end(dag, champion, session_settings):
    data_dir = session_settings.data.data_dir
    expired = (
        storage.partition_dir(data_dir, storage.PREDICTIONS, "2026-01-01") / "part-00000.parquet"
    )
    kept = storage.partition_dir(data_dir, storage.PREDICTIONS, "2026-06-01") / "part-00000.parquet"
    for path in (expired, kept):
        storage.write_text("placeholder", path)

    # Two shards: two mapped batch_predict tasks, one merged run. That a rerun
    # in another shard count replaces it bit for bit: steps/test_shards.py.
    dag_run = run_once(dag, session_settings, shards=2)

    assert part_files(data_dir) == [f"part-0000{index}.parquet" for index in range(2)]
    predictions = storage.read_parts(storage.partition_dir(data_dir, storage.PREDICTIONS, DAY))
    assert len(predictions) == batch_rows(session_settings)
    assert predictions["id"].is_unique
    assert (predictions["model_version"] == champion["model_version"]).all()
    # The day's label requests, beside its predictions{% if cookiecutter.data_source == "demo" %} (the demo's labeller reads them){% endif %}.
    requests = pd.read_csv(
        storage.partition_dir(data_dir, storage.PREDICTIONS, DAY) / storage.LABEL_REQUESTS_FILE
    )
    data = session_settings.data
    assert len(requests) == min(data.label_requests_per_day, batch_rows(session_settings))
    assert set(requests["id"]) <= set(predictions["id"]) and set(requests["ds"]) == {DAY}
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
    assert run.data.metrics["prediction_count"] == batch_rows(session_settings)
    assert run.data.metrics["shards"] == 2

    monitoring = client.get_experiment_by_name(session_settings.monitoring_experiment)
    [monitor_run] = client.search_runs([monitoring.experiment_id], f"tags.logical_date = '{DAY}'")
    assert "alert_count" in monitor_run.data.metrics
    summary = storage.read_json(
        storage.partition_dir(data_dir, storage.REPORTS, DAY) / "summary.json"
    )
    assert summary["predictions"] == batch_rows(session_settings)
